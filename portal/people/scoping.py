"""Row-level scope: who may see and write which rows, enforced once where every ORM query passes.

A ``do_orm_execute`` listener adds ``with_loader_criteria`` for every domain model, so FAB's lists and
counts, show/edit/delete by id, related-field dropdowns, the REST APIs and hand-written report queries are
all filtered the same way; views may narrow further but never widen. Inserts, updates and deletes never pass
``do_orm_execute``: a ``before_flush`` listener refuses rows outside the scope (ScopeError → 403).

Where the scope comes from, first match wins:
1. ``session.info["ccus_scope"]``: an explicit scope (seeding, jobs, CLI, tests, the ingest path) set with
   :func:`using_scope`;
2. the logged-in user of the current request (cached on ``flask.g``);
3. otherwise no rows at all: outside a request there is no user, and we fail closed.

Not filtered (use only under a reviewed, explicit scope): ORM bulk UPDATE by primary key, bulk insert(),
statements on ``Model.__table__`` and ``text()``. The scope itself is computed with such Core statements,
which is why computing it cannot re-enter the listener.
"""
from __future__ import annotations

import contextlib
import functools
import dataclasses
import datetime
from typing import Iterator

from sqlalchemy import and_, event, exists, false, inspect, or_, select, true, union
from sqlalchemy.orm import Session, with_loader_criteria

from portal.app import clock
from portal.people import structure
from portal.app.errors import ScopeError
from portal.models import (
    Affiliation,
    AuditLog,
    Credential,
    Device,
    Employer,
    EntryExitEvent,
    Qualification,
    Site,
    SiteManagerAssignment,
    SiteWorkerRegistration,
    StructureLink,
    Trade,
    Worker,
    WorkerAward,
    WorkerInsurance,
    WorkerPersonal,
    WorkerQualification,
    WorkerTrade,
    WorkHistory,
)

ROLE_ADMIN = "Admin"
ROLE_EMPLOYER = "Employer"  # 事業者責任者: everything of its employer
ROLE_SITE_MANAGER = "SiteManager"  # 現場管理者: only the sites assigned to it
ROLE_WORKER = "Worker"  # 技能者: only its own records

CODE_TABLES = (Trade, Qualification)  # readable by everyone, writable by administrators
WORKER_CHILDREN = (WorkerTrade, WorkerQualification, WorkerAward, WorkerInsurance)  # 作業員名簿 items
SCOPED_MODELS = (
    Employer, Worker, WorkerPersonal, *WORKER_CHILDREN, Affiliation, Site, SiteManagerAssignment, StructureLink,
    SiteWorkerRegistration, Device, Credential, EntryExitEvent, WorkHistory, AuditLog,
)


INTERNAL = "ccus_scope_internal"  # execution option of the scope's own membership questions (never filtered)


class IdSet:
    """Primary keys a scope may see, kept as a SELECT of one column that the database plans, never as a list
    carried in Python: ``Model.col.in_(ids)`` renders ``col IN (SELECT …)``, so a login that may see a million
    workers binds no more parameters than one that sees ten (psycopg refuses a statement of more than 65,535).

    A keyed set (``key`` a table, ``conds`` functions of an alias of it) is ``SELECT k.id FROM key k WHERE
    EXISTS (…) OR EXISTS (…)``, each EXISTS correlated to ``k`` only: asked about one row (a show page, a lazy
    load) the database probes the indexes for that id instead of building the whole set. ``value in ids`` and
    ``bool(ids)`` ask the database, once per value (a scope lives for one request or one job); iterating is
    refused, since it would load the whole set."""

    __slots__ = ("key", "conds", "selects", "_session", "_known", "_nonempty")

    def __init__(self, session: Session, *, key=None, conds=(), selects=()):
        self.key, self.conds, self.selects = key, tuple(conds), tuple(selects)
        self._session, self._known, self._nonempty = session, {}, None

    @property
    def stmt(self):
        parts = list(self.selects)
        if self.conds:
            k = self.key.alias()
            parts.append(select(k.c.id).where(or_(*(cond(k) for cond in self.conds))))
        return parts[0] if len(parts) == 1 else union(*parts)

    def __clause_element__(self):
        return self.stmt

    def _ask(self, stmt) -> bool:
        return bool(self._session.execute(stmt, execution_options={INTERNAL: True}).scalar())

    def __contains__(self, value) -> bool:
        if value is None:
            return False
        if value not in self._known:
            sub = self.stmt.subquery()
            self._known[value] = self._ask(select(exists().where(sub.c[0] == value)))
        return self._known[value]

    def __bool__(self) -> bool:
        if self._nonempty is None:
            self._nonempty = self._ask(select(exists().select_from(self.stmt.subquery())))
        return self._nonempty

    def first(self):
        """One member (the smallest), or None: a representative, never the set (portal.people.scoping.may_add)."""
        sub = self.stmt.subquery()
        return self._session.execute(select(sub.c[0]).order_by(sub.c[0]).limit(1),
                                     execution_options={INTERNAL: True}).scalar()

    def __iter__(self):
        raise TypeError("a scope's id set is a SELECT: filter with col.in_(ids), test one value with `in`")

    __len__ = __iter__

    def __or__(self, other):
        return union_ids(self, other)

    __ror__ = __or__

    def union(self, *others):
        return union_ids(self, *others)

    def __repr__(self) -> str:
        return f"IdSet({self.stmt})"


