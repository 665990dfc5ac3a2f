"""facts with periods (issue 9): every fact a work day depends on says from when until when it held, and every
change of a stored history leaves a trail.

New columns and how existing rows get their dates (no row is lost or rewritten; work_histories is untouched):
- structure_links.ended_on: a link already ended (解除) that had been approved gets the migration's Tokyo date
  minus one day (the only thing known is that it ended before now: its past days keep it); a 解除 link never
  approved (approved_at NULL) held on no day and keeps NULL. An approved link without approved_at gets its
  invited_at (it held from its invitation at the latest).
- affiliations: started_on, where missing, is created_at's Tokyo date; a 取消 link without ended_on gets the
  migration's Tokyo date minus one day (but not before started_on): the days before stay with that employer.
- worker_qualifications.expires_on (有効期限): NULL (no expiry known). worker_qualifications.created_at and
  site_worker_registrations.created_at: NULL for existing rows, meaning "recorded before this was kept": they
  hold as before (a qualification from 取得年月日 or always, a roster row over its own period); new rows record
  when they were registered (a qualification without 取得年月日 then counts from that day, never before).
- sites.approved_on: NULL (approved on every day, as before).
- work_history_changes: the append-only trail (portal.models.history_trail), empty at first.

Revision ID: p3r10d5
Revises: acc3ss
"""
import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "p3r10d5"
down_revision = "acc3ss"
branch_labels = None
depends_on = None

TOKYO = ZoneInfo("Asia/Tokyo")


def _tokyo_date(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(TOKYO).date()


def upgrade() -> None:
    with op.batch_alter_table("structure_links") as b:
        b.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
    with op.batch_alter_table("site_worker_registrations") as b:
        b.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("worker_qualifications") as b:
        b.add_column(sa.Column("expires_on", sa.Date(), nullable=True))
        b.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("sites") as b:
        b.add_column(sa.Column("approved_on", sa.Date(), nullable=True))
    op.create_table(
        "work_history_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("work_date", sa.Date(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("cause", sa.String(12), nullable=False),
        sa.Column("actor", sa.String(128), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_history_changes_worker_day", "work_history_changes", ["worker_id", "work_date"])
    op.create_index("ix_history_changes_site_day", "work_history_changes", ["site_id", "work_date"])

    conn = op.get_bind()
    yesterday = datetime.datetime.now(TOKYO).date() - datetime.timedelta(days=1)
    links = sa.table("structure_links", sa.column("id"), sa.column("status"), sa.column("approved_at"),
                     sa.column("invited_at"), sa.column("ended_on"))
    conn.execute(links.update().where(links.c.status == "承認済", links.c.approved_at.is_(None))
                 .values(approved_at=links.c.invited_at))
    conn.execute(links.update().where(links.c.status == "解除", links.c.approved_at.is_not(None),
                                      links.c.ended_on.is_(None)).values(ended_on=yesterday))
    affs = sa.table("affiliations", sa.column("id"), sa.column("status"), sa.column("started_on"),
                    sa.column("ended_on"), sa.column("created_at"))
    for row in conn.execute(sa.select(affs.c.id, affs.c.status, affs.c.started_on, affs.c.ended_on, affs.c.created_at)
                            .where(affs.c.started_on.is_(None) | (affs.c.status == "取消") & affs.c.ended_on.is_(None))).all():
        started = row.started_on or _tokyo_date(row.created_at)
        ended = row.ended_on
        if row.status == "取消" and ended is None:
            ended = max(yesterday, started) if started else yesterday
        conn.execute(affs.update().where(affs.c.id == row.id).values(started_on=started, ended_on=ended))


def downgrade() -> None:
    op.drop_index("ix_history_changes_site_day", table_name="work_history_changes")
    op.drop_index("ix_history_changes_worker_day", table_name="work_history_changes")
    op.drop_table("work_history_changes")
    with op.batch_alter_table("sites") as b:
        b.drop_column("approved_on")
    with op.batch_alter_table("worker_qualifications") as b:
        b.drop_column("created_at")
        b.drop_column("expires_on")
    with op.batch_alter_table("site_worker_registrations") as b:
        b.drop_column("created_at")
    with op.batch_alter_table("structure_links") as b:
        b.drop_column("ended_on")
