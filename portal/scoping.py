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

from sqlalchemy import and_, event, false, inspect, or_, select, true
from sqlalchemy.orm import Session, with_loader_criteria

from portal import clock, structure
from portal.errors import ScopeError
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


@dataclasses.dataclass(frozen=True)
class Scope:
    """What one principal may see. ``kind`` is all / none / employer / worker; the ID sets are primary keys."""

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
from portal.rules import EXTRA_RULES, register_rule  # noqa: E402,F401  (import-free registry: no cycle)
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


def on_roster(session: Session, roster_by_site, today: datetime.date, worker_id: int | None = None) -> frozenset:
    """The roster rule (portal.disclosure's ROSTER relation, and the row scope of the 作業員名簿 items): the
    workers with a roster row active today on one of the viewer's sites, put there by a company at or below
    the viewer in that site's approved structure (``roster_by_site``) that still employs them (所属 承認済),
    and not withdrawn (退会). Not a worker who merely tapped at a gate, nor one of an only invited company.
    ``worker_id`` asks about one worker (disclosure asks afresh at each question)."""
    regs, aff, workers = SiteWorkerRegistration.__table__, Affiliation.__table__, Worker.__table__
    conds = [and_(regs.c.site_id == site, regs.c.employer_id.in_(below)) for site, below in roster_by_site]
    if not conds:
        return frozenset()
    stmt = (select(regs.c.worker_id).distinct()
            .join(aff, and_(aff.c.worker_id == regs.c.worker_id, aff.c.employer_id == regs.c.employer_id,
                            aff.c.status == "承認済"))
            .join(workers, workers.c.id == regs.c.worker_id)
            .where(or_(*conds), _active(regs, today), workers.c.withdrawn_at.is_(None)))
    if worker_id is not None:
        stmt = stmt.where(regs.c.worker_id == worker_id)
    return _ids(session, stmt)