def union_ids(*sets):
    """The union of id sets: of frozensets a frozenset; with an IdSet one IdSet (the EXISTS of sets keyed on
    the same table joined by OR, other SELECTs by UNION)."""
    sets = [s for s in sets if not (isinstance(s, (frozenset, set)) and not s)]
    if all(isinstance(s, (frozenset, set)) for s in sets):
        return frozenset().union(*sets)
    if not all(isinstance(s, IdSet) for s in sets):
        raise TypeError("union of a SELECT id set with listed ids")
    keys = {s.key for s in sets if s.conds}
    if len(keys) > 1:
        raise TypeError("union of id sets of different tables")
    return IdSet(sets[0]._session, key=next(iter(keys), None), conds=[c for s in sets for c in s.conds],
                 selects=[sel for s in sets for sel in s.selects])


@dataclasses.dataclass(frozen=True)
class Scope:
    """What one principal may see. ``kind`` is all / none / employer / worker; the ID sets are primary keys:
    frozensets where they are few (a worker's own, the sites of an employer), an :class:`IdSet` (a SELECT)
    where they grow with the data (an employer's workers, roster rows, structure links). Both work in
    ``Model.col.in_(scope.X)`` and ``value in scope.X``."""

    kind: str
    employer_id: int | None = None
    worker_id: int | None = None
    site_manager: bool = False
    employer_ids: frozenset = frozenset()  # employers visible
    site_ids: frozenset = frozenset()  # sites visible (participating, or assigned for a 現場管理者)
    prime_site_ids: frozenset = frozenset()  # sites where the employer is the prime contractor (元請)
    lower_by_site: tuple = ()  # ((site_id, frozenset(employer ids at or below the employer)), …)
    worker_ids: frozenset = frozenset()  # workers whose roster row is visible
    own_worker_ids: frozenset = frozenset()  # current workers (affiliation 承認済): all their data
    roster_by_site: tuple = ()  # ((site_id, frozenset(employers at or below in the APPROVED structure)), …)
    roster_worker_ids: frozenset = frozenset()  # on the viewer's roster today (disclosure's ROSTER relation)
    link_ids: frozenset = frozenset()
    registration_ids: frozenset = frozenset()

    @property
    def is_all(self) -> bool:
        return self.kind == "all"

    @property
    def participating_site_ids(self) -> frozenset:
        """Sites where the employer is the prime or an approved subcontractor (not merely invited)."""
        return frozenset(site_id for site_id, _below in self.lower_by_site)


ALL = Scope("all")
NONE = Scope("none")

# Models that other modules add (corrections, disclosure …) declare their rules here, next to the model:
# register_rule(Model, read=lambda scope: <criterion>, write=lambda scope, obj, deleting: <bool>).
# read is called only for the employer and worker kinds (all sees everything, none nothing).
from portal.people.rules import EXTRA_RULES, register_rule  # noqa: E402,F401  (import-free registry: no cycle)
from portal.models.disclosure import EMPLOYER, ROSTER, SELF, relations_reading  # noqa: E402  (the one rule)


