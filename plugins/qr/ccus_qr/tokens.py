"""Signing and checking the QR payloads (no Flask, no database: plain functions over a key and a clock).

Worker QR: ``CCUSW2.<installation>.<技能者ID>.<issued, unix seconds>.<signature>``. The signature is an
HMAC-SHA256 over the rest, with a key of this installation (CCUS_QR_KEY, else derived from the credential key),
truncated to 128 bits and base64url-encoded: short enough for a small QR, far beyond guessing. The installation
tag (an HMAC of a fixed text, 6 characters, no secret) lets a gate tell another installation's genuine code
(``foreign``) from a forgery. Codes of the first format ``CCUSW1.<技能者ID>.<issued>.<signature>`` (printed
stickers) are still read.

Site token: an HMAC of (device, time window) where a window is ``period`` seconds long; the kiosk shows the
current window's token, and the previous window's is accepted too, so a worker who scans just before the
change still has one period to confirm.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time

WORKER_PREFIX = "CCUSW2"
OLD_PREFIX = "CCUSW1"
DEFAULT_MAX_AGE_DAYS = 30
DEFAULT_PERIOD = 30  # seconds a site token is shown
CLOCK_SKEW = 300  # seconds a QR may seem issued in the future (a scanner's clock running behind)


def qr_key(config) -> bytes:
    """This installation's QR signing key."""
    root = config.get("CCUS_QR_KEY") or config.get("CCUS_CREDENTIAL_KEY") or config["SECRET_KEY"]
    return hashlib.sha256(b"ccus-qr\0" + str(root).encode()).digest()


def _mac(key: bytes, message: str, nbytes: int = 16) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()[:nbytes]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def installation(key: bytes) -> str:
    return _mac(key, "installation", 4)[:6]


def sign_worker(key: bytes, worker_id: str, issued: int | None = None) -> str:
    issued = int(time.time() if issued is None else issued)
    body = f"{WORKER_PREFIX}.{installation(key)}.{worker_id}.{issued}"
    return f"{body}.{_mac(key, body)}"


def issued_at(payload: str) -> int:
    """When a genuine worker QR (as check_worker accepted it) was issued."""
    return int(str(payload).strip().split(".")[-2])


def check_worker(key: bytes, payload, now: float | None = None,
                 max_age_days: float = DEFAULT_MAX_AGE_DAYS) -> tuple[str | None, str]:
    """(技能者ID, "ok") for a genuine QR within its age, else (None, reason): malformed, foreign (signed by
    another installation), forged (or altered), expired, not_yet_valid — the codes of portal.devices.refusals."""
    now = time.time() if now is None else now
    parts = str(payload or "").strip().split(".")
    if len(parts) == 4 and parts[0] == OLD_PREFIX:
        parts.insert(1, None)
    elif not (len(parts) == 5 and parts[0] == WORKER_PREFIX):
        return None, "malformed"
    _prefix, tag, worker, issued, signature = parts
    if not (worker.isascii() and worker.isdigit() and len(worker) == 14 and issued.isascii() and issued.isdigit()):
        return None, "malformed"
    if not hmac.compare_digest(_mac(key, ".".join(p for p in parts[:4] if p is not None)), signature):
        return None, "foreign" if tag is not None and tag != installation(key) else "forged"
    if int(issued) > now + CLOCK_SKEW:
        return None, "not_yet_valid"
    if now - int(issued) > max_age_days * 86400:
        return None, "expired"
    return worker, "ok"


def window(now: float | None = None, period: int = DEFAULT_PERIOD) -> int:
    return int((time.time() if now is None else now) // period)


def site_token(key: bytes, device_id: int, window_no: int) -> str:
    return _mac(key, f"site.{device_id}.{window_no}", 9)  # 12 characters


def current_site_token(key: bytes, device_id: int, now: float | None = None,
                       period: int = DEFAULT_PERIOD) -> tuple[str, float]:
    """The token to show now, and the seconds until it changes."""
    now = time.time() if now is None else now
    w = window(now, period)
    return site_token(key, device_id, w), (w + 1) * period - now


def check_site_token(key: bytes, device_id: int, token, now: float | None = None,
                     period: int = DEFAULT_PERIOD) -> int | None:
    """The window a site token belongs to if it is the current or the previous one, else None."""
    w = window(now, period)
    for candidate in (w, w - 1):
        if hmac.compare_digest(site_token(key, device_id, candidate), str(token or "")):
            return candidate
    return None
