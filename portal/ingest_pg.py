"""The PostgreSQL fast path of portal.ingest: set-based, a few statements per batch whatever its size.

Scope (reviewed): statements on the tables, not filtered by row-level scope. Every row written carries the
device's own site (checked by portal.ingest before this runs); history rows are keyed on the workers and days
of the events just stored. What decided the speed (issue 4, measured on this machine):
- events: one INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING RETURNING per batch, the arrays sent
  as binary parameters (a statement per event is about 26 times slower);
- histories: the new events folded per worker and day in Python first (ON CONFLICT DO UPDATE cannot touch a row
  twice in one statement), then one upsert that merges first entry (LEAST), last exit (GREATEST) and the method
  marks into the stored row, so it never has to read the day's events back;
- rows sorted by worker and time, and an advisory lock per (worker, day) taken in that order: concurrent batches
  for the same worker and day queue instead of deadlocking or overwriting each other.
A day the merge cannot express is recomputed from its events (portal.histories.recompute): a night tap (before
the cut-off hour: it may belong to the previous day), a day whose next night already has taps (a new last tap may
move them), and a day with contributed day inputs (直接入力・事後補正).
"""
from __future__ import annotations

import datetime
import json
import re
from collections import defaultdict

from sqlalchemy.orm import Session

from portal import histories
from portal.histories import MARK_ORDER, Context, Tap, is_night, night_end

INSERT_EVENTS = """
INSERT INTO entry_exit_events (device_id, device_event_id, site_id, worker_id, worker_code, credential_hash, kind,
                               occurred_at, work_date, method, extras, received_at)
SELECT %(device)s, u.eid, %(site)s, u.wid, u.wcode, u.chash, u.kind, u.at, u.day, u.method, u.extras::json, %(now)s
FROM unnest(%(eids)b::text[], %(wids)b::int[], %(wcodes)b::text[], %(chashes)b::text[], %(kinds)b::text[],
            %(ats)b::timestamptz[], %(days)b::date[], %(methods)b::text[], %(extras)b::text[])
     WITH ORDINALITY AS u(eid, wid, wcode, chash, kind, at, day, method, extras, ord)
ORDER BY u.ord
ON CONFLICT (device_id, device_event_id) DO NOTHING
RETURNING id, device_event_id
"""

LOCK_DAYS = """
SELECT pg_advisory_xact_lock(k.w, k.d) FROM (
  SELECT DISTINCT w, d FROM unnest(%(w)b::int[], %(d)b::int[]) AS u(w, d) ORDER BY w, d) AS k
"""

# Taps already stored in the night window that opens the next day: the new taps may move them (see histories).
NEXT_NIGHTS = """
SELECT DISTINCT u.w, u.day FROM unnest(%(w)b::int[], %(day)b::date[], %(hi)b::timestamptz[]) AS u(w, day, hi)
JOIN entry_exit_events e ON e.worker_id = u.w AND e.work_date = u.day + 1 AND e.site_id = %(site)b::int
  AND e.occurred_at < u.hi
"""

UPSERT_HISTORIES = """
INSERT INTO work_histories AS h (worker_id, site_id, work_date, employer_id, trade_id, position, work_content,
    hazardous_work, qualifications, methods, first_entry_at, last_exit_at, counted, not_counted_reason,
    valid_for_evaluation, invalid_reason, updated_at)
SELECT u.w, %(site)s, u.day, u.employer, u.trade, u.position, u.content, u.hazardous, u.quals::json, u.methods,
       u.first_entry, u.last_exit, u.counted, u.reason, u.valid, u.invalid, %(now)s
FROM unnest(%(w)b::int[], %(day)b::date[], %(employer)b::int[], %(trade)b::int[], %(position)b::text[],
            %(content)b::text[], %(hazardous)b::bool[], %(quals)b::text[], %(methods)b::text[],
            %(first_entry)b::timestamptz[], %(last_exit)b::timestamptz[], %(counted)b::bool[], %(reason)b::text[],
            %(valid)b::bool[], %(invalid)b::text[])
  AS u(w, day, employer, trade, position, content, hazardous, quals, methods, first_entry, last_exit, counted,
       reason, valid, invalid)
ORDER BY u.w, u.day
ON CONFLICT (worker_id, site_id, work_date) DO UPDATE SET
  employer_id = EXCLUDED.employer_id, trade_id = EXCLUDED.trade_id, position = EXCLUDED.position,
  work_content = EXCLUDED.work_content, hazardous_work = EXCLUDED.hazardous_work,
  qualifications = EXCLUDED.qualifications, counted = EXCLUDED.counted,
  not_counted_reason = EXCLUDED.not_counted_reason, valid_for_evaluation = EXCLUDED.valid_for_evaluation,
  invalid_reason = EXCLUDED.invalid_reason, updated_at = EXCLUDED.updated_at,
  first_entry_at = LEAST(h.first_entry_at, EXCLUDED.first_entry_at),
  last_exit_at = GREATEST(h.last_exit_at, EXCLUDED.last_exit_at),
  methods = COALESCE((SELECT string_agg(m, ',' ORDER BY COALESCE(array_position(%(order)b::text[], m), 1000), m COLLATE "C")
                      FROM (SELECT DISTINCT unnest(string_to_array(h.methods, ',') || string_to_array(EXCLUDED.methods, ',')) AS m) AS x
                      WHERE m <> ''), '')
"""


