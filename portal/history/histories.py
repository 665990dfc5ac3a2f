"""就業履歴: derive one WorkHistory row per worker, site and day from the stored events (and from approved
day inputs other modules contribute, e.g. 直接入力・事後補正), the site roster (作業員名簿) active that day, the site's
approval, its 就業履歴蓄積期間 and its approved 施工体制.

Rules (decided here, where domain.md is silent):
- The day of a tap is the Tokyo day its shift started (portal.history.shifts: shifts across midnight, 夜間工事, with the
  site's 最長勤務時間). Events keep their calendar day (EntryExitEvent.work_date, never rewritten: events are
  append-only); the rule is applied when the history is derived, from calendar days D-1, D and D+1 only, so the
  result does not depend on arrival order.
- Facts have periods, and a day reads the facts of that day (:class:`Context`): the roster row
  (start_date..end_date), the affiliation (started_on, or the day it was recorded, ..ended_on; a 取消 link still
  held over its period: 転職 ends the old link on a date), the structure link (from its approval's Tokyo date
  until ended_on), the qualification (取得年月日, or without one the day it was registered, ..有効期限), the
  site's approval (approved_on) and its 就業履歴蓄積期間. A roster row or qualification recorded after a day's
  correction deadline does not reach that day (so a closed day derives as it did when it closed).
- Employer, trade (小分類), role (立場), work content and hazardous work come from the roster row active that day,
  never from the device. A worker without one: employer = the primary affiliation that held that day (so the
  employer sees the tap and can fix the roster), no trade or role, not counted.
- Not counted (非計上), first reason that applies: site not registered → site not approved by the prime (that
  day) → outside the 就業履歴蓄積期間 → worker not registered on the site that day → a tier above the employer
  missing from the structure that day (then trade and role are unknown: shown empty).
- Valid for skill evaluation: counted, and an affiliation with the employer that held that day, a trade, a role
  and at least one qualification held that day; ``invalid_reason`` lists what is missing.
- Closed days stay closed: a day may change until its :func:`correction_deadline` (the end of the month after
  the work day, Tokyo). After it (:func:`is_closed`) a stored row is never updated or deleted by anything (ingest,
  recompute, rebuild): :func:`_apply` keeps it and reports the difference as frozen. A device event received after
  the deadline is stored and never counted: a day that has only such events gets a row not counted for
  ``deadline_passed`` (補正期限経過), which later late events of that day extend; a day already stored ignores them.
  A closed day without a stored row gets its derived row (a gap filled, nothing changed). Because the derivation
  reads the facts of the day (and the cut-offs above), a rebuild of a closed month derives what is stored
  (``rebuild(write=False)`` reports 0 differences): the ordinary changes are new facts (an edit from today, a
  link or affiliation ended yesterday, a qualification from its registration). Only a rewrite of a closed
  period's facts (a roster row or link deleted, a period moved back) makes it differ; the stored rows still win,
  and the rebuild lists those differences as ``frozen``, never writing them. (Chosen: derive as of the day and
  compare; not a copy of every fact's past versions.)
- Every insert, update and delete of a stored history writes one row of the trail (WorkHistoryChange: the changed
  fields before and after, the cause and who), in one multi-row insert per call.
- Methods: the marks of the events (IC, 顔, 電話, QR, API …) and inputs (直接), in a fixed order.

Entry points: :func:`recompute` (keys that changed: a registration, approval, correction, new events) and
:func:`rebuild` (everything, or a month, from the events; reports differences). Both write with Core statements
on the table (not filtered by row-level scope): callers run them under a reviewed scope: ingest for the device's
site, corrections after checking the actor, administrators from the CLI.

Other modules contribute day inputs with :func:`register_day_inputs` (see :class:`DayInput`).
"""
from __future__ import annotations

import bisect
import copy
import dataclasses
import datetime
import weakref
from collections import defaultdict
from typing import Callable, Iterable, NamedTuple

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from portal.history import day_locks, shifts
from portal.app.clock import TOKYO, tokyo_date, tokyo_today
from portal.models import (
    Affiliation,
    EntryExitEvent,
    Qualification,
    Site,
    SiteWorkerRegistration,
    StructureLink,
    WorkerQualification,
    WorkHistory,
    WorkHistoryChange,
)

UTC = datetime.timezone.utc
MARK_ORDER = ["IC", "顔", "電話", "QR", "API", "直接"]  # calendar marks; unknown marks follow, by code point
DEADLINE_PASSED = "deadline_passed"  # not counted: received after the day's correction deadline (補正期限経過)
MISSING_LABELS = {"not_counted": "非計上", "employer": "所属事業者", "trade": "職種", "position": "立場",
                  "qualification": "資格"}
