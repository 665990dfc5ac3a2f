"""The PostgreSQL fast path of portal.ingest: set-based, a few statements per batch whatever its size.

Scope (reviewed): statements on the tables, not filtered by row-level scope. Every row written carries the
device's own site (checked by portal.ingest before this runs); history rows are keyed on the workers and days
of the events just stored. What decided the speed (issue 4, measured on this machine):
- events: one INSERT … SELECT FROM json_to_recordset(batch) ON CONFLICT DO NOTHING RETURNING per batch (a
  statement per event is about 26 times slower), worker pks looked up in the same statement (a probe per
  event: a join may hash the whole worker table when its statistics are old);
- histories: the new events folded per worker and day in Python first (ON CONFLICT DO UPDATE cannot touch a row
  twice in one statement), then one upsert that merges first entry (LEAST), last exit (GREATEST) and the method
  marks into the stored row, so it never has to read the day's events back, and writes the trail of the rows it
  actually changed in the same statement (work_history_changes, one multi-row insert); what the roster says
  comes from a per-process copy of the site's roster (histories.site_roster), read again when
  sites.roster_version moves; the version is read again under the (worker, day) locks (a roster change that
  committed while the batch was validated is not overwritten);
- closed days (their correction deadline passed): a late tap is stored; the upsert leaves a stored closed row
  alone and makes a missing one not counted (deadline_passed), set-based like the others;
- rows sorted by worker and time, and an advisory lock per (worker, day) taken in key order, by the events
  insert itself: concurrent batches for the same worker and day queue instead of deadlocking or overwriting each
  other;
- plans that hold without statistics (a fresh database, a new installation's first day): every probe per key
  bounds all columns of its index (one calendar day, not a range; the stored row by its primary key), so no plan
  can walk the site's rows for each key (bench/results/README.md, session 4).
A day the merge cannot express is recomputed from its events (portal.history.histories.recompute): a day whose new taps
continue a shift of the day before (portal.history.shifts, read from the stored taps of the site's 最長勤務時間 before the
first new tap), a day whose next day has taps within that time after the last new tap (they may move), and a day
with contributed day inputs (直接入力・事後補正). The (worker, day) locks cover the day before and after too when the
shift length reaches into them (the only days that read can touch), and are taken before that read: a concurrent batch
of a neighbouring day has committed, or reads this one's taps after.
"""
from __future__ import annotations

import datetime
import json
import re
from collections import defaultdict

from sqlalchemy.orm import Session

from portal.history import histories, shifts
from portal.history.histories import MARK_ORDER, Tap

# The batch travels as one JSON parameter (json_to_recordset): psycopg dumps binary arrays element by element
# in Python, which cost more than the statement itself; json.dumps of the rows is one C call. The same statement
# takes the (worker, day) locks of the new events' calendar days, in key order (a round trip less; the key is
# day_keys'), before the shift windows are read by the next statement, and of the days next to them that those
# windows can reach with the site's max_shift_hours (f - max_shift_hours before the day's start: the day before;
# l + max_shift_hours at or past its end: the day after); an exit at 18:00 locks its day and the next, not three.
# Those are also the only neighbour days the batch can recompute (shift_neighbours), so a batch never waits for a
# lock after this statement: two batches cannot deadlock. Any batch whose taps can move a day's taps reaches that
# day with its own window, so it takes that day's lock too. The shift length used comes back with the rows.
INSERT_EVENTS = """
WITH ins AS (
  INSERT INTO entry_exit_events (device_id, device_event_id, site_id, worker_id, worker_code, credential_hash,
                                 refusal, kind, occurred_at, work_date, method, extras, received_at)
  SELECT %(device)s, u.e, %(site)s, (SELECT w.id FROM workers w WHERE w.worker_id = u.c), u.c, u.h, u.r, u.k, u.a,
         u.d, u.m, u.x, %(now)s
  FROM ROWS FROM (json_to_recordset(%(rows)s::json)
                  AS (e text, c text, h text, r text, k text, a timestamptz, d date, m text, x json)) WITH ORDINALITY
       AS u(e, c, h, r, k, a, d, m, x, ord)
  ORDER BY u.ord
  ON CONFLICT (device_id, device_event_id) DO NOTHING
  RETURNING device_event_id, id, worker_id, work_date, occurred_at
), s AS (
  SELECT max_shift_hours AS h, make_interval(hours => max_shift_hours) AS span FROM sites WHERE id = %(site)s
), locked AS (
  SELECT count(*) AS n FROM (
    SELECT pg_advisory_xact_lock(k) FROM (
      SELECT DISTINCT (g.w::bigint << 20) | (g.d - DATE '0001-01-01' + 1 + n.n) AS k
      FROM (SELECT i.worker_id AS w, i.work_date AS d, min(i.occurred_at) AS f, max(i.occurred_at) AS l
            FROM ins i WHERE i.worker_id IS NOT NULL GROUP BY i.worker_id, i.work_date) AS g
      CROSS JOIN s
      CROSS JOIN LATERAL (VALUES (0),
          (CASE WHEN g.f - s.span < g.d::timestamp AT TIME ZONE 'Asia/Tokyo' THEN -1 END),
          (CASE WHEN g.l + s.span >= (g.d + 1)::timestamp AT TIME ZONE 'Asia/Tokyo' THEN 1 END)) AS n(n)
      WHERE n.n IS NOT NULL ORDER BY k) AS keys) AS l
)
SELECT ins.device_event_id, ins.id, ins.worker_id, s.h FROM ins CROSS JOIN s CROSS JOIN locked
"""