class Statement:
    """A statement with named placeholders, run with positional binary parameters and prepared on the server
    (psycopg caches the conversion only for short positional queries; planning the unnest once is cheaper)."""

    def __init__(self, sql: str):
        self.names = re.findall(r"%\((\w+)\)[bs]", sql)
        self.sql = re.sub(r"\s+", " ", re.sub(r"%\((\w+)\)([bs])", r"%\2", sql)).strip()

    def run(self, cur, params: dict):
        return cur.execute(self.sql, [params[n] for n in self.names], prepare=True)


INSERT_EVENTS, LOCK_DAYS, NEXT_NIGHTS, UPSERT_HISTORIES = (
    Statement(s) for s in (INSERT_EVENTS, LOCK_DAYS, NEXT_NIGHTS, UPSERT_HISTORIES))


def store(session: Session, device, valid: list, now: datetime.datetime) -> dict[int, int]:
    """Store the batch (sorted by worker and time) and fold it into histories; {batch index: event pk} of new ones."""
    cur = session.connection().connection.driver_connection.cursor()
    INSERT_EVENTS.run(cur, {
        "device": device.id, "site": device.site_id, "now": now,
        "eids": [v.event_id for v in valid], "wids": [v.worker_id for v in valid],
        "wcodes": [v.worker_code for v in valid], "chashes": [v.credential_hash for v in valid],
        "kinds": [v.kind for v in valid], "ats": [v.occurred_at for v in valid], "days": [v.work_date for v in valid],
        "methods": [v.method for v in valid],
        "extras": [json.dumps(v.extras, ensure_ascii=False) if v.extras else None for v in valid],
    })
    by_event_id = {v.event_id: v for v in valid}
    stored = {by_event_id[eid].index: pk for pk, eid in cur.fetchall()}
    new = [v for v in valid if v.index in stored and v.worker_id is not None]
    if new:
        fold(session, cur, device.site_id, new, now)
    return stored


def fold(session: Session, cur, site_id: int, new: list, now: datetime.datetime) -> None:
    one = datetime.timedelta(days=1)
    taps: dict = defaultdict(list)  # (worker, calendar day) → taps
    for v in new:
        taps[(v.worker_id, v.work_date)].append(Tap(v.occurred_at, v.kind, v.method))
    full: set = set()
    for (w, day), day_taps in taps.items():
        if any(is_night(t.at) for t in day_taps):
            full |= {(w, day - one), (w, day)}
    keys = sorted(taps)
    NEXT_NIGHTS.run(cur, {"site": site_id, "w": [w for w, _d in keys], "day": [d for _w, d in keys],
                          "hi": [night_end(d + one) for _w, d in keys]})
    for w, day in cur.fetchall():
        full |= {(w, day), (w, day + one)}
    if histories.DAY_INPUT_PROVIDERS:
        full |= {(w, d) for (w, _s, d) in histories.day_inputs(session, [(w, site_id, d) for w, d in keys])}
    locked = sorted(set(keys) | full)
    LOCK_DAYS.run(cur, {"w": [w for w, _d in locked], "d": [d.toordinal() for _w, d in locked]})
    simple = [k for k in keys if k not in full]
    if simple:
        ctx = Context(session, {w for w, _d in simple}, [site_id])
        rows = [(w, d, histories.derive(ctx, w, site_id, d, taps[(w, d)], [])) for w, d in simple]
        UPSERT_HISTORIES.run(cur, {
            "site": site_id, "now": now, "order": MARK_ORDER,
            "w": [w for w, _d, _r in rows], "day": [d for _w, d, _r in rows],
            **{name: [r[field] for _w, _d, r in rows] for name, field in (
                ("employer", "employer_id"), ("trade", "trade_id"), ("position", "position"),
                ("content", "work_content"), ("hazardous", "hazardous_work"), ("methods", "methods"),
                ("first_entry", "first_entry_at"), ("last_exit", "last_exit_at"), ("counted", "counted"),
                ("reason", "not_counted_reason"), ("valid", "valid_for_evaluation"), ("invalid", "invalid_reason"))},
            "quals": [json.dumps(r["qualifications"]) for _w, _d, r in rows],
        })
    if full:
        histories.recompute(session, [(w, site_id, d) for w, d in sorted(full)], neighbours=False)

