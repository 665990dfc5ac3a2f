"""refused credentials (issue 14): an event whose credential a device plugin refused keeps the refusal code.

Revision ID: r3fu5a1
Revises: r3p0rt5
"""
import sqlalchemy as sa
from alembic import op

revision = "r3fu5a1"
down_revision = "tr41l5p33d"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("entry_exit_events", sa.Column("refusal", sa.String(length=30), nullable=True))


def downgrade():
    op.drop_column("entry_exit_events", "refusal")
