"""The rotating site QR: a kiosk tablet at the gate shows it; a worker's phone scans it and the worker, logged in
as themself, records 入場 or 退場 at that site.

Why this flow: the kiosk holds only its device key (no login); the token in the QR proves the phone saw the
kiosk within the last one or two periods, and the login proves who the worker is. The event goes through the
core's one ingest path with method QR, as the device's event, so every rule (site, roster, not counted) applies.
Its event_id is derived from worker, window and kind: pressing 入場 twice on one scan records one event.
"""
from __future__ import annotations

import datetime
import time

from ccus_qr import DEVICE_TYPE, METHOD, tokens
from portal.devices import DomainError, record_events

KINDS = {"entry": "入場", "exit": "退場"}

EXPIRED = DomainError("qr_expired", "このQRコードは有効期限が切れました。現場のQRコードをもう一度読み取ってください。", 410)


def check_device(device) -> None:
    """Only an active QR device shows site QR codes or records scans of them."""
    if device is None or device.device_type != DEVICE_TYPE or not device.active:
        raise DomainError("not_a_qr_device", "この機器は現場QRコードに使えません。", 403)


def scanned_window(key: bytes, device, token: str, period: int, now: float | None = None) -> int:
    check_device(device)
    found = tokens.check_site_token(key, device.id, token, now=now, period=period)
    if found is None:
        raise EXPIRED
    return found


def scan_event(key: bytes, device, site_code: str, worker_code: str, token: str, kind: str, period: int,
               now: float | None = None) -> dict:
    """The event a worker's scan records (the contract's shape), after checking the token and the kind."""
    if kind not in KINDS:
        raise DomainError("invalid_kind", "入場か退場を選んでください。")
    now = time.time() if now is None else now
    window_no = scanned_window(key, device, token, period, now)
    moment = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    return {"event_id": f"qr-{worker_code}-{window_no}-{kind}", "worker_id": worker_code, "site_id": site_code,
            "kind": kind, "time": moment.isoformat(timespec="seconds"), "method": METHOD, "extras": {}}


def record_scan(device, worker_code: str, token: str, kind: str, *, key: bytes, period: int,
                now: float | None = None) -> dict:
    """Check the scan and record it through the core ingest as the kiosk device's event; returns the core's
    result for it ({"event_id", "result", "code"?, "message"?})."""
    event = scan_event(key, device, device.site.site_id, worker_code, token, kind, period, now)
    [result] = record_events(device, [event])
    return result
