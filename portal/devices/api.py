"""The functions of the public plugin API (re-exported by :mod:`portal.devices`; import them from there).

Each call works on the current app and its database session (inside a request, or an app context such as
:func:`operator_context`). The core's modules are imported inside the functions: importing the API stays cheap,
and the core may reorganise its modules without a plugin noticing.

Scope: calls a device makes (authenticate, record_events, roster, find_worker, credential_payloads,
recorded_event, last_event, device_event_with, roster_version, credential_version, worker_by_code, void_until)
read under a reviewed ALL scope confined to the device's site, to one keyed hash or to one named worker;
calls a person makes through a screen (enrollable_worker, enrol_credential, find_credential, remove_credential)
run in the logged-in principal's scope, so an employer reaches only its own workers.
"""
from __future__ import annotations

import contextlib
import datetime
from typing import Iterable

from portal.devices.refs import CredentialRef, DeviceRef, EventRef, SiteRef, WorkerRef
from portal.app.errors import DomainError

UTC = datetime.timezone.utc


def _session(session=None):
    if session is not None:
        return session
    from portal.app.db import db

    return db.session


def _all(session):
    from portal.people.scoping import ALL, using_scope

    return using_scope(session, ALL)


def _app():
    from flask import current_app

    return current_app


def _keys():
    from portal.devices.credentials import keys_from_config

    return keys_from_config(_app().config)


# --- device routes -------------------------------------------------------------------------------------------

