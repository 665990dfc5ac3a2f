"""safety submissions and thresholds (issue 12): per site contract the 請負代金額, 建築一式, 公共工事 and 引渡し日; a company's 再下請負通知書 / 作業員名簿 per site submitted to its upper company,
returned with a reason or approved with a frozen snapshot (portal.models.safety.SafetySubmission).

Revision ID: s4fe7y2
Revises: aff1l1x
"""
import sqlalchemy as sa
from alembic import op

revision = "s4fe7y2"
down_revision = "aff1l1x"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("site_contracts", sa.Column("amount", sa.BigInteger(), nullable=True))
    op.add_column("site_contracts", sa.Column("general_building", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("site_contracts", sa.Column("public_work", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("site_contracts", sa.Column("handed_over_on", sa.Date(), nullable=True))
    op.create_table(
        "safety_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("upper_employer_id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=4), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.String(length=100), nullable=True),
        sa.Column("submitted_by_proxy", sa.Boolean(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_by_proxy", sa.Boolean(), nullable=False),
        sa.Column("return_reason", sa.String(length=20), nullable=True),
        sa.Column("return_note", sa.String(length=500), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.Column("snapshot_day", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["employer_id"], ["employers.id"]),
        sa.ForeignKeyConstraint(["upper_employer_id"], ["employers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "employer_id", "form", name="uq_safety_submission"),
    )
    op.create_index("ix_safety_submissions_site_id", "safety_submissions", ["site_id"])
    op.create_index("ix_safety_submissions_employer_id", "safety_submissions", ["employer_id"])


def downgrade():
    op.drop_index("ix_safety_submissions_employer_id", table_name="safety_submissions")
    op.drop_index("ix_safety_submissions_site_id", table_name="safety_submissions")
    op.drop_table("safety_submissions")
    with op.batch_alter_table("site_contracts") as batch:  # SQLite drops a column by copying the table
        for column in ("handed_over_on", "public_work", "general_building", "amount"):
            batch.drop_column(column)
