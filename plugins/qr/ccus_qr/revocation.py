"""Revoking a worker's QR codes before they expire (a lost phone, a lost helmet sticker): every code issued up to
the revocation is refused at the gate (``revoked``); the next one issued is valid.

A revocation is the public API's void mark (portal.devices.void_issued: a credential row of the qr device type
with no secret, QR codes are signed, not stored): the moment before which the worker's codes are void.
"""
from __future__ import annotations

import datetime
import math

from ccus_qr import DEVICE_TYPE
from portal.devices import CredentialRef, WorkerRef, void_issued, void_until

LABEL = "QRコード失効"


def revoke(worker: WorkerRef, now: datetime.datetime | None = None) -> CredentialRef:
    """Void every QR code of ``worker`` issued up to ``now``; the caller's scope decides who may. A code issued
    after an earlier revocation may be dated a second ahead (next_issue_time): the revocation covers it too."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    until = revoked_until(worker.worker_id)
    if until is not None:
        now = max(now, datetime.datetime.fromtimestamp(until + 1, datetime.timezone.utc))
    return void_issued(worker, DEVICE_TYPE, label=LABEL, now=now)


def revoked_until(worker_code: str) -> int | None:
    """Unix second up to which the worker's codes are void (the latest revocation), or None."""
    at = void_until(DEVICE_TYPE, worker_code, label=LABEL)
    return math.ceil(at.timestamp()) if at is not None else None


def is_revoked(worker_code: str, issued: int) -> bool:
    until = revoked_until(worker_code)
    return until is not None and issued <= until


def next_issue_time(worker_code: str, now: float) -> int:
    """When a new code is issued: now, but after the latest revocation (one issued in the same second as the
    revocation would be void at once)."""
    until = revoked_until(worker_code)
    return max(int(now), until + 1) if until is not None else int(now)
