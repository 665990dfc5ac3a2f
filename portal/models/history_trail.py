"""就業履歴の変更記録: the append-only trail of every change of a stored work history (portal.history.histories._apply
writes it, on both ingest paths, the recompute, the corrections and the rebuild; nobody updates or deletes it).

One row per change of one (worker, site, day): what the changed fields held before and hold after, the cause
(tap / correction / roster / rebuild) and who (a login name or a device). A day's first row written by a tap is
recorded compactly (``before`` empty, ``after`` the capture times and marks only).

Scope: the worker sees the trail of his own days; an employer or a prime contractor what it sees of the history
(the history's employer, the prime's sites, the lower tiers below it on a site), like portal.people.scoping's rule for
WorkHistory. Rows are written with Core statements only (never through a scoped session)."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, Date, DateTime, Index, Integer, String, false, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import utcnow
from portal.people.rules import register_rule

CAUSES = {"tap": "打刻", "correction": "直接入力・事後補正", "roster": "作業員名簿・施工体制などの変更",
          "rebuild": "再集計"}
ACTIONS = {"added": "作成", "changed": "変更", "removed": "削除"}


class WorkHistoryChange(Model):
    __tablename__ = "work_history_changes"
    # read per worker and days only (portal.output.work_calendar): one index, every tap's trail row pays for it
    __table_args__ = (Index("ix_history_changes_worker_day", "worker_id", "work_date"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(Integer, nullable=False)
    site_id: Mapped[Optional[int]] = mapped_column(Integer)
    work_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    employer_id: Mapped[Optional[int]] = mapped_column(Integer)  # the history's employer (after; removed: before)
    action: Mapped[str] = mapped_column(String(8), nullable=False)  # added / changed / removed
    before: Mapped[Optional[dict]] = mapped_column(JSON)  # changed fields only
    after: Mapped[Optional[dict]] = mapped_column(JSON)
    cause: Mapped[str] = mapped_column(String(12), nullable=False)
    actor: Mapped[Optional[str]] = mapped_column(String(128))  # a login name, or "機器 <id>"
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)

    worker = relationship("Worker", primaryjoin="foreign(WorkHistoryChange.worker_id) == Worker.id")
    site = relationship("Site", primaryjoin="foreign(WorkHistoryChange.site_id) == Site.id")

    @property
    def cause_label(self) -> str:
        return CAUSES.get(self.cause, self.cause)

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)


def _read(scope):
    t = WorkHistoryChange
    if scope.kind == "worker":
        return t.worker_id == scope.worker_id
    from portal.people.scoping import site_employer_criterion  # portal.people.scoping imports the models

    conds = site_employer_criterion(scope, t.site_id, t.employer_id)
    if not scope.site_manager:
        conds.append(t.employer_id == scope.employer_id)
    return or_(*conds) if conds else false()


register_rule(WorkHistoryChange, read=_read, write=lambda scope, obj, deleting: False)  # Core writes only
