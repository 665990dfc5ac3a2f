"""work corrections (直接入力・事後補正)

Revision ID: c0rrect10n5
Revises: 6bd30591cde9
"""
from alembic import op
import sqlalchemy as sa


revision = "c0rrect10n5"
down_revision = "6bd30591cde9"
branch_labels = None
depends_on = None

INDEXED = ["employer_id", "site_id", "status", "work_date", "work_month", "worker_id"]


def upgrade() -> None:
    op.create_table(
        "work_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("site_name", sa.String(length=200), nullable=True),
        sa.Column("work_date", sa.Date(), nullable=False),
        sa.Column("work_month", sa.String(length=7), nullable=False),
        sa.Column("trade_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.String(length=20), nullable=True),
        sa.Column("work_content", sa.String(length=200), nullable=True),
        sa.Column("hazardous_work", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("requested_by_kind", sa.String(length=10), nullable=False),
        sa.Column("requested_by_user_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_name", sa.String(length=128), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=4), nullable=False),
        sa.Column("decided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("trail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["employer_id"], ["employers.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.ForeignKeyConstraint(["trade_id"], ["trades.id"]),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in INDEXED:
        op.create_index(op.f(f"ix_work_corrections_{column}"), "work_corrections", [column], unique=False)


def downgrade() -> None:
    for column in INDEXED:
        op.drop_index(op.f(f"ix_work_corrections_{column}"), table_name="work_corrections")
    op.drop_table("work_corrections")
