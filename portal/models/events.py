"""入退場イベント: append-only, one row per device event, idempotent on (device, device's own event id).
An event that names an unknown worker or site is kept (worker_id NULL, raw values kept) and shown as not
counted; it is never dropped."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import utcnow

EVENT_KINDS = {"entry": "入場", "exit": "退場", "work": "就業履歴のみ"}


class EntryExitEvent(Model):
    __tablename__ = "entry_exit_events"
    __table_args__ = (UniqueConstraint("device_id", "device_event_id", name="uq_event_idempotency"),
                      Index("ix_events_worker_day", "worker_id", "work_date"))  # ingest, histories
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id: Mapped[Optional[int]] = mapped_column(ForeignKey("devices.id"), index=True)
    device_event_id: Mapped[str] = mapped_column(String(100), nullable=False)
    site_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sites.id"), index=True)
    worker_id: Mapped[Optional[int]] = mapped_column(ForeignKey("workers.id"), index=True)
    worker_code: Mapped[Optional[str]] = mapped_column(String(14))  # the 技能者ID as sent (unknown ones too)
    credential_hash: Mapped[Optional[str]] = mapped_column(String(64))  # an unresolved credential, hashed
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    occurred_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    work_date: Mapped[datetime.date] = mapped_column(Date, nullable=False, index=True)  # Asia/Tokyo
    method: Mapped[str] = mapped_column(String(20), nullable=False)
    extras: Mapped[Optional[dict]] = mapped_column(JSON)
    received_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    device = relationship("Device")
    site = relationship("Site")
    worker = relationship("Worker")
