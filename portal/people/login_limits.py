"""Login limits per account, on top of flask-limiter's limit per address (AUTH_RATE_LIMIT).

Failures are counted per login name as typed (normalised), whether such an account exists or not, so a lock
says nothing about which IDs exist. From the 5th failure within an hour the name is locked for a delay that
doubles with each further failure (30 s, 60 s, … at most 15 minutes); while locked even the right password is
refused (429 with Retry-After), so spreading guesses over many addresses gains nothing. A successful login
after the delay clears the count; so does a password reset (portal.people.passwords: a worker's reset with the card's
本人確認番号, or an administrator's), which is the unlock path and answers as it always does.

Counts live in the same store as flask-limiter's (CCUS_RATELIMIT_STORAGE; the Celery broker's Redis when
configured): every gunicorn worker and every host behind the load balancer sees the same numbers. Memory (one
process) is the default for the README's first command.
"""
from __future__ import annotations

import hashlib
import math
import time

FAILURES_BEFORE_DELAY = 5
FIRST_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 15 * 60
WINDOW_SECONDS = 60 * 60


def storage_uri(config) -> str:
    """CCUS_RATELIMIT_STORAGE, else the Celery broker when it is Redis, else this process's memory."""
    explicit = config.get("CCUS_RATELIMIT_STORAGE")
    broker = config.get("CCUS_CELERY_BROKER") or ""
    if explicit:
        return explicit
    return broker if broker.startswith(("redis://", "rediss://")) else "memory://"


def _storage(app):
    found = app.extensions.get("ccus_login_limits")
    if found is None:
        from limits.storage import storage_from_string

        uri = app.config.get("RATELIMIT_STORAGE_URI") or storage_uri(app.config)
        found = app.extensions["ccus_login_limits"] = storage_from_string(uri)
    return found


def _keys(app, username) -> tuple[str, str]:
    name = str(username or "").strip().casefold()
    digest = hashlib.sha256(f"{app.config.get('RATELIMIT_KEY_PREFIX', '')}:{name}".encode()).hexdigest()[:32]
    return f"ccus-login-failures:{digest}", f"ccus-login-lock:{digest}"


def enabled(app) -> bool:
    return bool(app.config.get("CCUS_LOGIN_LIMITS", True))


def locked_for(app, username) -> int | None:
    """Seconds this login name stays locked, or None."""
    if not enabled(app):
        return None
    storage = _storage(app)
    _failures, lock = _keys(app, username)
    if storage.get(lock) <= 0:
        return None
    return max(1, math.ceil(storage.get_expiry(lock) - time.time()))


def failed(app, username) -> None:
    if not enabled(app):
        return
    storage = _storage(app)
    failures, lock = _keys(app, username)
    count = storage.incr(failures, WINDOW_SECONDS)
    if count >= FAILURES_BEFORE_DELAY:
        delay = min(FIRST_DELAY_SECONDS * 2 ** (count - FAILURES_BEFORE_DELAY), MAX_DELAY_SECONDS)
        storage.clear(lock)
        storage.incr(lock, int(delay))


def cleared(app, username) -> None:
    """A successful login or a password reset: the name starts again from nothing."""
    if not enabled(app):
        return
    storage = _storage(app)
    for key in _keys(app, username):
        storage.clear(key)