# Per (worker, calendar day) of the new taps, with f / l its first / last new tap: the stored taps of the site's
# max_shift_hours up to f (portal.history.shifts decides from them whether f continues a shift of the day before), and
# whether the next day has a tap within max_shift_hours after l (the new taps may move it). The window is the
# site's own setting, read in the same statement with the roster version (under the locks); the rule itself is
# applied in Python (portal.history.shifts). Every probe is per key (LATERAL) and names one calendar day, so that both
# events indexes, (worker, site, day) and (site, day, worker), answer it with all three columns as bounds
# whatever the statistics say: a range of days let a fresh database's planner pick (site, day, worker) and scan
# every event of the site's two days for each key (55–80 ms a batch instead of 2). Each probe is also gated by a
# condition on the key alone (a one-time filter: the index is not touched when it is false): the day before only
# when f - max_shift_hours falls in it, the day's own taps only when the day before has some in the window (else
# every tap of the window is of this day, and so is f's shift), the next day only when l + max_shift_hours reaches
# it (an exit at 18:00 reads one day, not three).
SHIFT_WINDOWS = """
SELECT u.w, u.d, s.h, s.v, prev.ats, prev.kinds, cur.ats, cur.kinds, nxt.found
FROM json_to_recordset(%(keys)s::json) AS u(w int, d date, f timestamptz, l timestamptz)
CROSS JOIN (SELECT max_shift_hours AS h, make_interval(hours => max_shift_hours) AS span, roster_version AS v
            FROM sites WHERE id = %(site)s) AS s
CROSS JOIN LATERAL (SELECT array_agg(e.occurred_at) AS ats, array_agg(e.kind) AS kinds FROM entry_exit_events e
    WHERE u.f - s.span < u.d::timestamp AT TIME ZONE 'Asia/Tokyo'
    AND e.worker_id = u.w AND e.site_id = %(site)s AND e.work_date = u.d - 1 AND e.occurred_at >= u.f - s.span) AS prev
CROSS JOIN LATERAL (SELECT array_agg(e.occurred_at) AS ats, array_agg(e.kind) AS kinds FROM entry_exit_events e
    WHERE prev.ats IS NOT NULL
    AND e.worker_id = u.w AND e.site_id = %(site)s AND e.work_date = u.d
    AND e.occurred_at >= u.f - s.span AND e.occurred_at <= u.f) AS cur
CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM entry_exit_events e
    WHERE u.l + s.span >= (u.d + 1)::timestamp AT TIME ZONE 'Asia/Tokyo'
    AND e.worker_id = u.w AND e.site_id = %(site)s AND e.work_date = u.d + 1
    AND e.occurred_at <= u.l + s.span)) AS nxt(found)
"""

