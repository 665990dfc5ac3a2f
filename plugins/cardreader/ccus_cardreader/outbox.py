"""The site agent's offline buffer: every tap is written to a local SQLite file before anything is sent, and
stays there until the portal has answered for it, so a network or portal outage loses nothing.

Each event gets its event_id (a UUID) when it is buffered, and keeps it through every retry: the portal stores
an event once per (device, event_id), so a batch re-sent after a lost answer is answered "duplicate" and
changes nothing.
"""
from __future__ import annotations

import datetime
import json
import sqlite3
import time
import uuid
from pathlib import Path

SCHEMA = """
create table if not exists outbox (
    seq          integer primary key autoincrement,  -- tap order
    event_id     text not null unique,
    event        text not null,                       -- the event as posted (JSON)
    buffered_at  text not null,
    attempts     integer not null default 0,
    result       text,                                -- accepted / duplicate / rejected; NULL while pending
    reason       text,                                -- the portal's code for a rejected event
    answered_at  text
);
create index if not exists outbox_pending on outbox (result, seq);
"""

DELIVERED = ("accepted", "duplicate")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


class Outbox:
    """One SQLite file; open one Outbox per thread (SQLite connections are not shared across threads)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._wal()
        self.db.execute("pragma synchronous=full")  # a tap acknowledged is on disk, even through a power cut
        self.db.executescript(SCHEMA)

    def _wal(self) -> None:
        """Write-ahead log (readers and the writer do not block each other); set once, kept by the file. Switching
        needs the file to itself and SQLite does not wait for that (its busy timeout does not apply): the reader
        and sender threads open the file at the same moment on start, so try again for a while."""
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.db.execute("pragma journal_mode=wal").fetchone()[0] == "wal":
                    return
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)

    def close(self) -> None:
        self.db.close()

    def add(self, event: dict) -> str:
        """Buffer one event (without event_id: one is given here) and return its event_id."""
        event_id = event.get("event_id") or str(uuid.uuid4())
        body = {**event, "event_id": event_id}
        self.db.execute("insert into outbox (event_id, event, buffered_at) values (?, ?, ?)",
                        (event_id, json.dumps(body, ensure_ascii=False), _now()))
        return event_id

    def pending(self, limit: int = 500) -> list[dict]:
        rows = self.db.execute("select event from outbox where result is null order by seq limit ?", (limit,))
        return [json.loads(r[0]) for r in rows]

    def tried(self, event_ids) -> None:
        self.db.executemany("update outbox set attempts = attempts + 1 where event_id = ?",
                            [(e,) for e in event_ids])

    def answered(self, answers) -> None:
        """Record the portal's answers, a list of (event_id, result, reason). Delivered and rejected events are
        not sent again; a rejected one stays for the operator to look at (``ccus-cardreader status``)."""
        now = _now()
        with self.db:
            self.db.execute("begin immediate")
            self.db.executemany(
                "update outbox set result = ?, reason = ?, answered_at = ? where event_id = ? and result is null",
                [(result, reason, now, event_id) for event_id, result, reason in answers])

    def counts(self) -> dict[str, int]:
        rows = self.db.execute("select coalesce(result, 'pending'), count(*) from outbox group by 1")
        return {k: v for k, v in rows}

    def rejected(self, limit: int = 50) -> list[tuple[str, str, str]]:
        return list(self.db.execute(
            "select event_id, reason, event from outbox where result = 'rejected' order by seq desc limit ?", (limit,)))

    def purge(self, older_than_days: int = 35) -> int:
        """Forget delivered events answered more than ``older_than_days`` ago (the file must not grow forever;
        rejected events are kept)."""
        cutoff = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=older_than_days)).isoformat()
        cur = self.db.execute("delete from outbox where result in ('accepted', 'duplicate') and answered_at < ?",
                              (cutoff,))
        return cur.rowcount
