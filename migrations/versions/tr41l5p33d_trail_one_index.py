"""the trail keeps one index (issue 9's speed): work_history_changes is read per worker and day range only
(portal.output.work_calendar, the scope rules filter those rows further), so ix_history_changes_site_day only cost every
tap's trail row one more index entry. Nothing is lost: dropping an index keeps every row.

Revision ID: tr41l5p33d
Revises: r3p0rt5
"""
from alembic import op

revision = "tr41l5p33d"
down_revision = "r3p0rt5"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_history_changes_site_day", table_name="work_history_changes")


def downgrade():
    op.create_index("ix_history_changes_site_day", "work_history_changes", ["site_id", "work_date"])
