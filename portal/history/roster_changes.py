"""Histories follow the rows they are derived from: a change of the site roster (作業員名簿), a site's approval,
就業履歴蓄積期間 or prime contractor, the approved structure (施工体制), an affiliation (所属) or a qualification
(保有資格) derives the stored work histories it touches again, in the same transaction, and raises the affected
sites' ``roster_version`` (the ingest keeps a per-process copy of a site's roster until that moves).

What is affected, per changed row (old and new values both, when a row moved):
- 作業員名簿 (SiteWorkerRegistration): its site; the histories of that worker on that site;
- 施工体制 (StructureLink), when approved or ended (解除) before or after the change (an invitation, declined or
  not yet answered, is not part of the structure): its site; all the site's histories;
- 現場 (Site), an update of approved, approved_on, accumulation_start, accumulation_end or prime_employer_id: itself;
  all its histories; of max_shift_hours (portal.history.shifts): also the days next to them (a tap may move to a day
  without one);
- 所属 (Affiliation), 保有資格 (WorkerQualification) of a worker: every site where the worker is on the roster;
  all the worker's histories (on any site).
Only stored histories are derived again (neighbours=False): whether a day has a history at all depends on its
events and day inputs, never on these rows, and a filed or decided day input already has its stored row
(portal.history.corrections recomputes then), so the stored rows are every key these changes can alter.

A change is a new fact (before the flush, :func:`new_facts`):
- an edit of a roster row's trade, role (立場), work content, hazardous work or employer takes effect from its
  適用開始日 (``effective_from`` on the row, set by the edit screen; default today, Tokyo): when the row began
  before that day, it keeps its values and ends the day before, and a new row with the new values starts that
  day, so past days keep what held then. A 適用開始日 before today is refused: a past day's details change only by
  事後補正, approved by the prime (portal.history.corrections);
- a structure link ended (解除) or an affiliation cancelled (取消) without an end date ends the day before today
  (not before it began): its past days keep it.
Closed days (portal.history.histories.is_closed) never change whatever the edit: the recompute keeps their stored rows.

Seen: ORM flushes through the portal's sessions (screens, REST API, CLI, domain functions). Not seen: bulk Core
writes (the demo builder's events, bench/world.py) and database cascades (a deleted worker's roster rows).

Scope (reviewed): the change itself passed the caller's scope (portal.people.scoping's before_flush guard); its derived
consequences (the version counter, the histories) are the system's, written with Core statements under ALL.
"""
from __future__ import annotations

import dataclasses
import datetime

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from portal.history import histories
from portal.app.clock import tokyo_date, tokyo_today
from portal.app.errors import DomainError
from portal.history.histories import chunked
from portal.models import Affiliation, Site, SiteWorkerRegistration, StructureLink, WorkerQualification, WorkHistory
from portal.people.scoping import ALL, using_scope

LINK_HELD = histories.LINK_HELD  # the link statuses portal.history.histories.Context reads (解除: over its period)
SITE_FIELDS = ("approved", "approved_on", "accumulation_start", "accumulation_end", "prime_employer_id",
               "max_shift_hours")  # read
PENDING = "ccus_roster_changes"  # key in the flush's own attributes: dies with a failed flush


@dataclasses.dataclass
class Affected:
    sites: set = dataclasses.field(default_factory=set)  # roster_version to raise
    whole_sites: set = dataclasses.field(default_factory=set)  # every history of these sites
    whole_workers: set = dataclasses.field(default_factory=set)  # every history of these workers, their roster sites
    pairs: set = dataclasses.field(default_factory=set)  # (worker, site): that worker's histories on that site
    shift_sites: set = dataclasses.field(default_factory=set)  # every history of these sites and the days next to them

    def __bool__(self) -> bool:
        return bool(self.sites or self.whole_sites or self.whole_workers or self.pairs)


def _values(obj, column: str, action: str) -> set:
    """The column's values before and after the flush (a moved row touches both places). Read from the attribute
    history, which still holds the loaded values of a deleted row and the committed value of an updated one."""
    hist = inspect(obj).attrs[column].history
    found = {*hist.added, *hist.unchanged, *hist.deleted}
    if not found and action != "deleted":
        found = {getattr(obj, column)}  # expired but still in the table: load it
    return found - {None}


