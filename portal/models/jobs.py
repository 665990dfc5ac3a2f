"""帳票の出力ジョブ: one report produced in the background for one login (CSV, Excel or PDF), with its progress,
its file and, when it failed, why (in Japanese). Rules and the runners live in portal.output.jobs.

Scope: a user sees and changes only its own jobs (``owner_user_id`` is the logged-in user of the request);
outside a request only an explicit ALL (the job runner) reads them."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, false, inspect
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import utcnow
from portal.people.rules import register_rule

QUEUED, RUNNING, DONE, FAILED, EXPIRED = "queued", "running", "done", "failed", "expired"
STATUS_LABELS = {QUEUED: "待機中", RUNNING: "作成中", DONE: "完了", FAILED: "失敗", EXPIRED: "期限切れ"}


class ReportJob(Model):
    __tablename__ = "report_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    report_id: Mapped[str] = mapped_column(String(10), nullable=False)  # 帳票NO: "2-3"
    format: Mapped[str] = mapped_column(String(4), nullable=False)  # csv / xlsx / pdf
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=QUEUED)
    rows_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_total: Mapped[Optional[int]] = mapped_column(Integer)
    file_path: Mapped[Optional[str]] = mapped_column(String(500))
    file_name: Mapped[Optional[str]] = mapped_column(String(200))
    error: Mapped[Optional[str]] = mapped_column(String(500))  # why it failed, in Japanese
    runner: Mapped[str] = mapped_column(String(20), nullable=False, default="thread")  # thread:<pid> / celery
    requested_from: Mapped[Optional[str]] = mapped_column(String(45))  # the client address (audit)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    started_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def request_user_id() -> int | None:
    """The primary key of the request's logged-in user, read from the identity map (never a query: this runs
    inside the scope listener)."""
    try:
        from flask import g, has_request_context
    except ImportError:  # pragma: no cover
        return None
    if not has_request_context():
        return None
    user = g.get("user")
    if user is None:
        return None
    user = getattr(user, "_get_current_object", lambda: user)()
    state = inspect(user, raiseerr=False)
    if state is None or state.identity is None:
        return None
    return state.identity[0]


def _read(scope):  # noqa: ARG001  (the user, not the organisation, owns a job)
    user_id = request_user_id()
    return ReportJob.owner_user_id == user_id if user_id is not None else false()


def _write(scope, obj, deleting):  # noqa: ARG001
    user_id = request_user_id()
    return user_id is not None and obj.owner_user_id == user_id and not deleting


register_rule(ReportJob, read=_read, write=_write)
