"""The model registry: registered names with versions, descriptions, tags and aliases.

Models gain ``version``, ``description`` and ``tags``; ``registered_models`` holds each name's
description, tags and last version issued; ``model_aliases`` maps (name, alias) to a version.
The v1 models whose names are registrable become versions of those names, 1, 2, ... in the
order they were created; the others keep their names as labels and stay reachable by id.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import re
from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The rule for registered names as of this revision (service.domain.references), frozen here.
_REGISTRABLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_MODEL_ID = re.compile(r"^[0-9a-f]{32}$")


def upgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=True))
        batch.create_unique_constraint("uq_models_name_version", ["name", "version"])
    registered = op.create_table(
        "registered_models",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "model_aliases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["name"], ["registered_models.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("name", "alias"),
    )
    _register_named_models(registered)


def _register_named_models(registered: sa.Table) -> None:
    """Number the models of each registrable name in creation order; register the names."""
    connection = op.get_bind()
    models = sa.table(
        "models",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("created_at", sa.DateTime),
        sa.column("version", sa.Integer),
    )
    rows = connection.execute(
        sa.select(models.c.id, models.c.name, models.c.created_at)
        .where(models.c.name.is_not(None))
        .order_by(models.c.created_at, models.c.id)
    ).all()
    versions: dict[str, int] = defaultdict(int)
    first_created: dict[str, datetime] = {}
    for model_id, name, created_at in rows:
        if _REGISTRABLE.match(name) is None or _MODEL_ID.match(name) is not None:
            continue
        versions[name] += 1
        first_created.setdefault(name, created_at or datetime.now(UTC))
        connection.execute(
            sa.update(models).where(models.c.id == model_id).values(version=versions[name])
        )
    if versions:
        op.bulk_insert(
            registered,
            [
                {"name": name, "created_at": first_created[name], "last_version": last}
                for name, last in versions.items()
            ],
        )


def downgrade() -> None:
    op.drop_table("model_aliases")
    op.drop_table("registered_models")
    with op.batch_alter_table("models") as batch:
        batch.drop_constraint("uq_models_name_version", type_="unique")
        batch.drop_column("tags")
        batch.drop_column("description")
        batch.drop_column("version")