# The rows of a batch, merged into the stored ones, and the trail of what actually changed, in one statement. The
# stored row as it was comes back with the new one: a subquery in RETURNING reads the statement's snapshot, taken
# before the upsert (the (worker, day) locks keep others out), and finds the row by its primary key, one probe that
# no plan can turn into a scan (a join on the day key let a fresh database's planner hash every history of the
# site, or walk the site's day in (site, day), for each batch: 40–90 ms instead of 5). A closed day's row (its
# correction deadline passed: the batch marks it deadline_passed) is left alone unless it is itself a
# deadline_passed row (see portal.history.histories). The trail's diff is made in that same subquery, where the stored
# row's fields are plain columns (taking fields out of a row value in the outer query cost about 1 µs each, 26 per
# row), and cheaply for the usual tap (an exit sets last_exit_at): when none of the roster facts moved (one row
# comparison), only the three capture fields are compared, each by itself; a row whose facts changed is diffed over
# all thirteen (that general diff for every row was 10 of the statement's 33 ms a batch on a fresh database).
UPSERT_HISTORIES = """
WITH u AS (
  SELECT * FROM json_to_recordset(%(rows)s::json) AS u(worker_id int, work_date date, employer_id int, trade_id int,
     position text, work_content text, hazardous_work bool, qualifications json, methods text,
     first_entry_at timestamptz, last_exit_at timestamptz, counted bool, not_counted_reason text,
     valid_for_evaluation bool, invalid_reason text)
), n AS (
  INSERT INTO work_histories AS h (worker_id, site_id, work_date, employer_id, trade_id, position, work_content,
      hazardous_work, qualifications, methods, first_entry_at, last_exit_at, counted, not_counted_reason,
      valid_for_evaluation, invalid_reason, updated_at)
  SELECT u.worker_id, %(site)s, u.work_date, u.employer_id, u.trade_id, u.position, u.work_content, u.hazardous_work,
         u.qualifications, u.methods, u.first_entry_at, u.last_exit_at, u.counted, u.not_counted_reason,
         u.valid_for_evaluation, u.invalid_reason, %(now)s
  FROM u ORDER BY u.worker_id, u.work_date
  ON CONFLICT (worker_id, site_id, work_date) DO UPDATE SET
    employer_id = EXCLUDED.employer_id, trade_id = EXCLUDED.trade_id, position = EXCLUDED.position,
    work_content = EXCLUDED.work_content, hazardous_work = EXCLUDED.hazardous_work,
    qualifications = EXCLUDED.qualifications, counted = EXCLUDED.counted,
    not_counted_reason = EXCLUDED.not_counted_reason, valid_for_evaluation = EXCLUDED.valid_for_evaluation,
    invalid_reason = EXCLUDED.invalid_reason, updated_at = EXCLUDED.updated_at,
    first_entry_at = LEAST(h.first_entry_at, EXCLUDED.first_entry_at),
    last_exit_at = GREATEST(h.last_exit_at, EXCLUDED.last_exit_at),
    methods = CASE WHEN h.methods = EXCLUDED.methods THEN h.methods ELSE
      COALESCE((SELECT string_agg(m, ',' ORDER BY COALESCE(array_position(%(order)s::text[], m), 1000), m COLLATE "C")
                FROM (SELECT DISTINCT unnest(string_to_array(h.methods, ',') || string_to_array(EXCLUDED.methods, ',')) AS m) AS x
                WHERE m <> ''), '') END
  WHERE EXCLUDED.not_counted_reason IS DISTINCT FROM 'deadline_passed' OR h.not_counted_reason = 'deadline_passed'
  RETURNING h.worker_id, h.site_id, h.work_date, h.employer_id, h.methods, h.first_entry_at, h.last_exit_at,
    (SELECT CASE WHEN ROW(o.employer_id, o.trade_id, o.position, o.work_content, o.hazardous_work, o.counted,
                          o.not_counted_reason, o.valid_for_evaluation, o.invalid_reason)
                      IS NOT DISTINCT FROM ROW(h.employer_id, h.trade_id, h.position, h.work_content, h.hazardous_work,
                          h.counted, h.not_counted_reason, h.valid_for_evaluation, h.invalid_reason)
                      AND o.qualifications::jsonb IS NOT DISTINCT FROM h.qualifications::jsonb
      THEN jsonb_build_object(
        'b', CASE WHEN o.methods IS DISTINCT FROM h.methods
                  THEN jsonb_build_object('methods', o.methods) ELSE '{}' END
             || CASE WHEN o.first_entry_at IS DISTINCT FROM h.first_entry_at
                  THEN jsonb_build_object('first_entry_at', o.first_entry_at) ELSE '{}' END
             || CASE WHEN o.last_exit_at IS DISTINCT FROM h.last_exit_at
                  THEN jsonb_build_object('last_exit_at', o.last_exit_at) ELSE '{}' END,
        'a', CASE WHEN o.methods IS DISTINCT FROM h.methods
                  THEN jsonb_build_object('methods', h.methods) ELSE '{}' END
             || CASE WHEN o.first_entry_at IS DISTINCT FROM h.first_entry_at
                  THEN jsonb_build_object('first_entry_at', h.first_entry_at) ELSE '{}' END
             || CASE WHEN o.last_exit_at IS DISTINCT FROM h.last_exit_at
                  THEN jsonb_build_object('last_exit_at', h.last_exit_at) ELSE '{}' END)
      ELSE (SELECT jsonb_build_object('b', COALESCE(jsonb_object_agg(f.k, f.b), '{}'), 'a', jsonb_object_agg(f.k, f.a))
            FROM (VALUES ('employer_id', to_jsonb(o.employer_id), to_jsonb(h.employer_id)),
                 ('trade_id', to_jsonb(o.trade_id), to_jsonb(h.trade_id)),
                 ('position', to_jsonb(o.position), to_jsonb(h.position)),
                 ('work_content', to_jsonb(o.work_content), to_jsonb(h.work_content)),
                 ('hazardous_work', to_jsonb(o.hazardous_work), to_jsonb(h.hazardous_work)),
                 ('qualifications', to_jsonb(o.qualifications), to_jsonb(h.qualifications)),
                 ('methods', to_jsonb(o.methods), to_jsonb(h.methods)),
                 ('first_entry_at', to_jsonb(o.first_entry_at), to_jsonb(h.first_entry_at)),
                 ('last_exit_at', to_jsonb(o.last_exit_at), to_jsonb(h.last_exit_at)),
                 ('counted', to_jsonb(o.counted), to_jsonb(h.counted)),
                 ('not_counted_reason', to_jsonb(o.not_counted_reason), to_jsonb(h.not_counted_reason)),
                 ('valid_for_evaluation', to_jsonb(o.valid_for_evaluation), to_jsonb(h.valid_for_evaluation)),
                 ('invalid_reason', to_jsonb(o.invalid_reason), to_jsonb(h.invalid_reason))) AS f(k, b, a)
            WHERE f.b IS DISTINCT FROM f.a) END
     FROM work_histories o WHERE o.id = h.id) AS d
)
INSERT INTO work_history_changes (worker_id, site_id, work_date, employer_id, action, before, after, cause, actor, at)
SELECT n.worker_id, n.site_id, n.work_date, n.employer_id, CASE WHEN n.d IS NULL THEN 'added' ELSE 'changed' END,
       (n.d->'b')::json, CASE WHEN n.d IS NULL THEN json_build_object('methods', n.methods,
         'first_entry_at', n.first_entry_at, 'last_exit_at', n.last_exit_at) ELSE (n.d->'a')::json END,
       'tap', %(actor)s, %(now)s
FROM n
WHERE n.d IS NULL OR n.d->'b' <> '{}'
"""

