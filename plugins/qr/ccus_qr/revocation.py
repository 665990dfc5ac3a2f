"""Revoking a worker's QR codes before they expire (a lost phone, a lost helmet sticker): every code issued up to
the revocation is refused at the gate (``revoked``); the next one issued is valid.

A revocation is a ``Credential`` row of the qr device type with no secret (QR codes are signed, not stored):
its ``created_at`` is the moment before which the worker's codes are void. Plain functions over a session.
"""
from __future__ import annotations

import datetime
import math

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ccus_qr import DEVICE_TYPE
from portal.models import Credential, Worker

LABEL = "QRコード失効"


def revoke(session: Session, worker: Worker, now: datetime.datetime | None = None) -> Credential:
    """Void every QR code of ``worker`` issued up to ``now``; the caller's scope decides who may."""
    row = Credential(device_type=DEVICE_TYPE, worker_id=worker.id, label=LABEL,
                     created_at=now or datetime.datetime.now(datetime.timezone.utc))
    session.add(row)
    session.flush()
    return row


def revoked_until(session: Session, worker_code: str) -> int | None:
    """Unix second up to which the worker's codes are void (the latest revocation), or None."""
    at = session.execute(select(func.max(Credential.created_at)).join(Worker, Worker.id == Credential.worker_id)
                         .where(Worker.worker_id == worker_code, Credential.device_type == DEVICE_TYPE,
                                Credential.label == LABEL)).scalar()
    if at is None:
        return None
    if at.tzinfo is None:  # SQLite returns it naive, in UTC
        at = at.replace(tzinfo=datetime.timezone.utc)
    return math.ceil(at.timestamp())


def is_revoked(session: Session, worker_code: str, issued: int) -> bool:
    until = revoked_until(session, worker_code)
    return until is not None and issued <= until


def next_issue_time(session: Session, worker_code: str, now: float) -> int:
    """When a new code is issued: now, but after the latest revocation (one issued in the same second as the
    revocation would be void at once)."""
    until = revoked_until(session, worker_code)
    return max(int(now), until + 1) if until is not None else int(now)