def employer_scope(session: Session, employer_id: int, manager_user_id: int | None = None,
                   today: datetime.date | None = None) -> Scope:
    """The scope of an employer user. ``manager_user_id`` limits it to a 現場管理者's assigned sites."""
    today = today or clock.tokyo_today()
    sites, links_t, regs, aff = (Site.__table__, StructureLink.__table__, SiteWorkerRegistration.__table__,
                                 Affiliation.__table__)
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
    link_ids = {
        i for i, s, upper, lower, _st in links
        if (s in participating and (upper in lower_by_site.get(s, ()) or lower == employer_id)) or lower == employer_id
    }
    employer_ids = {employer_id}
    for i, s, upper, lower, _st in links:
        if i in link_ids:
            employer_ids |= {upper, lower}
    employer_ids |= set(_ids(session, select(sites.c.prime_employer_id).where(sites.c.id.in_(participating | invited))))

    own_workers = _ids(session, select(aff.c.worker_id).join(Worker.__table__, Worker.__table__.c.id == aff.c.worker_id)
                       .where(aff.c.employer_id == employer_id, aff.c.status == "承認済",
                              Worker.__table__.c.withdrawn_at.is_(None)))
    # Roster rows: own registrations anywhere; on a participating site those of the employers below, while active.
    active = _active(regs, today)
    conds = [regs.c.employer_id == employer_id] if manager_user_id is None else []
    for s, below in lower_by_site.items():
        conds.append(and_(regs.c.site_id == s, regs.c.employer_id.in_(below), active))
        if manager_user_id is not None:
            conds.append(and_(regs.c.site_id == s, regs.c.employer_id == employer_id))
    registration_rows = session.execute(
        select(regs.c.id, regs.c.worker_id, regs.c.employer_id, regs.c.site_id).where(or_(false(), *conds))
    ).all() if conds else []
    registration_ids = frozenset(r.id for r in registration_rows)
    roster_workers = {r.worker_id for r in registration_rows
                      if r.employer_id != employer_id or r.worker_id in own_workers}
    # Who came through the gates of its own sites: the prime must see who they are to fix a not-counted day.
    ev = EntryExitEvent.__table__
    gate_workers = _ids(session, select(ev.c.worker_id).where(ev.c.site_id.in_(prime_sites), ev.c.worker_id.is_not(None))
                        .distinct()) if prime_sites else frozenset()
    visible_workers = (own_workers if manager_user_id is None else frozenset()) | roster_workers | gate_workers
    return Scope(
        "employer", employer_id=employer_id, site_manager=manager_user_id is not None,
        employer_ids=frozenset(employer_ids), site_ids=frozenset(participating | invited),
        prime_site_ids=frozenset(prime_sites), lower_by_site=tuple(sorted(lower_by_site.items())),
        worker_ids=frozenset(visible_workers),
        own_worker_ids=own_workers if manager_user_id is None else frozenset(),
        roster_by_site=roster_by_site, roster_worker_ids=on_roster(session, roster_by_site, today),
        link_ids=frozenset(link_ids), registration_ids=registration_ids,
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
    """The scope of a FAB user (portal.security.User): by role and organisation."""
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

def item_readers(scope: Scope, model) -> frozenset:
    """The workers whose ``model`` rows (items of a worker's record: portal.models.disclosure.MODEL_ITEMS) the
    scope reads: those to whom it stands in a relation that portal.disclosure.decide lets see every item on
    the row. An employer: its current workers (EMPLOYER) and, for 作業員名簿 items only, its roster (ROSTER);
    a worker: itself. Gate-only workers read nothing here (the Worker row says who they are)."""
    if scope.kind == "worker":
        groups = {SELF: scope.own_worker_ids}
    else:
        groups = {EMPLOYER: scope.own_worker_ids, ROSTER: scope.roster_worker_ids}
    return frozenset().union(*(groups[k] for k in relations_reading(model.__name__, groups)))


def criteria(scope: Scope) -> dict:
    """The WHERE criterion for each scoped model under ``scope``."""
    if scope.is_all:
        return {}
    if scope.kind == "none":
        return {m: false() for m in SCOPED_MODELS + tuple(EXTRA_RULES)}
    return {**_core_criteria(scope), **{model: read(scope) for model, (read, _write) in EXTRA_RULES.items()}}


@functools.lru_cache(maxsize=64)
def _core_criteria(scope: Scope) -> dict:
    """The core models' criteria, a function of the scope alone, so built once per scope: an employer with
    thousands of workers has IN lists of thousands, and building them cost tens of ms for every statement.
    (EXTRA_RULES are asked each time: a rule may read the request, as report jobs do.)"""
    worker_children = {m: m.worker_id.in_(item_readers(scope, m)) for m in WORKER_CHILDREN}
    history_conds = [WorkHistory.site_id.in_(scope.prime_site_ids)]
    for site_id, below in scope.lower_by_site:
        history_conds.append(and_(WorkHistory.site_id == site_id, WorkHistory.employer_id.in_(below)))
    if scope.kind == "worker":
        history = WorkHistory.worker_id == scope.worker_id
        events = EntryExitEvent.worker_id == scope.worker_id
        affiliation = Affiliation.worker_id == scope.worker_id  # the worker sees its past employers too
        audit = AuditLog.worker_id == scope.worker_id  # who looked at my data
        devices = false()
    else:
        own = [] if scope.site_manager else [WorkHistory.employer_id == scope.employer_id]
        history = or_(*own, *history_conds)
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
    if isinstance(obj, Affiliation):  # an employer may cancel (取消) its own links (portal.validation allows no
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
    return False  # events and histories change only through portal.ingest / portal.histories


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
        if not (state.is_select or state.is_update or state.is_delete):
            return
        scope = current_scope(state.session)
        if scope.is_all:
            return
        options = [
            with_loader_criteria(model, crit, include_aliases=True, propagate_to_loaders=False)
            for model, crit in criteria(scope).items()
        ]
        state.statement = state.statement.options(*options)

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