class Statement:
    """A statement with named placeholders, run with positional parameters and prepared on the server (psycopg
    caches the conversion only for short positional queries; planning once is cheaper)."""

    def __init__(self, sql: str):
        self.names = re.findall(r"%\((\w+)\)[bs]", sql)
        self.sql = re.sub(r"\s+", " ", re.sub(r"%\((\w+)\)([bs])", r"%\2", sql)).strip()

    def run(self, cur, params: dict):
        return cur.execute(self.sql, [params[n] for n in self.names], prepare=True)


INSERT_EVENTS, SHIFT_WINDOWS, UPSERT_HISTORIES = (
    Statement(s) for s in (INSERT_EVENTS, SHIFT_WINDOWS, UPSERT_HISTORIES))


class ShiftLengthGrew(Exception):
    """The site's max_shift_hours grew between the locks and the shift windows (a site edit committed in between):
    the locks may not cover the longer window, so the batch runs again (portal.ingest retries this code)."""

    sqlstate = "40001"


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def store(session: Session, device, valid: list, now: datetime.datetime) -> dict[int, int]:
    """Store the batch (sorted by worker and time) and fold it into histories; {batch index: event pk} of new ones.
    Worker pks are resolved in the insert itself (the 14-digit ID sent, or the one a plugin resolved)."""
    cur = session.connection().connection.driver_connection.cursor()
    INSERT_EVENTS.run(cur, {"device": device.id, "site": device.site_id, "now": now, "rows": json.dumps([
        {"e": v.event_id, "c": v.worker_code, "h": v.credential_hash, "r": v.refusal and v.refusal.code, "k": v.kind,
         "a": v.occurred_at.isoformat(),
         "d": v.work_date.isoformat(), "m": v.method, "x": v.extras} for v in valid])})
    by_event_id = {v.event_id: v for v in valid}
    stored = {}
    locked_hours = None
    for event_id, pk, worker_pk, locked_hours in cur.fetchall():
        v = by_event_id[event_id]
        v.worker_id = worker_pk
        stored[v.index] = pk
    new = [v for v in valid if v.index in stored and v.worker_id is not None]
    if new:
        fold(session, cur, device, new, now, locked_hours)
    return stored