FIELDS = ("employer_id", "trade_id", "position", "work_content", "hazardous_work", "qualifications", "methods",
          "first_entry_at", "last_exit_at", "counted", "not_counted_reason", "valid_for_evaluation", "invalid_reason")

Key = tuple  # (worker pk, site pk or None, work_date)


# --- the correction deadline: one rule for every module ------------------------------------------------------

def correction_deadline(day: datetime.date) -> datetime.date:
    """The last day on which the history of ``day`` may change: the end of the month after the work day (Tokyo).
    Direct input, correction and approval close then too (portal.history.corrections)."""
    first_of_next = (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return (first_of_next + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


def is_closed(day: datetime.date, today: datetime.date) -> bool:
    """Whether the history of ``day`` is closed on ``today`` (Tokyo): its correction deadline has passed."""
    return today > correction_deadline(day)


def first_open_day(today: datetime.date) -> datetime.date:
    """The earliest work day still open on ``today``: the first of the previous month."""
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def _known_by_deadline(recorded_at, day: datetime.date) -> bool:
    """A fact recorded after ``day``'s deadline does not reach ``day`` (None: recorded before this was kept)."""
    return recorded_at is None or tokyo_date(recorded_at) <= correction_deadline(day)


# --- day inputs other modules contribute ---------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DayInput:
    """An approved input for one (worker, site, day) besides device events (直接入力 adds the day; 事後補正 changes
    its details). ``None`` keeps what the roster gives. ``attested``: the prime contractor vouched for the worker on
    the site that day, so 'not on the roster' does not apply (other not-counted reasons still do)."""

    mark: str = "直接"
    employer_id: int | None = None
    trade_id: int | None = None
    position: str | None = None
    work_content: str | None = None
    hazardous_work: bool | None = None
    first_entry_at: datetime.datetime | None = None
    last_exit_at: datetime.datetime | None = None
    attested: bool = True
    # awaiting the prime's approval: a day no device recorded shows, not counted (元請現場未承認); a pending input
    # changes nothing of a day that has events or approved inputs
    pending: bool = False


# provider(session, keys, date_range) → {key: [DayInput, …]}; keys is a list of keys, or None with a
# (first, last) date_range for a rebuild (then return every input in the range).
DayInputProvider = Callable[[Session, "list[Key] | None", "tuple[datetime.date, datetime.date] | None"], dict]
DAY_INPUT_PROVIDERS: list[DayInputProvider] = []


def register_day_inputs(provider: DayInputProvider) -> DayInputProvider:
    """Register a source of approved day inputs (idempotent; usable as a decorator)."""
    if provider not in DAY_INPUT_PROVIDERS:
        DAY_INPUT_PROVIDERS.append(provider)
    return provider


def day_inputs(session: Session, keys=None, date_range=None) -> dict:
    found: dict = defaultdict(list)
    for provider in DAY_INPUT_PROVIDERS:
        for key, inputs in (provider(session, keys, date_range) or {}).items():
            found[key].extend(inputs)
    return found


# --- time helpers --------------------------------------------------------------------------------------------

def aware(value: datetime.datetime | None) -> datetime.datetime | None:
    """SQLite returns naive UTC datetimes: make every datetime aware (UTC) before comparing."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def calendar_day(at: datetime.datetime) -> datetime.date:
    return aware(at).astimezone(TOKYO).date()


def day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), TOKYO).astimezone(UTC)


def mark_order(mark: str):
    return (MARK_ORDER.index(mark) if mark in MARK_ORDER else len(MARK_ORDER), mark)


def join_marks(marks: Iterable[str]) -> str:
    marks = {m for m in marks if m}
    return marks.pop() if len(marks) == 1 else ",".join(sorted(marks, key=mark_order))


class Tap(NamedTuple):
    """What a history needs of one event (a tuple: the ingest makes one per event)."""

    at: datetime.datetime  # aware, UTC
    kind: str
    mark: str


class ReceivedTap(NamedTuple):
    """A stored event read back: a Tap with the Tokyo date it was received (to tell a late one, received after its
    day's correction deadline). Same attributes as Tap for the day assignment."""

    at: datetime.datetime
    kind: str
    mark: str
    received_on: datetime.date | None


def _late(tap, day: datetime.date) -> bool:
    received = getattr(tap, "received_on", None)
    return received is not None and received > correction_deadline(day)


assign_days = shifts.assign_days  # the work day of each tap: portal.history.shifts


# --- what the roster, structure and qualifications say ------------------------------------------------------

class Context:
    """Everything a day's history needs besides its events, loaded once for a set of workers and sites with Core
    statements (reviewed: the caller decided which keys to derive). Every fact is read with its period: the
    methods answer "what held on this day"."""

    def __init__(self, session: Session, worker_ids: Iterable[int], site_ids: Iterable[int]):
        worker_ids, site_ids = sorted(set(worker_ids)), sorted({s for s in site_ids if s is not None})
        self.worker_ids = frozenset(worker_ids)
        self._facts: dict = {}
        self._bounds: dict = {}
        self._connected: dict = {}
        st, lt, rt = Site.__table__, StructureLink.__table__, SiteWorkerRegistration.__table__
        at, wq, qt = Affiliation.__table__, WorkerQualification.__table__, Qualification.__table__
        self.sites = {r.id: r for r in chunked(session, select(
            st.c.id, st.c.approved, st.c.approved_on, st.c.accumulation_start, st.c.accumulation_end,
            st.c.prime_employer_id), st.c.id, site_ids)}
        # site → [(upper, lower, first day, last day)]: links that held on some day (approved, maybe ended since)
        self.links: dict = defaultdict(list)
        for r in chunked(session, select(lt.c.site_id, lt.c.upper_employer_id, lt.c.lower_employer_id, lt.c.status,
                                          lt.c.approved_at, lt.c.ended_on).where(lt.c.status.in_(LINK_HELD)),
                         lt.c.site_id, site_ids):
            if r.status == "承認済" or r.ended_on is not None:  # an end without its date: held on no day
                first = tokyo_date(r.approved_at) if r.approved_at is not None else None
                self.links[r.site_id].append((r.upper_employer_id, r.lower_employer_id, first, r.ended_on))
        self._link_bounds = {site: _bounds_of((f, e) for _u, _l, f, e in links) for site, links in self.links.items()}
        self.registrations: dict = defaultdict(list)
        if site_ids:
            for r in chunked(session, select(rt).where(rt.c.site_id.in_(site_ids)), rt.c.worker_id, worker_ids):
                self.registrations[(r.worker_id, r.site_id)].append(r)
        self.affiliations: dict = defaultdict(list)  # worker → [(employer, primary, first day, last day)]
        for r in chunked(session, select(at.c.worker_id, at.c.employer_id, at.c.status, at.c.is_primary,
                                          at.c.started_on, at.c.ended_on, at.c.created_at)
                         .order_by(at.c.is_primary.desc(), at.c.id), at.c.worker_id, worker_ids):
            if r.status == "承認済" or (r.status == "取消" and r.ended_on is not None):
                first = r.started_on or (tokyo_date(r.created_at) if r.created_at is not None else None)
                self.affiliations[r.worker_id].append((r.employer_id, r.is_primary, first, r.ended_on))
        self.qualifications: dict = defaultdict(list)  # worker → [(code, first day, last day, recorded at)]
        for r in chunked(session, select(wq.c.worker_id, qt.c.code, wq.c.obtained_on, wq.c.expires_on, wq.c.created_at)
                         .join(qt, qt.c.id == wq.c.qualification_id), wq.c.worker_id, worker_ids):
            first = r.obtained_on or (tokyo_date(r.created_at) if r.created_at is not None else None)
            self.qualifications[r.worker_id].append((r.code, first, r.expires_on, r.created_at))

    def facts(self, worker_id: int, site_id: int | None, day: datetime.date) -> dict:
        """_facts of a day without day inputs, remembered for the stretch of days around ``day`` in which none of
        the worker's periods (roster rows, affiliations, qualifications, the site's 蓄積期間, approval and links)
        begins or ends, and no correction deadline of a recorded fact passes: the facts are the same on every day
        of it, and a site's taps ask for the same stretch again and again."""
        bounds = self._bounds.get((worker_id, site_id))
        if bounds is None:
            bounds = self._bounds[(worker_id, site_id)] = self._period_bounds(worker_id, site_id)
        key = (worker_id, site_id, bisect.bisect_right(bounds, day))
        found = self._facts.get(key)
        if found is None:
            if len(self._facts) >= 100_000:  # bounded: a long-running ingest process keeps its site's Context
                self._facts.clear()
            found = self._facts[key] = _facts(self, worker_id, site_id, day, [], False)
        return found

    def _period_bounds(self, worker_id: int, site_id: int | None) -> list[datetime.date]:
        """The days on which something _facts reads for this worker and site changes (a period's first day, the
        day after its last; the first day a recorded fact no longer reaches), in order."""
        site = self.sites.get(site_id)
        periods = [(r.start_date, r.end_date) for r in self.registrations.get((worker_id, site_id), ())]
        periods += [(f, e) for _e, _p, f, e in self.affiliations.get(worker_id, ())]
        periods += [(f, e) for _c, f, e, _r in self.qualifications.get(worker_id, ())]
        if site is not None:
            periods += [(site.accumulation_start, site.accumulation_end), (site.approved_on, None)]
        days = set(_bounds_of(periods)) | set(self._link_bounds.get(site_id, ()))
        recorded = [r.created_at for r in self.registrations.get((worker_id, site_id), ())]
        recorded += [q[3] for q in self.qualifications.get(worker_id, ())]
        # a fact recorded on R reaches the days whose deadline is R or later: it stops at the first of the month
        # before R's month
        days |= {first_open_day(tokyo_date(r)) for r in recorded if r is not None}
        return sorted(days)

    def registration(self, worker_id: int, site_id: int, day: datetime.date):
        active = [r for r in self.registrations.get((worker_id, site_id), ())
                  if _within(day, r.start_date, r.end_date) and _known_by_deadline(r.created_at, day)]
        return max(active, key=lambda r: (r.start_date or datetime.date.min, r.id)) if active else None

    def affiliated(self, worker_id: int, employer_id: int | None, day: datetime.date) -> bool:
        return employer_id is not None and any(
            e == employer_id and _within(day, first, last) for e, _p, first, last in self.affiliations.get(worker_id, ()))

    def primary_employer(self, worker_id: int, day: datetime.date) -> int | None:
        """The employer whose affiliation held on ``day``, the primary one first."""
        return next((e for e, _p, first, last in self.affiliations.get(worker_id, ()) if _within(day, first, last)),
                    None)

    def qualification_codes(self, worker_id: int, day: datetime.date) -> list[str]:
        return sorted({code for code, first, last, recorded in self.qualifications.get(worker_id, ())
                       if _within(day, first, last) and _known_by_deadline(recorded, day)})

    def site_approved(self, site, day: datetime.date) -> bool:
        return bool(site.approved) and (site.approved_on is None or site.approved_on <= day)

    def connected(self, site_id: int, day: datetime.date) -> set:
        """The employers reachable from the prime through the links that held on ``day``."""
        site = self.sites.get(site_id)
        if site is None:
            return set()
        key = (site_id, bisect.bisect_right(self._link_bounds.get(site_id, []), day))
        found = self._connected.get(key)
        if found is None:
            children: dict = defaultdict(set)
            for upper, lower, first, last in self.links.get(site_id, ()):
                if _within(day, first, last):
                    children[upper].add(lower)
            found, todo = {site.prime_employer_id}, [site.prime_employer_id]
            while todo:
                for child in children.get(todo.pop(), ()):
                    if child not in found:
                        found.add(child)
                        todo.append(child)
            self._connected[key] = found
        return found


LINK_HELD = ("承認済", "解除")  # 解除 with its ended_on: held from its approval until then


def _bounds_of(periods) -> list[datetime.date]:
    days: set = set()
    for start, end in periods:
        days.update(d for d in (start, end and end + datetime.timedelta(days=1)) if d is not None)
    return sorted(days)


# engine → {site pk: (sites.roster_version, Context)}: per process and database (weak: tests make many engines)
_SITE_ROSTERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def site_roster(session: Session, site_id: int, roster_version: int, worker_ids: Iterable[int]) -> Context:
    """The Context of one site for the ingest, kept in memory until the site's roster_version moves
    (portal.history.roster_changes raises it with every change a history of the site is derived from, in the changing
    transaction). It holds every worker registered on the site; workers of ``worker_ids`` who are not (their
    affiliations and qualifications do not move this site's version) are read for this call only."""
    by_site = _SITE_ROSTERS.setdefault(session.get_bind(), {})
    cached = by_site.get(site_id)
    if cached is None or cached[0] != roster_version:
        rt = SiteWorkerRegistration.__table__
        registered = session.execute(select(rt.c.worker_id).where(rt.c.site_id == site_id).distinct()).scalars()
        cached = by_site[site_id] = (roster_version, Context(session, registered, [site_id]))
    ctx = cached[1]
    others = set(worker_ids) - ctx.worker_ids
    if not others:
        return ctx
    extra = Context(session, others, [site_id])
    merged = copy.copy(ctx)
    merged._facts, merged._bounds = {}, {}  # facts of the others must not outlive this call
    merged.affiliations = {**ctx.affiliations, **extra.affiliations}
    merged.qualifications = {**ctx.qualifications, **extra.qualifications}
    return merged


def _within(day, start, end) -> bool:
    return (start is None or start <= day) and (end is None or end >= day)


def chunked(session: Session, stmt, column, values, size: int = 900):
    """Run ``stmt`` with ``column IN values``: on PostgreSQL as one ``= ANY(array)`` (one statement text whatever
    the count: cached and planned once), elsewhere in chunks (SQLite limits bound parameters)."""
    values = list(values)
    if not values:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import any_, literal
        from sqlalchemy.dialects.postgresql import ARRAY

        yield from session.execute(stmt.where(column == any_(literal(values, ARRAY(column.type))))).all()
        return
    for i in range(0, len(values), size):
        yield from session.execute(stmt.where(column.in_(values[i:i + size]))).all()


def derive(ctx: Context, worker_id: int, site_id: int | None, day: datetime.date, taps: list[Tap],
           inputs: list[DayInput]) -> dict | None:
    """The history row of one (worker, site, day), or None when nothing happened that day. Taps received after the
    day's correction deadline count for nothing while the day has others (or inputs); alone, they make a row not
    counted for ``deadline_passed``."""
    pending_only = not taps and bool(inputs) and all(i.pending for i in inputs)
    if not pending_only:
        inputs = [i for i in inputs if not i.pending]
    late = [t for t in taps if _late(t, day)]
    if late:
        taps = [t for t in taps if not _late(t, day)]
        if not taps and not inputs:
            return late_row(ctx, worker_id, site_id, day, late)
    if not taps and not inputs:
        return None
    if not inputs:  # the ingest's case, once per event: taps only (their times are aware already)
        row = dict(ctx.facts(worker_id, site_id, day))
        row.update(_tap_fields(taps))
        return row
    row = _facts(ctx, worker_id, site_id, day, inputs, pending_only)
    entries = [t.at for t in taps if t.kind == "entry"] + [i.first_entry_at for i in inputs if i.first_entry_at]
    exits = [t.at for t in taps if t.kind == "exit"] + [i.last_exit_at for i in inputs if i.last_exit_at]
    row.update(methods=join_marks([t.mark for t in taps] + [i.mark for i in inputs]),
               first_entry_at=min(map(aware, entries)) if entries else None,
               last_exit_at=max(map(aware, exits)) if exits else None)
    return row


def _tap_fields(taps) -> dict:
    return {"methods": join_marks({t.mark for t in taps}),
            "first_entry_at": min((aware(t.at) for t in taps if t.kind == "entry"), default=None),
            "last_exit_at": max((aware(t.at) for t in taps if t.kind == "exit"), default=None)}


def late_row(ctx: Context, worker_id: int, site_id: int | None, day: datetime.date, taps) -> dict:
    """The row of a closed day that only late taps recorded: what held that day, never counted (補正期限経過)."""
    row = dict(ctx.facts(worker_id, site_id, day))
    row.update(_tap_fields(taps), counted=False, not_counted_reason=DEADLINE_PASSED, valid_for_evaluation=False)
    row["invalid_reason"] = _invalid_text(_missing_of(row, ctx.affiliated(worker_id, row["employer_id"], day)))
    return row


def _facts(ctx: Context, worker_id: int, site_id: int | None, day: datetime.date, inputs: list[DayInput],
           pending_only: bool) -> dict:
    """What a day's history says besides its taps: roster, inputs, counted or not and validity."""
    reg = ctx.registration(worker_id, site_id, day) if site_id is not None else None
    row = {"employer_id": reg.employer_id if reg else ctx.primary_employer(worker_id, day),
           "trade_id": reg.trade_id if reg else None, "position": reg.position if reg else None,
           "work_content": reg.work_content if reg else None, "hazardous_work": bool(reg.hazardous_work) if reg else False}
    for inp in inputs:
        for field in ("employer_id", "trade_id", "position", "work_content", "hazardous_work"):
            if getattr(inp, field) is not None:
                row[field] = getattr(inp, field)
    site = ctx.sites.get(site_id) if site_id is not None else None
    if site is None:
        reason = "site_unregistered"
    elif not ctx.site_approved(site, day):
        reason = "site_unapproved"
    elif not _within(day, site.accumulation_start, site.accumulation_end):
        reason = "outside_period"
    elif reg is None and not any(i.attested for i in inputs):
        reason = "worker_not_registered"
    elif row["employer_id"] not in ctx.connected(site_id, day):
        reason = "structure_gap"
        row["trade_id"] = row["position"] = None  # unknown below a missing tier
    else:
        reason = None
    if pending_only and reason != "site_unregistered":
        reason = "site_unapproved"  # 元請現場未承認: the prime has not approved the request yet
    quals = ctx.qualification_codes(worker_id, day)
    row.update(qualifications=quals, counted=reason is None, not_counted_reason=reason)
    missing = _missing_of(row, ctx.affiliated(worker_id, row["employer_id"], day))
    row.update(valid_for_evaluation=not missing, invalid_reason=_invalid_text(missing))
    return row


def _missing_of(row: dict, affiliated: bool) -> list[str]:
    return [label for label, miss in (
        ("not_counted", not row["counted"]), ("employer", not affiliated),
        ("trade", row["trade_id"] is None), ("position", not row["position"]),
        ("qualification", not row["qualifications"])) if miss]


def _invalid_text(missing: list[str]) -> str | None:
    if not missing:
        return None
    return ("、".join(MISSING_LABELS[m] for m in missing) + "なし").replace("非計上なし", "非計上")


# --- reading events ------------------------------------------------------------------------------------------

def _taps_by_pair(session: Session, pairs: Iterable[tuple[int, int]], first: datetime.date,
                  last: datetime.date) -> dict:
    """Events of these (worker, site) pairs on calendar days first..last, as taps by pair."""
    et = EntryExitEvent.__table__
    pairs = set(pairs)
    found: dict = defaultdict(list)
    workers = sorted({w for w, _s in pairs})
    sites = sorted({s for _w, s in pairs})
    stmt = select(et.c.worker_id, et.c.site_id, et.c.occurred_at, et.c.kind, et.c.method, et.c.received_at).where(
        et.c.site_id.in_(sites), et.c.work_date >= first, et.c.work_date <= last)
    for r in chunked(session, stmt, et.c.worker_id, workers):
        if (r.worker_id, r.site_id) in pairs:
            found[(r.worker_id, r.site_id)].append(_received_tap(r))
    return found


def _received_tap(r) -> ReceivedTap:
    return ReceivedTap(aware(r.occurred_at), r.kind, r.method,
                       tokyo_date(r.received_at) if r.received_at is not None else None)


def derive_keys(session: Session, keys: Iterable[Key], inputs: dict | None = None) -> dict:
    """The derived row (or None) of every key."""
    keys = sorted(set(keys), key=_key_order)
    if not keys:
        return {}
    one = datetime.timedelta(days=1)
    inputs = day_inputs(session, keys) if inputs is None else inputs
    by_pair: dict = defaultdict(set)
    for w, s, d in keys:
        if s is not None:
            by_pair[(w, s)].add(d)
    taps: dict = {}
    if by_pair:
        first = min(min(ds) for ds in by_pair.values()) - one
        last = max(max(ds) for ds in by_pair.values()) + one
        if (last - first).days > 62 and len(by_pair) > 1:  # scattered keys: one narrow query per pair
            for pair, days in by_pair.items():
                taps.update(_taps_by_pair(session, [pair], min(days) - one, max(days) + one))
        else:
            taps = _taps_by_pair(session, by_pair, first, last)
    ctx = Context(session, {k[0] for k in keys}, {k[1] for k in keys})
    return _derive_all(ctx, keys, taps, inputs, shifts.site_rules(session, {s for _w, s in taps}))


def _derive_all(ctx: Context, keys, taps: dict, inputs: dict, rules: dict) -> dict:
    per_day = shifts.taps_by_day(taps, rules)
    return {k: derive(ctx, k[0], k[1], k[2], per_day.get(k, []), inputs.get(k, [])) for k in keys}


def _key_order(k):
    return (k[0], k[1] if k[1] is not None else -1, k[2])


# --- writing -------------------------------------------------------------------------------------------------

def _existing(session: Session, keys) -> dict:
    ht = WorkHistory.__table__
    keys = list(keys)
    if not keys:
        return {}
    wanted = set(keys)
    days = [k[2] for k in keys]
    stmt = select(ht.c.id, ht.c.worker_id, ht.c.site_id, ht.c.work_date, *[ht.c[f] for f in FIELDS]).where(
        ht.c.work_date >= min(days), ht.c.work_date <= max(days))
    found = {}
    for r in chunked(session, stmt, ht.c.worker_id, sorted({k[0] for k in keys})):
        key = (r.worker_id, r.site_id, r.work_date)
        if key in wanted:
            found[key] = r
    return found


def _normal(field: str, value):
    if field in ("first_entry_at", "last_exit_at"):
        return aware(value)
    if field in ("counted", "valid_for_evaluation", "hazardous_work"):
        return bool(value)
    if field == "qualifications":
        return list(value or [])
    return value


def _changes(old, new: dict) -> dict:
    return {f: (_normal(f, getattr(old, f)), _normal(f, new[f])) for f in FIELDS
            if _normal(f, getattr(old, f)) != _normal(f, new[f])}


@dataclasses.dataclass
class Difference:
    """One history that differed from what the events give: added, removed or changed (field → (before, after))."""

    key: Key
    action: str
    changes: dict = dataclasses.field(default_factory=dict)
    frozen: bool = False  # a closed day: reported, never written

    def __str__(self) -> str:
        w, s, d = self.key
        detail = "; ".join(f"{f}: {b!r} → {a!r}" for f, (b, a) in self.changes.items())
        return f"{d} worker={w} site={s} {self.action}{' (closed: kept)' if self.frozen else ''} {detail}".rstrip()


@dataclasses.dataclass(frozen=True)
class Cause:
    """Why histories are written, for the trail: tap / correction / roster / rebuild, and who (a login or a
    device)."""

    cause: str
    actor: str | None = None


REBUILD = Cause("rebuild")
TAP_FIELDS = ("methods", "first_entry_at", "last_exit_at")  # a tap's first row of a day is recorded with these only


def _json(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


def _trail_row(key: Key, action: str, before: dict | None, after: dict | None, employer_id, cause: Cause,
               now: datetime.datetime) -> dict:
    return {"worker_id": key[0], "site_id": key[1], "work_date": key[2], "employer_id": employer_id,
            "action": action, "before": before, "after": after, "cause": cause.cause, "actor": cause.actor, "at": now}


def _row_values(row, fields=FIELDS) -> dict:
    get = row.get if isinstance(row, dict) else lambda f: getattr(row, f)
    return {f: _json(_normal(f, get(f))) for f in fields}


def _apply(session: Session, derived: dict, existing: dict, *, cause: Cause, today: datetime.date | None = None) -> list[Difference]:
    """Write what differs, and the trail of each write. A closed day's stored row is never updated or deleted
    (reported as a frozen difference), except one not counted for deadline_passed, which late taps extend; a
    closed day without a stored row gets its derived row."""
    ht = WorkHistory.__table__
    today = today or tokyo_today()
    now = datetime.datetime.now(UTC)
    diffs, inserts, removals, trail = [], [], [], []
    for key in sorted(set(derived) | set(existing), key=_key_order):
        new, old = derived.get(key), existing.get(key)
        frozen = is_closed(key[2], today) and old is not None and old.not_counted_reason != DEADLINE_PASSED
        if new is None and old is not None:
            diffs.append(Difference(key, "removed", frozen=frozen))
            if not frozen:
                removals.append(old.id)
                trail.append(_trail_row(key, "removed", _row_values(old), None, old.employer_id, cause, now))
        elif new is not None and old is None:
            inserts.append({"worker_id": key[0], "site_id": key[1], "work_date": key[2], **new, "updated_at": now})
            diffs.append(Difference(key, "added"))
            after = _row_values(new, TAP_FIELDS if cause.cause == "tap" else FIELDS)
            trail.append(_trail_row(key, "added", None, after, new["employer_id"], cause, now))
        elif new is not None:
            changes = _changes(old, new)
            if changes:
                diffs.append(Difference(key, "changed", changes, frozen=frozen))
                if not frozen:
                    session.execute(update(ht).where(ht.c.id == old.id).values(**new, updated_at=now))
                    trail.append(_trail_row(key, "changed", {f: _json(b) for f, (b, _a) in changes.items()},
                                            {f: _json(a) for f, (_b, a) in changes.items()}, new["employer_id"],
                                            cause, now))
    for i in range(0, len(removals), 900):
        session.execute(delete(ht).where(ht.c.id.in_(removals[i:i + 900])))
    if inserts:
        session.execute(insert(ht), inserts)
    if trail:
        session.execute(insert(WorkHistoryChange.__table__), trail)
    if any(not d.frozen for d in diffs):
        _expire_loaded_histories(session)
    return diffs


def _expire_loaded_histories(session: Session) -> None:
    """Rows were written with Core statements: loaded WorkHistory objects would show stale values."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, WorkHistory):
            session.expire(obj)


def tap_cause(device) -> Cause:
    """The trail's cause of a device's batch."""
    return Cause("tap", f"機器 {device.id}")


def recompute(session: Session, keys: Iterable[Key], *, neighbours: bool = True, cause: Cause | None = None,
              today: datetime.date | None = None) -> list[Difference]:
    """Derive the histories of these (worker pk, site pk or None, work_date) keys again from the stored events,
    the roster and the registered day inputs, and write what changed. A key's neighbour days are included
    (a night tap may move between them) unless ``neighbours`` is False. Returns the differences. Call it whenever a registration, approval or
    correction changes; the caller commits. Closed days (on ``today``, Tokyo) keep their stored rows; ``cause``
    goes into the trail (default: a roster change)."""
    one = datetime.timedelta(days=1)
    wanted = set()
    for w, s, d in keys:
        wanted.add((w, s, d))
        if s is not None and neighbours:
            wanted |= {(w, s, d - one), (w, s, d + one)}
    if wanted and session.get_bind().dialect.name == "postgresql":
        day_locks.lock_days(session, [(w, d) for w, _s, d in wanted])  # before reading the events
    derived = derive_keys(session, wanted)
    existing = _existing(session, wanted)
    return _apply(session, derived, existing, cause=cause or Cause("roster"), today=today)


def month_range(month: str) -> tuple[datetime.date, datetime.date]:
    first = datetime.date.fromisoformat(f"{month}-01")
    last = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    return first, last


def rebuild(session: Session, month: str | None = None, *, write: bool = True,
            today: datetime.date | None = None) -> list[Difference]:
    """Rebuild the histories of one month ("YYYY-MM") or of everything from the events and day inputs; write
    (unless ``write`` is False) and return every difference from what was stored. A closed day is compared,
    never rewritten (its differences come back ``frozen``); a closed day with no stored row gets its row."""
    et, ht = EntryExitEvent.__table__, WorkHistory.__table__
    if month is None:
        bounds = session.execute(select(et.c.work_date).order_by(et.c.work_date).limit(1)).scalar(), \
            session.execute(select(et.c.work_date).order_by(et.c.work_date.desc()).limit(1)).scalar()
        hb = session.execute(select(ht.c.work_date).order_by(ht.c.work_date).limit(1)).scalar(), \
            session.execute(select(ht.c.work_date).order_by(ht.c.work_date.desc()).limit(1)).scalar()
        days = [d for d in (*bounds, *hb) if d is not None]
        if not days:
            return []
        months = sorted({f"{d:%Y-%m}" for d in _month_starts(min(days), max(days))})
        return [d for m in months for d in rebuild(session, m, write=write, today=today)]
    first, last = month_range(month)
    one = datetime.timedelta(days=1)
    taps: dict = defaultdict(list)
    for r in session.execute(select(et.c.worker_id, et.c.site_id, et.c.occurred_at, et.c.kind, et.c.method,
                                    et.c.received_at).where(
            et.c.work_date >= first - one, et.c.work_date <= last + one,
            et.c.worker_id.is_not(None), et.c.site_id.is_not(None))):
        taps[(r.worker_id, r.site_id)].append(_received_tap(r))
    inputs = day_inputs(session, None, (first, last))
    rules = shifts.site_rules(session, {s for _w, s in taps})
    keys = {k for k in shifts.taps_by_day(taps, rules) if first <= k[2] <= last}
    keys |= {k for k in inputs if first <= k[2] <= last}
    existing = {}
    for r in session.execute(select(ht.c.id, ht.c.worker_id, ht.c.site_id, ht.c.work_date,
                                    *[ht.c[f] for f in FIELDS]).where(ht.c.work_date >= first, ht.c.work_date <= last)):
        existing[(r.worker_id, r.site_id, r.work_date)] = r
    ctx = Context(session, {k[0] for k in keys | set(existing)}, {k[1] for k in keys | set(existing)})
    derived = _derive_all(ctx, sorted(keys | set(existing), key=_key_order), taps, inputs, rules)
    if not write:
        return _diff_only(derived, existing, today or tokyo_today())
    return _apply(session, derived, existing, cause=REBUILD, today=today)


def _diff_only(derived: dict, existing: dict, today: datetime.date) -> list[Difference]:
    diffs = []
    for key in sorted(set(derived) | set(existing), key=_key_order):
        new, old = derived.get(key), existing.get(key)
        frozen = is_closed(key[2], today) and old is not None and old.not_counted_reason != DEADLINE_PASSED
        if new is None and old is not None:
            diffs.append(Difference(key, "removed", frozen=frozen))
        elif new is not None and old is None:
            diffs.append(Difference(key, "added"))
        elif new is not None and (changes := _changes(old, new)):
            diffs.append(Difference(key, "changed", changes, frozen=frozen))
    return diffs


def _month_starts(first: datetime.date, last: datetime.date):
    d = first.replace(day=1)
    while d <= last:
        yield d
        d = (d + datetime.timedelta(days=32)).replace(day=1)
