"""入退場イベント: append-only, one row per device event, idempotent on (device, device's own event id).
An event that names an unknown worker or site is kept (worker_id NULL, raw values kept) and shown as not
counted; it is never dropped.

No foreign-key constraints on the ids (reviewed, issue 4's speed): a constraint costs a trigger and a row lock on
the site, device and worker per inserted event, about half of the insert's time. The ingest writes only the
device's own site and device and worker pks it read in the same transaction, and portal.people.validation refuses to
delete a worker, site or device that events or histories name (workers are kept for their 5-year retention)."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, BigInteger, Date, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import utcnow

EVENT_KINDS = {"entry": "入場", "exit": "退場", "work": "就業履歴のみ"}


class EntryExitEvent(Model):
    __tablename__ = "entry_exit_events"
    __table_args__ = (UniqueConstraint("device_id", "device_event_id", name="uq_event_idempotency"),
                      Index("ix_events_worker_site_day", "worker_id", "site_id", "work_date"),  # ingest, histories
                      Index("ix_events_site_day", "site_id", "work_date", "worker_id"),  # site board, prime's scope
                      # months (rebuild): events arrive in time order, so a BRIN index is enough and costs little
                      Index("ix_events_work_date", "work_date", postgresql_using="brin"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id: Mapped[Optional[int]] = mapped_column(Integer)
    device_event_id: Mapped[str] = mapped_column(String(100), nullable=False)
    site_id: Mapped[Optional[int]] = mapped_column(Integer)
    worker_id: Mapped[Optional[int]] = mapped_column(Integer)
    worker_code: Mapped[Optional[str]] = mapped_column(String(14))  # the 技能者ID as sent (unknown ones too)
    credential_hash: Mapped[Optional[str]] = mapped_column(String(64))  # an unresolved credential, hashed
    refusal: Mapped[Optional[str]] = mapped_column(String(30))  # a refused credential's code (portal.devices.refusals)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    occurred_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    work_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)  # Asia/Tokyo
    method: Mapped[str] = mapped_column(String(20), nullable=False)
    extras: Mapped[Optional[dict]] = mapped_column(JSON)
    received_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    device = relationship("Device", primaryjoin="foreign(EntryExitEvent.device_id) == Device.id")
    site = relationship("Site", primaryjoin="foreign(EntryExitEvent.site_id) == Site.id")
    worker = relationship("Worker", primaryjoin="foreign(EntryExitEvent.worker_id) == Worker.id")

    @property
    def refusal_label(self) -> str:
        from portal.devices.refusals import label

        return label(self.refusal)
