"""access: the employer directory keeps name, ID and address; the rest moves to employer_details (read only by
the employer itself and administrators). Every existing value is copied to its employer's detail row (one row
per employer, also when all of them are empty) before the columns are dropped.

Revision ID: acc3ss
Revises: n1ghtsh1ft
"""
from alembic import op
import sqlalchemy as sa

revision = "acc3ss"
down_revision = "n1ghtsh1ft"
branch_labels = None
depends_on = None

COLUMNS = [
    ("corporate_number", sa.String(length=13)), ("phone", sa.String(length=20)),
    ("representative", sa.String(length=100)), ("license_number", sa.String(length=40)),
    ("capital_yen", sa.Integer()), ("kentaikyo_contract_number", sa.String(length=20)),
    ("health_insurance_office_no", sa.String(length=40)), ("pension_office_no", sa.String(length=40)),
    ("employment_insurance_office_no", sa.String(length=40)), ("registered_on", sa.Date()),
]
NAMES = ", ".join(name for name, _type in COLUMNS)


def upgrade() -> None:
    op.create_table(
        "employer_details",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        *[sa.Column(name, type_, nullable=True) for name, type_ in COLUMNS],
        sa.ForeignKeyConstraint(["employer_id"], ["employers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("employer_id"),
    )
    op.execute(f"INSERT INTO employer_details (employer_id, {NAMES}) SELECT id, {NAMES} FROM employers")
    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 has it), never a rebuild of employers: with foreign keys on,
    # SQLite's DROP TABLE of a rebuild would delete the detail rows just copied (ON DELETE CASCADE) and refuse
    # for every table that points at an employer.
    with op.batch_alter_table("employers", schema=None, recreate="never") as batch_op:
        for name, _type in COLUMNS:
            batch_op.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("employers", schema=None, recreate="never") as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    for name, _type in COLUMNS:
        op.execute(f"UPDATE employers SET {name} = (SELECT d.{name} FROM employer_details d "
                   f"WHERE d.employer_id = employers.id)")
    op.drop_table("employer_details")
