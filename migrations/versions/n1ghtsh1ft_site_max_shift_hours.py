"""shifts across midnight (issue 9): sites.max_shift_hours, the site's 最長勤務時間（夜間工事） (portal.history.shifts).
Existing sites get the default, 16 hours.

Revision ID: n1ghtsh1ft
Revises: h0tpath
"""
import sqlalchemy as sa
from alembic import op

revision = "n1ghtsh1ft"
down_revision = "h0tpath"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("max_shift_hours", sa.Integer(), nullable=False, server_default="16"))


def downgrade():
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("max_shift_hours")