def fold(session: Session, cur, device, new: list, now: datetime.datetime, locked_hours: int) -> None:
    site_id = device.site_id
    one = datetime.timedelta(days=1)
    taps: dict = defaultdict(list)  # (worker, calendar day) → taps
    for v in new:
        taps[(v.worker_id, v.work_date)].append(Tap(v.occurred_at, v.kind, v.method))
    keys = sorted(taps)  # their (worker, day) locks, and those of the days their windows reach, came with the insert
    full, current_version = shift_neighbours(cur, site_id, taps, locked_hours)
    if histories.DAY_INPUT_PROVIDERS:
        full |= {(w, d) for (w, _s, d) in histories.day_inputs(session, [(w, site_id, d) for w, d in keys])}
    simple = [k for k in keys if k not in full]
    today = histories.tokyo_date(now)
    if simple:
        # the version read again under the locks (with the shift windows): a roster change that committed while the
        # batch was validated (and took these locks for its own recompute) has raised it since the batch began
        ctx = histories.site_roster(session, site_id, current_version, {w for w, _d in simple})
        rows = []
        for w, d in simple:
            if histories.is_closed(d, today):  # a late tap: kept out of a stored closed day (the upsert's WHERE)
                row = histories.late_row(ctx, w, site_id, d, taps[(w, d)])
            else:
                row = histories.derive(ctx, w, site_id, d, taps[(w, d)], [])
            row.update(worker_id=w, work_date=d.isoformat(), first_entry_at=_iso(row["first_entry_at"]),
                       last_exit_at=_iso(row["last_exit_at"]))
            rows.append(row)
        UPSERT_HISTORIES.run(cur, {"site": site_id, "now": now, "order": MARK_ORDER, "actor": f"機器 {device.id}",
                                   "rows": json.dumps(rows)})
    if full:
        histories.recompute(session, [(w, site_id, d) for w, d in sorted(full)], neighbours=False,
                            cause=histories.tap_cause(device), today=today)


def shift_neighbours(cur, site_id: int, taps: dict, locked_hours: int) -> tuple[set, int]:
    """The (worker, day) keys the merge cannot express, of these new taps by (worker, calendar day): a day whose
    first new tap belongs to the day before (both are derived again), a day whose next day has taps the new ones
    may move (both again); and the site's roster version. Under the locks of the days the windows of ``taps`` reach
    with ``locked_hours``: a longer shift length read now raises ShiftLengthGrew."""
    one = datetime.timedelta(days=1)
    SHIFT_WINDOWS.run(cur, {"site": site_id, "keys": json.dumps([
        {"w": w, "d": d.isoformat(), "f": min(t.at for t in ts).isoformat(), "l": max(t.at for t in ts).isoformat()}
        for (w, d), ts in sorted(taps.items())])})
    full: set = set()
    version = None
    rule = None
    for w, day, hours, version, before_ats, before_kinds, ats, kinds, later in cur.fetchall():
        if hours > locked_hours:
            raise ShiftLengthGrew(f"max_shift_hours {locked_hours} → {hours}")
        if before_ats:  # without taps of the day before in the window, f's shift begins on its own day
            rule = rule or shifts.ShiftRule.of_site(hours)
            window = [Tap(at, kind, "") for at, kind in zip(before_ats + (ats or []), before_kinds + (kinds or []))]
            found = shifts.assign_days(window, rule)
            if not found or found[-1][0] != day:  # the first new tap continues a shift of the day before
                full |= {(w, day - one), (w, day)}
        if later:
            full |= {(w, day), (w, day + one)}
    return full, version
