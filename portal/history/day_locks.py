"""The (worker, calendar day) advisory locks of PostgreSQL that the ingest fast path (portal.ingest.pg) and a
history recompute (portal.history.histories.recompute) both take, in key order: a recompute and a concurrent batch of
the same worker and day then queue instead of overwriting each other, and two batches never deadlock.

A module of its own, importing nothing of the portal: histories and ingest_pg both need it, and neither should
import the other back.
"""
from __future__ import annotations

DAY_BITS = 20  # a day's ordinal (about 740,000 now) fits in 20 bits

LOCK_DAYS = ("SELECT pg_advisory_xact_lock(k) FROM (SELECT k FROM unnest(%s::bigint[]) AS u(k) ORDER BY k) AS s")


def day_keys(days) -> str:
    """(worker pk, day) pairs as one bigint each (worker << 20 | day's ordinal), in a PostgreSQL array literal: the
    server parses it in C. Only lock ids: no statement takes them apart."""
    return "{" + ",".join(str((w << DAY_BITS) | d.toordinal()) for w, d in days) + "}"


def lock(cur, days) -> None:
    """Take the locks of ``days`` ((worker pk, date) pairs) on a raw psycopg cursor, in order."""
    cur.execute(LOCK_DAYS, [day_keys(sorted(set(days)))], prepare=True)


def lock_days(session, days) -> None:
    """Take the locks of ``days`` in the session's transaction (held until it ends)."""
    lock(session.connection().connection.driver_connection.cursor(), days)
