"""監査ログ: every view, export or change of a worker's personal data by someone other than the worker.
Append-only: no portal screen edits or deletes it (a before_flush guard refuses it)."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import utcnow


class AuditLog(Model):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(Integer)
    username: Mapped[Optional[str]] = mapped_column(String(128))
    employer_id: Mapped[Optional[int]] = mapped_column(Integer)  # the viewer's organisation
    action: Mapped[str] = mapped_column(String(20), nullable=False)  # view / export / change
    object_type: Mapped[str] = mapped_column(String(60), nullable=False)
    object_id: Mapped[Optional[str]] = mapped_column(String(60))
    worker_id: Mapped[Optional[int]] = mapped_column(ForeignKey("workers.id", ondelete="SET NULL"), index=True)
    detail: Mapped[Optional[str]] = mapped_column(String(500))
    remote_addr: Mapped[Optional[str]] = mapped_column(String(64))
