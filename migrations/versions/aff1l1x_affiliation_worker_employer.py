"""affiliations are probed by (worker, employer): the scope's "its own workers" asks, for every worker a list or
report shows, whether it has an approved link to the viewer's employer. With one index per column a database
without statistics (a new SQLite installation) chose the employer's and read all of that employer's links for
each worker (issue 11's 2-4 for 3,000 workers: 9 million rows, seconds per query). The composite replaces the
worker's index (its leading column serves every lookup by worker). Nothing is lost: only indexes change.

Revision ID: aff1l1x
Revises: s4fety
"""
from alembic import op

revision = "aff1l1x"
down_revision = "s4fety"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_affiliations_worker_id", table_name="affiliations")
    op.create_index("ix_affiliations_worker_employer", "affiliations", ["worker_id", "employer_id"])


def downgrade():
    op.drop_index("ix_affiliations_worker_employer", table_name="affiliations")
    op.create_index("ix_affiliations_worker_id", "affiliations", ["worker_id"])
