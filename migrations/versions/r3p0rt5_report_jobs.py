"""report jobs (issue 11): 帳票 produced in the background, per login, with progress, file and expiry.

Revision ID: r3p0rt5
Revises: p3r10d5
"""
import sqlalchemy as sa
from alembic import op

revision = "r3p0rt5"
down_revision = "p3r10d5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_user_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.String(length=10), nullable=False),
        sa.Column("format", sa.String(length=4), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("file_path", sa.String(length=500), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("runner", sa.String(length=20), nullable=False),
        sa.Column("requested_from", sa.String(length=45), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_user_id"], ["ab_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_jobs_owner_user_id", "report_jobs", ["owner_user_id"])
    op.create_index("ix_report_jobs_expires_at", "report_jobs", ["expires_at"])


def downgrade():
    op.drop_index("ix_report_jobs_expires_at", table_name="report_jobs")
    op.drop_index("ix_report_jobs_owner_user_id", table_name="report_jobs")
    op.drop_table("report_jobs")
