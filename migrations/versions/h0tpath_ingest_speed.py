"""ingest speed (issue 4): events and histories without foreign-key triggers, composite indexes instead of the
single-column ones a composite already covers, BRIN on the day, room on history pages for HOT updates;
sites.roster_version for the ingest's roster cache.
Also merges the concept branches into one line again.

Revision ID: h0tpath
Revises: 1ngest10n, c0rrect10n5, d1sc105ure, w0rkerp0rta1
"""
import sqlalchemy as sa
from alembic import op

revision = "h0tpath"
down_revision = ("1ngest10n", "c0rrect10n5", "d1sc105ure", "w0rkerp0rta1")
branch_labels = None
depends_on = None

# SQLite's foreign keys are unnamed: batch mode names them with this convention to drop them.
NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
FKS = {"entry_exit_events": [("device_id", "devices", None), ("site_id", "sites", None), ("worker_id", "workers", None)],
       "work_histories": [("worker_id", "workers", "CASCADE"), ("site_id", "sites", None),
                          ("employer_id", "employers", None), ("trade_id", "trades", None)]}
OLD_INDEXES = {"entry_exit_events": [("ix_entry_exit_events_device_id", ["device_id"]),
                                     ("ix_entry_exit_events_site_id", ["site_id"]),
                                     ("ix_entry_exit_events_work_date", ["work_date"]),
                                     ("ix_entry_exit_events_worker_id", ["worker_id"]),
                                     ("ix_events_worker_day", ["worker_id", "work_date"])],
               "work_histories": [("ix_work_histories_employer_id", ["employer_id"]),
                                  ("ix_work_histories_site_id", ["site_id"]),
                                  ("ix_work_histories_work_date", ["work_date"]),
                                  ("ix_work_histories_worker_id", ["worker_id"])]}
NEW_INDEXES = {"entry_exit_events": [("ix_events_worker_site_day", ["worker_id", "site_id", "work_date"], None),
                                     ("ix_events_site_day", ["site_id", "work_date", "worker_id"], None),
                                     ("ix_events_work_date", ["work_date"], "brin")],
               "work_histories": [("ix_histories_site_day", ["site_id", "work_date"], None),
                                  ("ix_histories_employer_day", ["employer_id", "work_date"], None),
                                  ("ix_histories_work_date", ["work_date"], "brin")]}


def _fk_name(table, column, referred):
    if op.get_bind().dialect.name == "postgresql":
        return f"{table}_{column}_fkey"
    return NAMES["fk"] % {"table_name": table, "column_0_name": column, "referred_table_name": referred}


def upgrade() -> None:
    for table in FKS:
        for name, _cols in OLD_INDEXES[table]:
            op.drop_index(name, table_name=table)
        with op.batch_alter_table(table, naming_convention=NAMES) as b:
            for column, referred, _ondelete in FKS[table]:
                b.drop_constraint(_fk_name(table, column, referred), type_="foreignkey")
        for name, cols, using in NEW_INDEXES[table]:
            op.create_index(name, table, cols, postgresql_using=using)
    with op.batch_alter_table("sites") as b:
        b.add_column(sa.Column("roster_version", sa.Integer(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":  # HOT updates of a day's row (see portal.models.histories)
        op.execute("ALTER TABLE work_histories SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE work_histories RESET (fillfactor)")
    with op.batch_alter_table("sites") as b:
        b.drop_column("roster_version")
    for table in FKS:
        for name, _cols, _using in NEW_INDEXES[table]:
            op.drop_index(name, table_name=table)
        with op.batch_alter_table(table, naming_convention=NAMES) as b:
            for column, referred, ondelete in FKS[table]:
                b.create_foreign_key(_fk_name(table, column, referred), referred, [column], ["id"], ondelete=ondelete)
        for name, cols in OLD_INDEXES[table]:
            op.create_index(name, table, cols)