def scoped_models() -> tuple:
    return SCOPED_MODELS + CODE_TABLES + tuple(EXTRA_RULES)


# --- computing a scope (Core statements on tables only: not filtered, no re-entry) ---------------------------

def _ids(session: Session, stmt) -> frozenset:
    return frozenset(session.execute(stmt).scalars().all())


def _approved_links(session: Session, site_ids) -> list:
    t = StructureLink.__table__
    if not site_ids:
        return []
    return session.execute(
        select(t.c.id, t.c.site_id, t.c.upper_employer_id, t.c.lower_employer_id, t.c.status).where(
            t.c.site_id.in_(site_ids)
        )
    ).all()


def _below(links, site_id: int, root: int) -> set:
    """Employer ids at or below ``root`` in the approved structure of one site."""
    children: dict[int, set] = {}
    for _id, s, upper, lower, status in links:
        if s == site_id and status == "承認済":
            children.setdefault(upper, set()).add(lower)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _active(regs, today: datetime.date):
    return and_(or_(regs.c.start_date.is_(None), regs.c.start_date <= today),
                or_(regs.c.end_date.is_(None), regs.c.end_date >= today))


def _roster_conds(roster_by_site, today: datetime.date) -> list:
    regs, aff = SiteWorkerRegistration.__table__, Affiliation.__table__.alias("employing")
    conds = [and_(regs.c.site_id == site, regs.c.employer_id.in_(below)) for site, below in roster_by_site]
    if not conds:
        return []
    return [or_(*conds), _active(regs, today), exists().where(  # still employed by the registering company
        aff.c.worker_id == regs.c.worker_id, aff.c.employer_id == regs.c.employer_id,
        aff.c.status == "承認済").correlate_except(aff)]


def _roster_cond(roster_by_site, today: datetime.date):
    """The roster rule as a condition on an alias ``w`` of workers (the scope's ``roster_worker_ids``)."""
    regs, conds = SiteWorkerRegistration.__table__, _roster_conds(roster_by_site, today)
    if not conds:
        return None
    return lambda w: and_(w.c.withdrawn_at.is_(None),
                          exists().where(regs.c.worker_id == w.c.id, *conds).correlate(w))


def on_roster(session: Session, roster_by_site, today: datetime.date, worker_id: int | None = None) -> frozenset:
    """The roster rule (portal.people.disclosure's ROSTER relation, and the row scope of the 作業員名簿 items): the
    workers with a roster row active today on one of the viewer's sites, put there by a company at or below
    the viewer in that site's approved structure (``roster_by_site``) that still employs them (所属 承認済),
    and not withdrawn (退会). Not a worker who merely tapped at a gate, nor one of an only invited company.
    ``worker_id`` asks about one worker (disclosure asks afresh at each question); the scope itself keeps the
    rule as a SELECT (``Scope.roster_worker_ids``)."""
    regs, workers, conds = SiteWorkerRegistration.__table__, Worker.__table__, _roster_conds(roster_by_site, today)
    if not conds:
        return frozenset()
    stmt = (select(regs.c.worker_id).distinct().join(workers, workers.c.id == regs.c.worker_id)
            .where(*conds, workers.c.withdrawn_at.is_(None)))
    return _ids(session, stmt if worker_id is None else stmt.where(regs.c.worker_id == worker_id))


def _in_structure(site_col, employer_col, employer_id: int, prime_sites, lower_by_site):
    """(site, employer) pairs of the viewer's structure: on its own prime sites the prime and every company on
    the site's structure, approved or not yet (an EXISTS on the link's unique (site, lower) key, so the
    criterion does not grow with the companies); elsewhere the companies at or below it (few)."""
    links = StructureLink.__table__.alias("on_structure")
    conds = [and_(site_col == s, employer_col.in_(below)) for s, below in lower_by_site if s not in prime_sites]
    if prime_sites:
        conds.append(and_(site_col.in_(prime_sites), or_(employer_col == employer_id, exists().where(
            links.c.site_id == site_col, links.c.lower_employer_id == employer_col).correlate_except(links))))
    return conds


