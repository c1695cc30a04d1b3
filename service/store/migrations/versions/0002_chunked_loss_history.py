"""A job's loss history is stored as appended chunks, no longer rewritten whole at each write.

Each job's whole-history blob (``jobs.loss_history``) becomes its one chunk, under the seq its
``history_version`` had reached (so the next chunk a worker appends follows it, and readers
keep their versions), and the column is dropped. Models keep their whole history: it is
written once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_loss_chunks",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_epoch", sa.Integer(), nullable=False),
        sa.Column("history", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "seq"),
    )
    # A blob written before jobs had a history_version (early v1) counts as the first chunk.
    op.execute(
        "UPDATE jobs SET history_version = 1 WHERE loss_history IS NOT NULL AND history_version < 1"
    )
    op.execute(
        "INSERT INTO job_loss_chunks (job_id, seq, first_epoch, history) "
        "SELECT id, history_version - 1, 0, loss_history FROM jobs "
        "WHERE loss_history IS NOT NULL"
    )
    # Plain ALTER TABLE (SQLite 3.35 and later), so that the jobs table is not copied.
    op.execute("ALTER TABLE jobs DROP COLUMN loss_history")


def downgrade() -> None:
    """Back to one blob per job: the newest chunk that starts at the first epoch (the whole
    history of a job migrated from 0001; later chunks of a job that ran since are dropped)."""
    op.add_column("jobs", sa.Column("loss_history", sa.LargeBinary(), nullable=True))
    op.execute(
        "UPDATE jobs SET loss_history = (SELECT c.history FROM job_loss_chunks c "
        "WHERE c.job_id = jobs.id AND c.first_epoch = 0 ORDER BY c.seq DESC LIMIT 1)"
    )
    op.drop_table("job_loss_chunks")
