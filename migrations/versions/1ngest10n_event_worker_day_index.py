"""entry/exit events: index on (worker, day) for the ingest's next-night check and history derivation

Revision ID: 1ngest10n
Revises: 6bd30591cde9
"""
from alembic import op

revision = "1ngest10n"
down_revision = "6bd30591cde9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_worker_day", "entry_exit_events", ["worker_id", "work_date"])


def downgrade() -> None:
    op.drop_index("ix_events_worker_day", table_name="entry_exit_events")