def _changed(obj, columns=None) -> bool:
    state = inspect(obj)
    columns = columns or [a.key for a in state.mapper.column_attrs]
    return any(state.attrs[c].history.has_changes() for c in columns)


def note(found: Affected, obj, action: str) -> None:
    """Record what ``obj`` (inserted, updated or deleted by this flush) affects."""
    if action == "updated" and not _changed(obj, SITE_FIELDS if isinstance(obj, Site) else None):
        return
    if isinstance(obj, SiteWorkerRegistration):
        sites = _values(obj, "site_id", action)
        found.sites |= sites
        found.pairs |= {(w, s) for w in _values(obj, "worker_id", action) for s in sites}
    elif isinstance(obj, StructureLink):
        if _values(obj, "status", action) & set(LINK_HELD):  # links that held (approved, or ended since), before or after
            found.sites |= _values(obj, "site_id", action)
            found.whole_sites |= _values(obj, "site_id", action)
    elif isinstance(obj, Site):
        if action == "updated":  # a new site has no histories yet, a deleted one had none (portal.people.validation)
            found.sites.add(inspect(obj).identity[0])
            found.whole_sites.add(inspect(obj).identity[0])
            if _changed(obj, ["max_shift_hours"]):
                found.shift_sites.add(inspect(obj).identity[0])
    elif isinstance(obj, (Affiliation, WorkerQualification)):
        found.whole_workers |= _values(obj, "worker_id", action)


def collect(session: Session) -> Affected:
    found = Affected()
    for objs, action in ((session.new, "inserted"), (session.dirty, "updated"), (session.deleted, "deleted")):
        for obj in objs:
            note(found, obj, action)
    return found


def _rows(session: Session, stmt, column, values) -> list[tuple]:
    return [tuple(r) for r in chunked(session, stmt, column, sorted(values))]


def apply(session: Session, found: Affected) -> list[histories.Difference]:
    """Raise the sites' roster_version and derive the affected stored histories again; returns the differences."""
    ht, rt, st = WorkHistory.__table__, SiteWorkerRegistration.__table__, Site.__table__
    key_of = select(ht.c.worker_id, ht.c.site_id, ht.c.work_date)
    with using_scope(session, ALL):
        sites, keys = set(found.sites), set()
        if found.whole_workers:
            keys.update(_rows(session, key_of, ht.c.worker_id, found.whole_workers))
            # the ingest's copy of a site's roster holds the affiliations and qualifications of its registered
            # workers only (portal.history.histories.site_roster reads the others every time)
            sites |= {s for (s,) in _rows(session, select(rt.c.site_id).distinct(), rt.c.worker_id, found.whole_workers)}
        if found.whole_sites:
            keys.update(_rows(session, key_of, ht.c.site_id, found.whole_sites))
        one = datetime.timedelta(days=1)
        keys |= {(w, s, d + n * one) for w, s, d in list(keys) if s in found.shift_sites for n in (-1, 1)}
        if found.pairs:
            stmt = key_of.where(ht.c.site_id.in_(sorted({s for _w, s in found.pairs})))
            keys.update(k for k in _rows(session, stmt, ht.c.worker_id, {w for w, _s in found.pairs})
                        if (k[0], k[1]) in found.pairs)
        if sites:
            session.execute(update(st).where(st.c.id.in_(sorted(sites))).values(roster_version=st.c.roster_version + 1))
            for obj in list(session.identity_map.values()):  # written with Core: loaded sites would show the old one
                if isinstance(obj, Site) and inspect(obj).identity[0] in sites:
                    session.expire(obj, ["roster_version"])
        return histories.recompute(session, keys, neighbours=False, cause=histories.Cause("roster", _actor())) \
            if keys else []


def _actor() -> str | None:
    """The login making the change, for the trail (None outside a request: the CLI, a job)."""
    try:
        from flask import g, has_request_context

        user = getattr(g, "user", None) if has_request_context() else None
    except ImportError:  # pragma: no cover
        return None
    return getattr(user, "username", None) or None


# --- a change is a new fact ----------------------------------------------------------------------------------

