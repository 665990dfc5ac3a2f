"""The portal's clock: every "today" and every work day is a date in Asia/Tokyo, whatever the server's own time
zone (production servers usually run in UTC, where 00:00–09:00 Tokyo is still yesterday). Times are stored in
UTC and shown in Tokyo time."""
from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
UTC = datetime.timezone.utc


def now() -> datetime.datetime:
    """The current time, aware (UTC)."""
    return datetime.datetime.now(UTC)


def tokyo_today() -> datetime.date:
    """Today's date in Tokyo: use this, never ``datetime.date.today()``. Derived from :func:`now`, the one
    place the portal reads the system clock (a test moves time by replacing it)."""
    return tokyo_date(now())


def tokyo_date(at: datetime.datetime) -> datetime.date:
    """The Tokyo calendar date of a moment (a naive value is UTC, as SQLite returns it)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(TOKYO).date()


def tokyo_text(at: datetime.datetime | None, seconds: bool = False) -> str:
    """A moment as screens show it: Tokyo time, to the minute (or second), with its zone; never microseconds.
    A naive value is UTC, as SQLite returns it."""
    if at is None:
        return ""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(TOKYO).strftime("%Y/%m/%d %H:%M:%S JST" if seconds else "%Y/%m/%d %H:%M JST")