def employer_scope(session: Session, employer_id: int, manager_user_id: int | None = None,
                   today: datetime.date | None = None) -> Scope:
    """The scope of an employer user. ``manager_user_id`` limits it to a 現場管理者's assigned sites.

    Sites and the structure (bounded by the sites an employer takes part in) are read here; the sets that
    grow with the workforce and the gate's history (workers, roster rows, links) stay SELECTs (:class:`IdSet`)
    that every statement embeds, so computing the scope reads no worker and binds no worker id."""
    today = today or clock.tokyo_today()
    sites, links_t, regs, aff = (Site.__table__, StructureLink.__table__, SiteWorkerRegistration.__table__,
                                 Affiliation.__table__)
    workers, ev = Worker.__table__, EntryExitEvent.__table__
    prime_sites = _ids(session, select(sites.c.id).where(sites.c.prime_employer_id == employer_id))
    as_lower = _ids(session, select(links_t.c.site_id).where(
        links_t.c.lower_employer_id == employer_id, links_t.c.status == "承認済"))
    invited = _ids(session, select(links_t.c.site_id).where(
        links_t.c.lower_employer_id == employer_id, links_t.c.status == "招待中"))
    participating = prime_sites | as_lower
    if manager_user_id is not None:
        assigned = _ids(session, select(SiteManagerAssignment.__table__.c.site_id).where(
            SiteManagerAssignment.__table__.c.user_id == manager_user_id))
        participating &= assigned
        prime_sites &= assigned
        invited = frozenset()
    links = _approved_links(session, participating | invited)
    lower_by_site = {s: frozenset(_below(links, s, employer_id)) for s in participating}
    roster_by_site = tuple(sorted(lower_by_site.items()))  # the approved structure only, the prime's too
    for s in prime_sites:  # the prime sees the whole tree, approved or not yet
        lower_by_site[s] = frozenset({lid for _i, ls, u, lid, _st in links if ls == s} | {employer_id})
    employer_ids = {employer_id}
    for _i, s, upper, lower, _st in links:  # the companies of the links it sees (the rule of link_ids below)
        if (s in participating and upper in lower_by_site.get(s, ())) or lower == employer_id:
            employer_ids |= {upper, lower}
    employer_ids |= set(_ids(session, select(sites.c.prime_employer_id).where(sites.c.id.in_(participating | invited))))
    # Links: its own (as the lower company) and, on a participating site, those whose upper company is at or
    # below it (on its prime sites: any company of the structure).
    structure_sites = participating | invited
    link_conds = [and_(links_t.c.lower_employer_id == employer_id, links_t.c.site_id.in_(structure_sites))] \
        if structure_sites else []
    link_conds += _in_structure(links_t.c.site_id, links_t.c.upper_employer_id, employer_id, prime_sites,
                                sorted(lower_by_site.items()))
    link_ids = IdSet(session, selects=[select(links_t.c.id).where(or_(*link_conds)).correlate(None)]) \
        if link_conds else frozenset()

    def own(w):  # a current worker (所属 承認済, not 退会)
        return and_(w.c.withdrawn_at.is_(None), exists().where(
            aff.c.worker_id == w.c.id, aff.c.employer_id == employer_id, aff.c.status == "承認済").correlate(w))

    own_workers = IdSet(session, key=workers, conds=[own])
    # Roster rows: own registrations anywhere; on a participating site those of the employers below, while active.
    active = _active(regs, today)
    conds = [regs.c.employer_id == employer_id] if manager_user_id is None else []
    conds += [and_(c, active) for c in _in_structure(regs.c.site_id, regs.c.employer_id, employer_id, prime_sites,
                                                      sorted(lower_by_site.items()))]
    if manager_user_id is not None:
        conds += [and_(regs.c.site_id.in_(participating), regs.c.employer_id == employer_id)] if participating else []
    visible = [own] if manager_user_id is None else []
    if conds:
        registration_ids = IdSet(session, selects=[select(regs.c.id).where(or_(*conds)).correlate(None)])
        visible.append(lambda w: exists().where(regs.c.worker_id == w.c.id, or_(*conds), or_(
            regs.c.employer_id != employer_id, own(w))).correlate(w))
    else:
        registration_ids = frozenset()
    # Who came through the gates of its own sites: the prime must see who they are to fix a not-counted day.
    if prime_sites:
        visible.append(lambda w: exists().where(ev.c.worker_id == w.c.id, ev.c.site_id.in_(prime_sites)).correlate(w))
    roster = _roster_cond(roster_by_site, today)
    return Scope(
        "employer", employer_id=employer_id, site_manager=manager_user_id is not None,
        employer_ids=frozenset(employer_ids), site_ids=frozenset(participating | invited),
        prime_site_ids=frozenset(prime_sites), lower_by_site=tuple(sorted(lower_by_site.items())),
        worker_ids=IdSet(session, key=workers, conds=visible) if visible else frozenset(),
        own_worker_ids=own_workers if manager_user_id is None else frozenset(),
        roster_by_site=roster_by_site,
        roster_worker_ids=IdSet(session, key=workers, conds=[roster]) if roster is not None else frozenset(),
        link_ids=link_ids, registration_ids=registration_ids,
    )