ROSTER_DETAILS = (("trade_id", "trade"), ("position", None), ("work_content", None), ("hazardous_work", None),
                  ("employer_id", "employer"))


def _old(state, attr: str):
    """The value ``attr`` had before this flush's change."""
    hist = state.attrs[attr].history
    return hist.deleted[0] if hist.deleted else (hist.unchanged[0] if hist.unchanged else None)


def _effective(obj, today: datetime.date) -> datetime.date:
    value = getattr(obj, "effective_from", None) or today
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError as e:
            raise DomainError("invalid_effective_from", "適用開始日はYYYY-MM-DDの形式で入力してください。") from e
    return value.date() if isinstance(value, datetime.datetime) else value


def split_roster_edit(session: Session, obj: SiteWorkerRegistration, today: datetime.date) -> None:
    state = inspect(obj)
    changed = [(col, rel) for col, rel in ROSTER_DETAILS
               if state.attrs[col].history.has_changes() or (rel and state.attrs[rel].history.has_changes())]
    if not changed:
        return
    effective = _effective(obj, today)
    start = _old(state, "start_date")
    if start is not None and start >= effective:
        return  # the row has not begun before the change takes effect: edited in place
    if effective < today:
        raise DomainError("retroactive_roster_change",
                          f"作業員名簿の変更は本日（{today:%Y年%m月%d日}）以降から適用されます。過去の就業日の職種・立場・"
                          "作業内容は、事後補正を申請し元請事業者の承認を受けてください。")
    end = obj.end_date
    if end is not None and end < effective:
        raise DomainError("roster_row_ended", "この作業員名簿の登録は適用開始日より前に終了しているため変更できません。")
    new = SiteWorkerRegistration(
        site_id=obj.site_id, worker_id=obj.worker_id, start_date=effective, end_date=end,
        entry_education_on=obj.entry_education_on)
    for col, rel in changed:
        related = getattr(obj, rel) if rel and state.attrs[rel].history.has_changes() else None
        if related is not None:
            setattr(new, rel, related)
        else:
            setattr(new, col, getattr(obj, col))
        for name in (col, rel):  # the old row keeps what held until the day before
            if name and state.attrs[name].history.has_changes():
                setattr(obj, name, _old(state, name))
    for col, rel in ROSTER_DETAILS:
        if (col, rel) not in changed:
            setattr(new, col, getattr(obj, col))
    obj.end_date = effective - datetime.timedelta(days=1)
    session.add(new)


def end_on_a_date(obj, today: datetime.date) -> None:
    """A link ended (解除) or an affiliation cancelled (取消) without an end date held until yesterday."""
    yesterday = today - datetime.timedelta(days=1)
    if isinstance(obj, StructureLink) and obj.status == "解除" and obj.ended_on is None and obj.approved_at is not None:
        obj.ended_on = max(yesterday, tokyo_date(obj.approved_at))
    elif isinstance(obj, Affiliation) and obj.status == "取消" and obj.ended_on is None:
        first = obj.started_on or (tokyo_date(obj.created_at) if obj.created_at else yesterday)
        obj.ended_on = max(yesterday, first)


def new_facts(session: Session) -> None:
    today = tokyo_today()
    for obj in list(session.dirty):
        if isinstance(obj, SiteWorkerRegistration):
            split_roster_edit(session, obj, today)
        elif isinstance(obj, (StructureLink, Affiliation)):
            end_on_a_date(obj, today)


def install(session_class) -> None:
    # first of all before_flush listeners: the new rows must pass the scope guard and the validation like any other
    event.listen(session_class, "before_flush", lambda session, ctx, instances: new_facts(session), insert=True)

    @event.listens_for(session_class, "after_flush")
    def _collect(session, flush_context):
        # here new/dirty/deleted and the attribute histories (old values) still describe the flush just written
        found = collect(session)
        if found:
            flush_context.attributes[PENDING] = found

    @event.listens_for(session_class, "after_flush_postexec")
    def _apply(session, flush_context):
        # not in after_flush: only once the flush has finished its own bookkeeping may we write and expire loaded rows
        found = flush_context.attributes.pop(PENDING, None)
        if found:
            apply(session, found)
