"""Parameter snapshots: a running job's newest parameters and its scheduled ones, and a model's.

Jobs gain ``snapshot_epoch`` and ``snapshot`` (the newest parameters, written with every
progress write) and ``snapshots`` (the scheduled snapshots a replay draws); models gain
``snapshots``. Every new column is nullable: rows from before this revision have none, and
a model without snapshots has no replay.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(sa.Column("snapshot_epoch", sa.Integer(), nullable=True))
        jobs.add_column(sa.Column("snapshot", sa.LargeBinary(), nullable=True))
        jobs.add_column(sa.Column("snapshots", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("models") as models:
        models.add_column(sa.Column("snapshots", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("models") as models:
        models.drop_column("snapshots")
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("snapshots")
        jobs.drop_column("snapshot")
        jobs.drop_column("snapshot_epoch")
