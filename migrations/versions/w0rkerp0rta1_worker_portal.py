"""the worker's portal: change requests (350), card reissue requests (360), worker accounts (本人確認番号)

Revision ID: w0rkerp0rta1
Revises: 6bd30591cde9
"""
from alembic import op
import sqlalchemy as sa

revision = "w0rkerp0rta1"
down_revision = "6bd30591cde9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("new_values", sa.JSON(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=4), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["employer_id"], ["employers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_change_requests_worker_id", "change_requests", ["worker_id"])
    op.create_index("ix_change_requests_employer_id", "change_requests", ["employer_id"])
    op.create_table(
        "card_reissue_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=4), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_card_reissue_requests_worker_id", "card_reissue_requests", ["worker_id"])
    op.create_table(
        "worker_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("security_code_hash", sa.String(length=64), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("worker_id"),
    )


def downgrade() -> None:
    op.drop_table("worker_accounts")
    op.drop_index("ix_card_reissue_requests_worker_id", table_name="card_reissue_requests")
    op.drop_table("card_reissue_requests")
    op.drop_index("ix_change_requests_employer_id", table_name="change_requests")
    op.drop_index("ix_change_requests_worker_id", table_name="change_requests")
    op.drop_table("change_requests")