def bearer_key(header: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header (None without one)."""
    from portal.devices.keys import bearer

    return bearer(header)


def request_key() -> str | None:
    """The device key of the current request's ``Authorization: Bearer`` header."""
    from flask import request

    return bearer_key(request.headers.get("Authorization"))


def authenticate(key: str | None, *, device_type: str | Iterable[str] | None = None, message: str | None = None,
                 session=None) -> DeviceRef:
    """The active device a key belongs to. Raises DomainError 401 ``invalid_device_key`` (missing or wrong
    key) or ``revoked_device_key``; with ``device_type``, 403 ``wrong_device_type`` (``message``, Japanese) for
    a device of another type."""
    from portal.devices.keys import authenticate_device

    session = _session(session)
    device = authenticate_device(session, key)
    wanted = {device_type} if isinstance(device_type, str) else set(device_type or ())
    if wanted and device.device_type not in wanted:
        raise DomainError("wrong_device_type", message or "この機器の種類ではこの送信はできません。", 403)
    with _all(session):  # reviewed: the authenticated device's own site
        return DeviceRef.of(device)


def device_by_id(device_id: int, *, device_type: str | None = None, session=None) -> DeviceRef | None:
    """A registered device by its key (a kiosk named in a scanned URL), or None (unknown or of another type).
    Check ``active`` before recording anything for it."""
    from portal.models import Device

    session = _session(session)
    with _all(session):  # reviewed: one device row, named by a URL the device itself shows
        device = session.get(Device, int(device_id))
        if device is None or (device_type is not None and device.device_type != device_type):
            return None
        return DeviceRef.of(device)


def record_events(device: DeviceRef, events: list, *, now: datetime.datetime | None = None,
                  session=None) -> list[dict]:
    """Record a batch of events as ``device``'s, through the core's one ingest path (validation, idempotency,
    roster, history), with the app's plugins, credential keys and limits; commits. Returns one result per
    event, in order: ``{"event_id", "result": accepted|duplicate|rejected, "code"?, "message"?}``.

    An event is ``{"event_id", "time", "kind": entry|exit|work, "site_id"?, "worker_id"? | "credential"?,
    "method"?, "extras"?}`` (the POST /api/v1/events contract). Raises DomainError for a malformed batch."""
    from portal.ingest import ingest_for_app
    from portal.models import Device

    session = _session(session)
    with _all(session):  # reviewed: the device row behind the caller's DeviceRef
        row = session.get(Device, device.id)
    if row is None:
        raise DomainError("unknown_device", "機器が見つかりません。", 404)
    return ingest_for_app(_app(), session, row, events, now=now).results


def event_time(value, *, now: datetime.datetime | None = None) -> datetime.datetime:
    """An event's time as the core reads it (ISO 8601 with offset, within the app's clock-skew limits); raises
    DomainError ``invalid_time`` / ``time_in_future`` / ``time_too_old``."""
    from portal.ingest import Limits, parse_time

    return parse_time(value, now or datetime.datetime.now(UTC), Limits.from_config(_app().config))


def work_day(at: datetime.datetime) -> datetime.date:
    """The calendar day (Asia/Tokyo) a moment belongs to: the day of the roster and of the work history."""
    from portal.app.clock import tokyo_date

    return tokyo_date(at)


def roster(site: SiteRef, day: datetime.date, *, session=None) -> list[WorkerRef]:
    """The workers on a site's roster (作業員名簿) on ``day``."""
    from sqlalchemy import and_, or_, select

    from portal.models import SiteWorkerRegistration, Worker

    session = _session(session)
    r = SiteWorkerRegistration
    with _all(session):  # reviewed: one site's roster, for that site's device
        rows = session.execute(select(Worker).join(r, r.worker_id == Worker.id).where(
            r.site_id == site.id,
            and_(or_(r.start_date.is_(None), r.start_date <= day), or_(r.end_date.is_(None), r.end_date >= day)),
        ).distinct()).scalars()
        return [WorkerRef.of(w) for w in rows]


def recorded_event(device: DeviceRef, device_event_id: str, *, session=None) -> EventRef | None:
    """The event ``device`` already recorded under its own event id (a replay), or None."""
    from sqlalchemy import select

    from portal.models import EntryExitEvent as E

    session = _session(session)
    with _all(session):  # reviewed: this device's own events
        found = session.execute(select(E).where(E.device_id == device.id, E.device_event_id == device_event_id)
                                ).scalar_one_or_none()
        return EventRef.of(found) if found is not None else None


def last_event(device: DeviceRef, worker: WorkerRef, *, since: datetime.datetime, until: datetime.datetime,
               kinds: Iterable[str] = ("entry", "exit"), session=None) -> EventRef | None:
    """The worker's latest event of ``kinds`` at the device's site in (since, until]."""
    from sqlalchemy import select

    from portal.models import EntryExitEvent as E

    session = _session(session)
    with _all(session):  # reviewed: one worker's events at this device's site
        found = session.execute(select(E).where(
            E.site_id == device.site.id, E.worker_id == worker.id, E.kind.in_(tuple(kinds)),
            E.occurred_at > since, E.occurred_at <= until,
        ).order_by(E.occurred_at.desc(), E.id.desc()).limit(1)).scalar_one_or_none()
        return EventRef.of(found) if found is not None else None


# --- credentials -------------------------------------------------------------------------------------------

def normalise_secret(secret: str) -> str:
    """How the core compares exact credentials: spaces and hyphens removed, upper case."""
    from portal.devices.credentials import normalise

    return normalise(secret)


def find_worker(device_type: str, secret: str, *, session=None) -> WorkerRef | None:
    """The worker an exact credential of ``device_type`` (card UID, phone number …) is enrolled for, or None."""
    from portal.devices.credentials import resolve

    session = _session(session)
    with _all(session):  # reviewed: one keyed hash names at most one worker
        worker = resolve(session, _keys(), device_type, secret)
        return WorkerRef.of(worker) if worker is not None else None


def credential_payloads(device_type: str, workers: Iterable[WorkerRef] | None = None, *,
                        session=None) -> list[tuple[WorkerRef, bytes]]:
    """Decrypted payloads (face templates …) of active credentials of a type, optionally of some workers."""
    from sqlalchemy import select

    from portal.devices.credentials import payloads
    from portal.models import Worker

    session = _session(session)
    wanted = None if workers is None else {w.id for w in workers}
    if wanted is not None and not wanted:
        return []
    with _all(session):  # reviewed: the device's candidates only (its site's roster)
        found = payloads(session, _keys(), device_type, worker_ids=wanted)
        refs = {w.id: WorkerRef.of(w) for w in session.execute(
            select(Worker).where(Worker.id.in_({pk for pk, _ in found}))).scalars()} if found else {}
    return [(refs[pk], data) for pk, data in found]


def enrollable_worker(worker_code, *, session=None) -> WorkerRef:
    """The worker named by a 技能者ID if the logged-in principal may enrol its credentials (its employer's own
    current worker; any for an administrator or an operator). Raises DomainError ``invalid_worker_id`` or
    ``worker_not_enrollable`` (another employer's worker is answered like an unknown one)."""
    from portal.devices.enrolment import own_worker

    return WorkerRef.of(own_worker(_session(session), worker_code))


def enrol_credential(worker: WorkerRef, device_type: str, *, secret: str | None = None,
                     payload: bytes | None = None, label: str | None = None, taken: DomainError | None = None,
                     replace: bool = False, session=None) -> CredentialRef:
    """Enrol a credential for ``worker`` in the principal's scope: ``secret`` (stored as a keyed hash) for exact
    lookups, ``payload`` (stored encrypted) for matching. With ``taken``, the secret must name one worker: one
    enrolled to anybody raises ``taken``. With ``replace``, the worker's other credentials of the type are
    deleted first (one face template per worker). Not committed: the screen or operator context commits."""
    from portal.devices import credentials, enrolment
    from portal.models import Worker

    session = _session(session)
    row = session.get(Worker, worker.id)
    if row is None:
        raise DomainError("worker_not_enrollable", "登録できる自社の技能者に見つかりません。")
    if replace:  # deleted in the same flush as the new row is inserted: the new one gets a new id
        for cred in _credentials_of(session, worker, device_type):
            session.delete(cred)
    keys = _keys()
    if taken is not None and secret is not None:
        cred = enrolment.enrol_unique(session, keys, row, device_type, secret, label=label, taken=taken)
    else:
        cred = credentials.enrol(session, keys, row, device_type, secret=secret, payload=payload, label=label)
    return CredentialRef.of(cred)


def _credentials_of(session, worker: WorkerRef, device_type: str):
    from sqlalchemy import select

    from portal.models import Credential

    return session.execute(select(Credential).where(
        Credential.worker_id == worker.id, Credential.device_type == device_type)).scalars().all()


def find_credential(device_type: str, secret: str, *, session=None) -> CredentialRef | None:
    """The active credential of an exact secret, if the principal may see it (its own workers')."""
    from sqlalchemy import select

    from portal.models import Credential

    session = _session(session)
    found = session.execute(select(Credential).where(
        Credential.device_type == device_type, Credential.lookup_hash == _keys().lookup_hash(device_type, secret),
        Credential.revoked_at.is_(None))).scalar_one_or_none()
    return CredentialRef.of(found) if found is not None else None


def remove_credential(credential: CredentialRef, *, session=None) -> None:
    """Delete an enrolled credential (not revoke: a removed phone number or face template must not stay)."""
    from portal.devices.enrolment import remove

    remove(_session(session), credential.device_type, credential.id)


# --- people and screens ------------------------------------------------------------------------------------

def current_worker(*, session=None) -> WorkerRef | None:
    """The worker the logged-in user is (role 技能者), or None."""
    from flask import g
    from sqlalchemy import select

    from portal.models import Worker

    worker_pk = getattr(getattr(g, "user", None), "worker_id", None)
    if worker_pk is None:
        return None
    found = _session(session).execute(select(Worker).where(Worker.id == worker_pk)).scalar_one_or_none()
    return WorkerRef.of(found) if found is not None else None


def add_screen(app, view, title: str, category: str, grants: dict, *, icon: str = "fa-table") -> None:
    """Add a Flask-AppBuilder view to the menu under ``category`` and grant ``grants`` (role → permission
    names joined by ``|``, e.g. ``{ROLE_EMPLOYER: "can_list|can_add"}``)."""
    from portal.views.base import add

    add(app.appbuilder, view, title, category, grants, icon=icon)


def add_hidden_screen(app, view, grants: dict) -> None:
    """Add a view reached by a link or a scanned URL, not from the menu, and grant ``grants``."""
    from portal.people.security import grant

    app.appbuilder.add_view_no_menu(view)
    for role, permissions in grants.items():
        grant(app.config["FAB_ROLES"], [role], view.__name__, permissions)


def add_device_blueprint(app, blueprint) -> None:
    """Register a blueprint of device routes: exempt from CSRF (devices post with their key, not a browser
    session; every route must call :func:`authenticate`)."""
    app.register_blueprint(blueprint)
    app.extensions["csrf"].exempt(blueprint)


@contextlib.contextmanager
def operator_context(app=None):
    """An operator's command line (``ccus-cardreader enrol``): an app context with the administrator's scope;
    committed at the end, rolled back on an error. Yields the app (made with the installation's config when
    ``app`` is None)."""
    from portal import create_app
    from portal.app.db import db
    from portal.people.scoping import ALL, using_scope

    app = app or create_app()
    with app.app_context(), using_scope(db.session, ALL):
        try:
            yield app
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise


# --- added in API 1.2: what the devices' refusals, replay checks and audited matching need -----------------

def credential_version(device_type: str, workers: Iterable[WorkerRef], *, session=None) -> tuple:
    """A value that changes whenever the active payload credentials of ``device_type`` of these workers change
    (an enrolment, a removal, a revocation): the key of a plugin's cache of decrypted payloads."""
    from sqlalchemy import func, select

    from portal.models import Credential

    session = _session(session)
    ids = [w.id for w in workers]
    with _all(session):  # reviewed: a count and an id of the device's candidates' credentials, no payload
        count, latest = session.execute(select(func.count(), func.max(Credential.id)).where(
            Credential.device_type == device_type, Credential.payload.is_not(None),
            Credential.revoked_at.is_(None), Credential.worker_id.in_(ids))).one()
    return count, latest, str(session.get_bind().url), _keys().hash_key[:8]


def roster_version(site: SiteRef, *, session=None) -> int:
    """The site's roster version (作業員名簿の版): the core bumps it on every change of the site's roster."""
    from sqlalchemy import select

    from portal.models import Site

    session = _session(session)
    with _all(session):  # reviewed: one column of the device's own site
        return session.execute(select(Site.roster_version).where(Site.id == site.id)).scalar() or 0


def audit_credential_reads(device: DeviceRef, workers: Iterable[WorkerRef], what: str, detail: str = "", *,
                           session=None) -> None:
    """Write to the audit log that ``device`` decrypted these workers' credentials (閲覧 of ``what``, e.g.
    顔テンプレート): one row per worker, committed on its own (a rolled-back request keeps the trail)."""
    from portal.people import audit

    session = _session(session)
    ids = {w.id for w in workers}
    if not ids:
        return
    entries = {(pk, audit.VIEW): {"what": {what}, "ids": set(), "notes": []} for pk in ids}
    audit.record(session.get_bind(), audit.Actor(user_id=None, username=f"device:{device.id}"), entries,
                 detail=detail)


def device_event_with(device: DeviceRef, name: str, value: str, *, since: datetime.date, until: datetime.date,
                      other_than: str | None = None, refused: bool = False, session=None) -> EventRef | None:
    """An event ``device`` recorded on a work day in [since, until] whose extras have ``name`` == ``value``
    (a replayed camera frame, a reused token …), other than its event ``other_than``; refused events only
    with ``refused``."""
    from sqlalchemy import select

    from portal.models import EntryExitEvent as E

    session = _session(session)
    query = select(E).where(E.site_id == device.site.id, E.device_id == device.id, E.work_date >= since,
                            E.work_date <= until, E.extras[name].as_string() == value)
    if other_than is not None:
        query = query.where(E.device_event_id != other_than)
    if not refused:
        query = query.where(E.refusal.is_(None))
    with _all(session):  # reviewed: this device's own events
        found = session.execute(query.order_by(E.id).limit(1)).scalar_one_or_none()
        return EventRef.of(found) if found is not None else None


def worker_by_code(worker_code: str, *, session=None) -> WorkerRef | None:
    """The worker of a 技能者ID as a device's user typed it (a keypad, a kiosk), or None. Confirm the person
    with :func:`check_security_code` before recording anything for it."""
    from sqlalchemy import select

    from portal.models import Worker

    session = _session(session)
    with _all(session):  # reviewed: one worker named by its code; the caller checks the security code
        found = session.execute(select(Worker).where(Worker.worker_id == str(worker_code))).scalar_one_or_none()
        return WorkerRef.of(found) if found is not None else None


def check_security_code(worker: WorkerRef, code: str, *, session=None) -> bool:
    """Whether ``code`` is the worker's 本人確認番号. Failures count towards the code's lock (4 digits must
    not be guessable by trying again and again): False while locked. Commits the counter."""
    from portal.people import passwords

    return passwords.verify_security_code(_session(session), _keys(), worker.id, code)


def void_issued(worker: WorkerRef, device_type: str, *, label: str, now: datetime.datetime | None = None,
                session=None) -> CredentialRef:
    """Void every credential of ``device_type`` issued to ``worker`` up to ``now`` (signed codes the portal does
    not store, such as QR codes: a lost phone or sticker). Stored as a credential row without a secret, labelled
    ``label``. In the principal's scope (an employer voids its own workers'), except that a worker may void its
    own. Not committed: the screen commits."""
    from portal.models import Credential

    session = _session(session)
    own = current_worker(session=session)
    context = _all(session) if own is not None and own.id == worker.id else contextlib.nullcontext()
    with context:  # reviewed (a worker's own): workers write no credentials otherwise
        row = Credential(device_type=device_type, worker_id=worker.id, label=label,
                         created_at=now or datetime.datetime.now(UTC))
        session.add(row)
        session.flush()
        return CredentialRef.of(row)


def void_until(device_type: str, worker_code: str, *, label: str, session=None) -> datetime.datetime | None:
    """Up to when the worker's credentials of ``device_type`` are void (its latest :func:`void_issued`), or None."""
    from sqlalchemy import func, select

    from portal.models import Credential, Worker

    session = _session(session)
    with _all(session):  # reviewed: one worker's void marks, named by the code a device or screen already holds
        at = session.execute(select(func.max(Credential.created_at)).join(Worker, Worker.id == Credential.worker_id)
                             .where(Worker.worker_id == str(worker_code), Credential.device_type == device_type,
                                    Credential.label == label)).scalar()
    if at is not None and at.tzinfo is None:  # SQLite returns it naive, in UTC
        at = at.replace(tzinfo=UTC)
    return at
