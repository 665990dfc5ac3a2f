"""safety documents (issue 12): 建設業許可, per site and company the contract and responsible persons, per worker
the 作業員名簿 items and the foreign-worker status (portal.models.safety).

Revision ID: s4fety
Revises: r3p0rt5
"""
import sqlalchemy as sa
from alembic import op

revision = "s4fety"
down_revision = "r3fu5a1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "construction_licenses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("trade", sa.String(length=20), nullable=False),
        sa.Column("authority", sa.String(length=4), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("granted_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["employer_id"], ["employers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("employer_id", "trade", name="uq_license_trade"),
    )
    op.create_index("ix_construction_licenses_employer_id", "construction_licenses", ["employer_id"])
    op.create_table(
        "site_contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("orderer_name", sa.String(length=200), nullable=True),
        sa.Column("contracted_on", sa.Date(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("work_content", sa.String(length=200), nullable=True),
        sa.Column("specialty_work", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["employer_id"], ["employers.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "employer_id", name="uq_site_contract"),
    )
    op.create_index("ix_site_contracts_site_id", "site_contracts", ["site_id"])
    op.create_index("ix_site_contracts_employer_id", "site_contracts", ["employer_id"])
    op.create_table(
        "site_staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("person_name", sa.String(length=100), nullable=False),
        sa.Column("full_time", sa.Boolean(), nullable=False),
        sa.Column("qualification", sa.String(length=200), nullable=True),
        sa.Column("work_scope", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["employer_id"], ["employers.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_site_staff_site_id", "site_staff", ["site_id"])
    op.create_index("ix_site_staff_employer_id", "site_staff", ["employer_id"])
    op.create_table(
        "worker_safety_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("hired_on", sa.Date(), nullable=True),
        sa.Column("blood_pressure_high", sa.Integer(), nullable=True),
        sa.Column("blood_pressure_low", sa.Integer(), nullable=True),
        sa.Column("special_check_kind", sa.String(length=60), nullable=True),
        sa.Column("special_check_on", sa.Date(), nullable=True),
        sa.Column("hire_education_on", sa.Date(), nullable=True),
        sa.Column("foreman_education_on", sa.Date(), nullable=True),
        sa.Column("special_education", sa.String(length=300), nullable=True),
        sa.Column("skill_training", sa.String(length=300), nullable=True),
        sa.Column("licenses", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("worker_id"),
    )
    op.create_table(
        "worker_foreign_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("worker_id"),
    )


def downgrade():
    op.drop_table("worker_foreign_status")
    op.drop_table("worker_safety_records")
    for table in ("site_staff", "site_contracts"):
        op.drop_index(f"ix_{table}_employer_id", table_name=table)
        op.drop_index(f"ix_{table}_site_id", table_name=table)
        op.drop_table(table)
    op.drop_index("ix_construction_licenses_employer_id", table_name="construction_licenses")
    op.drop_table("construction_licenses")