def worker_scope(session: Session, worker_id: int) -> Scope:
    regs, aff = SiteWorkerRegistration.__table__, Affiliation.__table__
    reg_rows = session.execute(select(regs.c.id, regs.c.site_id, regs.c.employer_id).where(
        regs.c.worker_id == worker_id)).all()
    employers = _ids(session, select(aff.c.employer_id).where(aff.c.worker_id == worker_id))
    site_ids = frozenset(r.site_id for r in reg_rows)
    primes = _ids(session, select(Site.__table__.c.prime_employer_id).where(Site.__table__.c.id.in_(site_ids))) \
        if site_ids else frozenset()
    return Scope(
        "worker", worker_id=worker_id, employer_ids=frozenset(employers | primes | {r.employer_id for r in reg_rows}),
        site_ids=site_ids, worker_ids=frozenset({worker_id}), own_worker_ids=frozenset({worker_id}),
        registration_ids=frozenset(r.id for r in reg_rows),
    )


def scope_for_user(session: Session, user) -> Scope:
    """The scope of a FAB user (portal.people.security.User): by role and organisation."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NONE
    roles = {r.name for r in getattr(user, "roles", [])}
    if ROLE_ADMIN in roles:
        return ALL
    if getattr(user, "employer_id", None) and ROLE_EMPLOYER in roles:
        return employer_scope(session, user.employer_id)
    if getattr(user, "employer_id", None) and ROLE_SITE_MANAGER in roles:
        return employer_scope(session, user.employer_id, manager_user_id=user.id)
    if getattr(user, "worker_id", None) and ROLE_WORKER in roles:
        return worker_scope(session, user.worker_id)
    return NONE


# --- where the scope applies ----------------------------------------------------------------------------------

def item_readers(scope: Scope, model):
    """The workers whose ``model`` rows (items of a worker's record: portal.models.disclosure.MODEL_ITEMS) the
    scope reads: those to whom it stands in a relation that portal.people.disclosure.decide lets see every item on
    the row. An employer: its current workers (EMPLOYER) and, for 作業員名簿 items only, its roster (ROSTER);
    a worker: itself. Gate-only workers read nothing here (the Worker row says who they are)."""
    if scope.kind == "worker":
        groups = {SELF: scope.own_worker_ids}
    else:
        groups = {EMPLOYER: scope.own_worker_ids, ROSTER: scope.roster_worker_ids}
    return union_ids(*(groups[k] for k in relations_reading(model.__name__, groups)))


def site_employer_criterion(scope: Scope, site_col, employer_col):
    """Rows of a site and a company the scope reads by the structure (histories, their trail): every row of
    its prime sites; on the other sites where it takes part, the rows of the companies at or below it."""
    conds = [site_col.in_(scope.prime_site_ids)] if scope.prime_site_ids else []
    conds += [and_(site_col == site_id, employer_col.in_(below)) for site_id, below in scope.lower_by_site
              if site_id not in scope.prime_site_ids]  # a prime site's pairs are already all of it
    return conds


def criteria(scope: Scope) -> dict:
    """The WHERE criterion for each scoped model under ``scope``."""
    if scope.is_all:
        return {}
    return {**_core_criteria(scope), **_extra_criteria(scope)}


def _extra_criteria(scope: Scope) -> dict:
    if scope.kind == "none":
        return {m: false() for m in EXTRA_RULES}
    return {model: read(scope) for model, (read, _write) in EXTRA_RULES.items()}


def loader_options(scope: Scope) -> list:
    """``criteria`` as the loader options a statement takes. The core models' options are built once per scope:
    each with_loader_criteria coerces its criterion, and some sixty of them per statement cost more than the
    statement on SQLite (FAB's ~5,000 start-up queries run under the anonymous scope)."""
    if scope.is_all:
        return []
    return [*_core_options(scope), *(_loader_option(m, c) for m, c in _extra_criteria(scope).items())]


def _loader_option(model, criterion):
    return with_loader_criteria(model, criterion, include_aliases=True, propagate_to_loaders=False)


@functools.lru_cache(maxsize=64)
def _core_options(scope: Scope) -> tuple:
    return tuple(_loader_option(m, c) for m, c in _core_criteria(scope).items())


@functools.lru_cache(maxsize=64)
def _core_criteria(scope: Scope) -> dict:
    """The core models' criteria, a function of the scope alone, so built once per scope: an employer with
    thousands of workers has IN lists of thousands, and building them cost tens of ms for every statement.
    (EXTRA_RULES are asked each time: a rule may read the request, as report jobs do.)"""
    if scope.kind == "none":
        return {m: false() for m in SCOPED_MODELS}
    worker_children = {m: m.worker_id.in_(item_readers(scope, m)) for m in WORKER_CHILDREN}
    history_conds = site_employer_criterion(scope, WorkHistory.site_id, WorkHistory.employer_id)
    if scope.kind == "worker":
        history = WorkHistory.worker_id == scope.worker_id
        events = EntryExitEvent.worker_id == scope.worker_id
        affiliation = Affiliation.worker_id == scope.worker_id  # the worker sees its past employers too
        audit = AuditLog.worker_id == scope.worker_id  # who looked at my data
        devices = false()
    else:
        own = [] if scope.site_manager else [WorkHistory.employer_id == scope.employer_id]
        history = or_(false(), *own, *history_conds)
        events = EntryExitEvent.site_id.in_(scope.prime_site_ids)
        affiliation = Affiliation.employer_id == scope.employer_id if not scope.site_manager else false()
        audit = false()
        devices = Device.site_id.in_(scope.prime_site_ids)
    return {
        Employer: true(),  # the registered-employer directory is public in CCUS (登録事業者検索); writes stay own-only
        Worker: Worker.id.in_(scope.worker_ids),
        WorkerPersonal: WorkerPersonal.worker_id.in_(item_readers(scope, WorkerPersonal)),
        **worker_children,
        Affiliation: affiliation,
        Site: Site.id.in_(scope.site_ids),
        SiteManagerAssignment: SiteManagerAssignment.site_id.in_(scope.prime_site_ids),
        StructureLink: StructureLink.id.in_(scope.link_ids) if scope.kind != "worker" else false(),
        SiteWorkerRegistration: SiteWorkerRegistration.id.in_(scope.registration_ids),
        Device: devices,
        Credential: Credential.worker_id.in_(scope.own_worker_ids) if scope.kind != "worker" else false(),
        EntryExitEvent: events,
        WorkHistory: history,
        AuditLog: audit,
    }


def ref(obj, column: str):
    """A foreign key's value before the flush: set directly, or through its relationship (the REST API and
    forms set the related object, and the column is filled only during the flush)."""
    value = getattr(obj, column, None)
    if value is None:
        related = getattr(obj, column[: -len("_id")], None)
        value = getattr(related, "id", None)
    return value


def changed(obj, *attrs) -> bool:
    """Whether the flush would change any of ``attrs`` of ``obj`` (a column or its relationship)."""
    state = inspect(obj)
    return any(state.attrs[a].history.has_changes() for a in attrs if a in state.attrs)


def before(obj, attr: str):
    """The stored value of ``attr`` (what the row holds before this flush)."""
    history = inspect(obj).attrs[attr].history
    return history.deleted[0] if history.deleted else getattr(obj, attr)


# Set by evaluation (能力評価) and registration (the operator, an import), never by the employer.
REGISTRATION_FIELDS = ("level", "level_since", "registration_type", "card_expires_on", "registered_on")
LINK_TERMS = ("work_scope", "contract_amount_yen")  # the upper company's terms of a subcontract


def _writable(scope: Scope, obj, deleting: bool) -> bool:
    """May ``scope`` insert, change or delete ``obj``? Checked on the values the row would have after the flush."""
    if scope.is_all:
        return True
    if isinstance(obj, AuditLog):
        return not deleting and obj.id is None  # append-only for everybody
    for model, (_read, write) in EXTRA_RULES.items():
        if isinstance(obj, model):
            return scope.kind != "none" and bool(write(scope, obj, deleting))
    if scope.kind != "employer" or isinstance(obj, CODE_TABLES):
        return False
    e = scope.employer_id
    if isinstance(obj, Employer):
        return obj.id == e and not deleting and not scope.site_manager
    if isinstance(obj, Worker):
        if obj.id in scope.own_worker_ids and changed(obj, *REGISTRATION_FIELDS):
            raise ScopeError("技能レベル・レベル取得日・登録区分・カード有効期限・初回登録日は、能力評価と技能者登録"
                             "（システム管理者・取込）で設定されます。事業者は変更できません。", code="set_by_registration")
        return obj.id in scope.own_worker_ids and not deleting
    if isinstance(obj, (WorkerPersonal, *WORKER_CHILDREN, Credential)):
        return ref(obj, "worker_id") in scope.own_worker_ids
    if isinstance(obj, Affiliation):  # an employer may cancel (取消) its own links (portal.people.validation allows no
        # other change of status, for anybody); a new link is the worker's request (350), approved by the employer
        return ref(obj, "employer_id") == e and obj.id is not None and not deleting and not scope.site_manager
    if isinstance(obj, Site):
        return ref(obj, "prime_employer_id") == e and (obj.id is None or obj.id in scope.prime_site_ids)
    if isinstance(obj, SiteManagerAssignment):
        return ref(obj, "site_id") in scope.prime_site_ids and not scope.site_manager
    if isinstance(obj, StructureLink):  # the upper company invites; the lower one approves or declines
        if obj.id is None or deleting:
            return (ref(obj, "upper_employer_id") == e and ref(obj, "site_id") in scope.site_ids
                    and (deleting or (obj.status or "招待中") == "招待中"))  # an invitation, never self-approved
        if obj.id not in scope.link_ids:
            return False
        side = "upper" if ref(obj, "upper_employer_id") == e else "lower" if ref(obj, "lower_employer_id") == e else None
        if side == "lower" and changed(obj, *LINK_TERMS):
            raise ScopeError("契約金額・担当工事内容は上位事業者が設定します。下位事業者は変更できません。",
                             code="link_terms_upper_only")
        return side is not None and structure.status_change_allowed(side, before(obj, "status"), obj.status)
    if isinstance(obj, SiteWorkerRegistration):
        return (ref(obj, "employer_id") == e and ref(obj, "worker_id") in scope.own_worker_ids
                and ref(obj, "site_id") in scope.participating_site_ids)
    if isinstance(obj, Device):
        return ref(obj, "site_id") in scope.prime_site_ids
    return False  # events and histories change only through portal.ingest / portal.history.histories


def may_write(scope: Scope, obj, deleting: bool = False) -> bool:
    """Would the flush guard let ``scope`` change (``deleting``: delete) ``obj`` as it stands? Screens offer an
    edit or delete button only where this holds, so the offer and the write follow one rule."""
    try:
        return _writable(scope, obj, deleting)
    except ScopeError:
        return False


def may_add(scope: Scope, model) -> bool:
    """Could ``scope`` insert some row of ``model``? Asked of the flush guard itself (:func:`may_write`), with the
    rows its add form could at best fill in: its own company in each reference to a company, itself (a worker) or
    one of its own workers in a reference to a worker, each of its sites in turn. Screens offer the add button and
    open the add form only where this holds (portal.people.offers), so an add is refused by the rule of its write."""
    if scope.is_all:
        return True
    if scope.kind == "none":
        return False
    own = scope.own_worker_ids
    person = scope.worker_id if scope.kind == "worker" else (
        own.first() if isinstance(own, IdSet) else min(own, default=None))
    values, site_refs = {}, []
    for attr in inspect(model).column_attrs:
        target = {fk.column.table.name for column in attr.columns for fk in column.foreign_keys}
        if Employer.__tablename__ in target and scope.employer_id is not None:
            values[attr.key] = scope.employer_id
        elif Worker.__tablename__ in target and person is not None:
            values[attr.key] = person
        elif Site.__tablename__ in target:
            site_refs.append(attr.key)
    sites = [*sorted(scope.site_ids), None] if site_refs else [None]  # None: a row that names no site yet
    return any(may_write(scope, model(**values, **{ref: site for ref in site_refs})) for site in sites)


def leads_a_site(scope: Scope) -> bool:
    """Is the principal the prime contractor (元請) of some site, or a 現場管理者 assigned to one? The site board
    and the device screens are theirs (and the administrator's)."""
    return scope.is_all or bool(scope.prime_site_ids) or (scope.site_manager and bool(scope.site_ids))


# --- plumbing -------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def using_scope(session: Session, scope: Scope) -> Iterator[Session]:
    """Run a block under an explicit scope (seeding, jobs, CLI, tests, the ingest path)."""
    had, previous = "ccus_scope" in session.info, session.info.get("ccus_scope")
    session.info["ccus_scope"] = scope
    try:
        yield session
    finally:
        if had:
            session.info["ccus_scope"] = previous
        else:
            session.info.pop("ccus_scope", None)


def current_scope(session: Session) -> Scope:
    explicit = session.info.get("ccus_scope")
    if explicit is not None:
        return explicit
    try:
        from flask import g, has_request_context
    except ImportError:  # pragma: no cover
        return NONE
    if not has_request_context():
        return NONE
    cached = g.get("ccus_scope")
    if cached is not None:
        return cached
    if g.get("ccus_scope_computing"):
        return ALL  # only Core statements and the user's own login tables run while computing
    g.ccus_scope_computing = True
    try:
        user = _request_user()
        scope = scope_for_user(session, user)
    finally:
        g.ccus_scope_computing = False
    if scope is not NONE:  # an anonymous scope is not cached: a JWT user may be loaded later in the request
        g.ccus_scope = scope
    return scope


def _request_user():
    from flask import g
    from flask_login import current_user

    user = g.get("user")
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    return current_user if current_user and current_user.is_authenticated else None


def install(session_class) -> None:
    """Attach the scope listeners to a Session class (portal's own, so other sessions are untouched)."""

    @event.listens_for(session_class, "do_orm_execute")
    def _filter(state):
        if not (state.is_select or state.is_update or state.is_delete) or state.execution_options.get(INTERNAL):
            return
        scope = current_scope(state.session)
        if scope.is_all:
            return
        state.statement = state.statement.options(*loader_options(scope))

    @event.listens_for(session_class, "before_flush")
    def _guard(session, flush_context, instances):  # noqa: ARG001
        scope = current_scope(session)
        if scope.is_all:
            return
        for obj, deleting in [(o, False) for o in session.new] + [(o, False) for o in session.dirty] + \
                [(o, True) for o in session.deleted]:
            if isinstance(obj, scoped_models()) and not _writable(scope, obj, deleting):
                raise ScopeError()

    @event.listens_for(session_class, "after_commit")
    def _forget(session):  # noqa: ARG001
        # A commit may change the scope itself (a new site, an approved link): compute it again next time.
        try:
            from flask import g, has_request_context

            if has_request_context():
                g.pop("ccus_scope", None)
        except ImportError:  # pragma: no cover
            pass
