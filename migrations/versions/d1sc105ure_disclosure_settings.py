"""disclosure settings (開示設定)

Revision ID: d1sc105ure
Revises: 6bd30591cde9
"""
from alembic import op
import sqlalchemy as sa

revision = "d1sc105ure"
down_revision = "6bd30591cde9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosure_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=30), nullable=False),
        sa.Column("worker_consent", sa.Boolean(), nullable=False),
        sa.Column("employer_consent", sa.Boolean(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["employer_id"], ["employers.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("worker_id", "item", name="uq_disclosure_item"),
    )
    op.create_index("ix_disclosure_settings_worker_id", "disclosure_settings", ["worker_id"])


def downgrade() -> None:
    op.drop_index("ix_disclosure_settings_worker_id", table_name="disclosure_settings")
    op.drop_table("disclosure_settings")
