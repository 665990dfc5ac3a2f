"""The contract test kit of device plugins: pytest fixtures and ready tests every device plugin must pass.

A vendor runs it in the plugin's own repository (the plugin installed with ``pip install -e .`` next to
ccus-portal). In ``tests/conftest.py``::

    pytest_plugins = ["portal.devices.testing"]

and in ``tests/test_contract.py``::

    from portal.devices.testing import DevicePluginContract
    import ccus_acme

    class TestAcmeContract(DevicePluginContract):
        plugin = ccus_acme                      # the module named by the ccus.devices entry point
        routes = [("POST", "/api/v1/acme/events")]   # the plugin's device routes (authenticated by device key)

        def known_credential(self, world):      # enrol a credential for world.worker; return what a device sends
            enrol(world.app, world.worker, "acme", secret="CARD-1")
            return "CARD-1"

Fixtures of the contract class: ``portal_app`` (an app over a private copy of the demo data, with the installed
plugins), ``contract_world`` (a :class:`World`: the app, a site, a worker on its roster, a device of the plugin's
type and its key, a client logged in as the worker).

For the plugin's own tests (API 1.3): the fixtures ``portal_app`` and ``plugin_world`` (the same World, for the
device type the plugin's conftest names in a ``plugin_device_type`` fixture), and helpers that arrange data as an
operator would and read back what was stored as read-only value objects: :func:`operator`,
:func:`register_device`, :func:`revoke_device`, :func:`enrol`, :func:`issue_security_code`, :func:`worker_of`,
:func:`site_of`, :func:`off_roster_site`, :func:`off_roster_worker`, :func:`events_of` (EventRef),
:func:`histories_of` (HistoryRef), :func:`credentials_of` (StoredCredential), :func:`installation_keys`,
:func:`audit_entries`, :func:`unsaved_device`, :func:`login`, :func:`logged_in`, :func:`worker_client`,
:func:`make_app`. Runs on SQLite, or on PostgreSQL with ``CCUS_TEST_DATABASE_URL``. The kit is core code: it may
read the core's tables; plugins and their tests use only what the kit and :mod:`portal.devices` give them (this
repository's tests/test_plugin_imports.py checks its four plugins, tests included).
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import types
import uuid
from pathlib import Path

import pytest

from portal.devices import (
    CredentialRef, DeviceRef, DeviceType, EventRef, HistoryRef, SiteRef, WorkerRef, hookimpl,
)

pytest_plugins = ["portal.demo.testing"]

UTC = datetime.timezone.utc


# --- helpers (API 1.3: all of them; before, register_device, revoke_device, enrol, events_of, worker_client) --
# Each takes the app first and works in its own request context with the administrator's scope, as an operator
# would: a test arranges data with them and reads back what its plugin stored, as read-only value objects.

def _operator(app):
    """A request context with the administrator's scope; yields the session (not committed)."""
    import contextlib

    from portal.app.db import db
    from portal.people.scoping import ALL, using_scope

    @contextlib.contextmanager
    def context():
        with app.test_request_context(), using_scope(db.session, ALL):
            yield db.session

    return context()


@contextlib.contextmanager
def operator(app):
    """``with operator(app): ...``: call the plugin's own functions (or the API's) as an operator would: in a
    request context with the administrator's scope; committed at the end, rolled back on an error."""
    with _operator(app) as session:
        try:
            yield app
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _pk(thing) -> int:
    return thing if isinstance(thing, int) else thing.id


def register_device(app, site: SiteRef | str, device_type: str, settings: dict | None = None,
                    name: str = "") -> tuple[DeviceRef, str]:
    """Register a device of ``device_type`` on a site (a SiteRef or its 現場ID) as an administrator would, its
    settings checked against the type's settings_schema (DomainError ``invalid_settings``); returns (device, key)."""
    from portal.devices.keys import register_device as register, set_settings

    with _operator(app) as session:
        device, key = register(session, site.site_id if isinstance(site, SiteRef) else site, device_type, name)
        if settings is not None:
            set_settings(session, device, settings)
        session.commit()
        return DeviceRef.of(device), key


def revoke_device(app, device: DeviceRef | int) -> None:
    from portal.devices.keys import revoke_device as revoke

    with _operator(app) as session:
        revoke(session, _pk(device))
        session.commit()


def enrol(app, worker: WorkerRef | str, device_type: str, *, secret: str | None = None,
          payload: bytes | None = None, label: str | None = None, replace: bool = False) -> CredentialRef:
    """Enrol a credential for a worker (a WorkerRef or its 技能者ID) directly (no screen)."""
    from portal.devices import enrol_credential

    with _operator(app) as session:
        worker = worker if isinstance(worker, WorkerRef) else _worker(session, worker)
        cred = enrol_credential(worker, device_type, secret=secret, payload=payload, label=label, replace=replace)
        session.commit()
        return cred


def _worker(session, worker_id: str) -> WorkerRef:
    from sqlalchemy import select

    from portal.models import Worker

    return WorkerRef.of(session.execute(select(Worker).where(Worker.worker_id == worker_id)).scalar_one())


def worker_of(app, worker_id: str) -> WorkerRef:
    """The worker of a 技能者ID."""
    with _operator(app) as session:
        return _worker(session, worker_id)


def site_of(app, site_id: str) -> SiteRef:
    """The site of a 現場ID."""
    from sqlalchemy import select

    from portal.models import Site

    with _operator(app) as session:
        return SiteRef.of(session.execute(select(Site).where(Site.site_id == site_id)).scalar_one())


def events_of(app, device: DeviceRef | int) -> list[EventRef]:
    """The events a device (a DeviceRef or its ``id``) stored, oldest first (refused ones included)."""
    from sqlalchemy import select

    from portal.models import EntryExitEvent as E

    with _operator(app) as session:
        return [EventRef.of(e) for e in session.execute(
            select(E).where(E.device_id == _pk(device)).order_by(E.id)).scalars()]


def histories_of(app, worker: WorkerRef | str, *, site: SiteRef | int | None = None,
                 work_date: datetime.date | None = None) -> list[HistoryRef]:
    """A worker's 就業履歴 rows (of a site, a work day), by site and day: what the plugin's events made."""
    from sqlalchemy import select

    from portal.models import WorkHistory as H

    with _operator(app) as session:
        worker = worker if isinstance(worker, WorkerRef) else _worker(session, worker)
        query = select(H).where(H.worker_id == worker.id)
        if site is not None:
            query = query.where(H.site_id == _pk(site))
        if work_date is not None:
            query = query.where(H.work_date == work_date)
        return [HistoryRef.of(h) for h in session.execute(query.order_by(H.site_id, H.work_date)).scalars()]


@dataclasses.dataclass(frozen=True)
class StoredCredential:
    """What the database holds of a credential: the keyed hash of its secret, its payload as stored
    (encrypted); a test checks that neither is the secret in the clear (:func:`installation_keys` decrypts)."""

    credential: CredentialRef
    lookup_hash: str | None
    payload: bytes | None
    active: bool

    @property
    def id(self) -> int:
        return self.credential.id

    @property
    def worker_id(self) -> str:
        return self.credential.worker.worker_id

    @property
    def label(self) -> str | None:
        return self.credential.label


def credentials_of(app, device_type: str, worker: WorkerRef | str | None = None) -> list[StoredCredential]:
    """The stored credentials of a type (of one worker), oldest first."""
    from sqlalchemy import select

    from portal.models import Credential as C

    with _operator(app) as session:
        query = select(C).where(C.device_type == device_type)
        if worker is not None:
            worker = worker if isinstance(worker, WorkerRef) else _worker(session, worker)
            query = query.where(C.worker_id == worker.id)
        return [StoredCredential(CredentialRef.of(c), c.lookup_hash, c.payload, c.revoked_at is None)
                for c in session.execute(query.order_by(C.id)).scalars()]


def installation_keys(config):
    """The installation's credential keys from an app's config (``app.config``): ``lookup_hash(device_type,
    secret)`` and ``decrypt(payload)``, to check what :func:`credentials_of` shows."""
    from portal.devices.credentials import keys_from_config

    return keys_from_config(config)


class AuditEntry(tuple):
    """(worker 技能者ID or None, who, detail) of an audit-trail entry."""

    __slots__ = ()

    def __new__(cls, worker_id, username, detail):
        return super().__new__(cls, (worker_id, username, detail))

    worker_id = property(lambda self: self[0])
    username = property(lambda self: self[1])
    detail = property(lambda self: self[2])


def audit_entries(app, object_type: str) -> list[AuditEntry]:
    """The audit trail's entries about one kind of object (e.g. the plugin's ``audit_credential_reads`` what)."""
    from sqlalchemy import select

    from portal.models import AuditLog as A, Worker

    with _operator(app) as session:
        return [AuditEntry(code, user, detail) for code, user, detail in session.execute(
            select(Worker.worker_id, A.username, A.detail).outerjoin(Worker, A.worker_id == Worker.id)
            .where(A.object_type == object_type).order_by(A.id))]


def off_roster_site(app, worker: WorkerRef | str) -> SiteRef:
    """A site whose roster (作業員名簿) does not have the worker."""
    from sqlalchemy import select

    from portal.models import Site, SiteWorkerRegistration as R

    with _operator(app) as session:
        worker = worker if isinstance(worker, WorkerRef) else _worker(session, worker)
        rostered = select(R.site_id).where(R.worker_id == worker.id)
        return SiteRef.of(session.execute(select(Site).where(Site.id.not_in(rostered)).order_by(Site.id))
                          .scalars().first())


def off_roster_worker(app, site: SiteRef | str) -> WorkerRef:
    """A worker with a login who is not on a site's roster."""
    from sqlalchemy import select

    from portal.models import SiteWorkerRegistration as R, Worker

    with _operator(app) as session:
        site = site if isinstance(site, SiteRef) else SiteRef.of(_site(session, site))
        rostered = select(R.worker_id).where(R.site_id == site.id)
        logins = {e["worker_id"] for e in getattr(app, "logins", []) if e.get("role") == "worker"}
        for worker in session.execute(select(Worker).where(Worker.id.not_in(rostered)).order_by(Worker.id)).scalars():
            if not logins or worker.worker_id in logins:
                return WorkerRef.of(worker)
    raise AssertionError(f"every worker with a login is on the roster of {site}")


def _site(session, site_id: str):
    from sqlalchemy import select

    from portal.models import Site

    return session.execute(select(Site).where(Site.site_id == site_id)).scalar_one()


def issue_security_code(app, worker: WorkerRef | str, code: str) -> None:
    """Give a worker the 本人確認番号 ``code`` (as a new card does; its first password already changed)."""
    from portal.people.passwords import issue_security_code as issue

    with _operator(app) as session:
        worker = worker if isinstance(worker, WorkerRef) else _worker(session, worker)
        issue(session, installation_keys(app.config), worker.id, code, password_changed=True)
        session.commit()


def unsaved_device(device_type: str = "", settings: dict | None = None, site: SiteRef | None = None) -> DeviceRef:
    """A device that is not stored, to call a plugin's hook or helper directly (``ccus_resolve_worker``)."""
    return DeviceRef(id=0, device_type=device_type, name="", site=site or SiteRef(0, "", ""),
                     settings=types.MappingProxyType(dict(settings or {})), active=True)


def login(client, login: str, password: str):
    """Log a test client in through the login form (the demo logins are ``app.logins``)."""
    from portal.demo.testing import login as form_login

    return form_login(client, login, password)


def logged_in(app, entry: dict):
    """A new test client logged in as one of ``app.logins``."""
    client = app.test_client()
    assert login(client, entry["login"], entry["password"]).status_code == 200, entry["login"]
    return client


def make_app(database_url: str, instance: Path, **config):
    """Another app over the same database (a second server process, an app with extra test plugins)."""
    from portal.demo.testing import make_app as make

    return make(database_url, instance, **config)


def worker_client(app, worker: WorkerRef):
    """A test client logged in (through the login form) as a demo worker."""
    entry = next(e for e in app.logins if e["role"] == "worker" and e["worker_id"] == worker.worker_id)
    return logged_in(app, entry)


@dataclasses.dataclass
class World:
    """What a contract test is given: the app, a site with a roster, a worker on it, a device of the plugin's
    type with its key, and a client logged in as the worker."""

    app: object
    site: SiteRef
    worker: WorkerRef
    device: DeviceRef
    key: str
    client: object

    def record(self, events: list, device: DeviceRef | None = None) -> list[dict]:
        """Record events through the public ingest call, as the plugin's routes do."""
        from portal.devices import record_events

        with self.app.test_request_context():
            return record_events(device or self.device, events)

    def event(self, event_id: str, **fields) -> dict:
        return {"event_id": event_id, "site_id": self.site.site_id, "kind": "entry",
                "time": datetime.datetime.now(UTC).isoformat(timespec="seconds"), **fields}


def rostered_worker(app) -> tuple[SiteRef, WorkerRef]:
    """A demo worker with a login who is on a site's roster today, and that site."""
    from sqlalchemy import select

    from portal.app.clock import tokyo_today
    from portal.devices import roster
    from portal.models import Site

    with _operator(app) as session:
        logins = {e["worker_id"] for e in app.logins if e["role"] == "worker"}
        for site in session.execute(select(Site).order_by(Site.id)).scalars():
            ref = SiteRef.of(site)
            for worker in roster(ref, tokyo_today()):
                if worker.worker_id in logins:
                    return ref, worker
    raise AssertionError("the demo data has no worker with a login on a roster")


# --- fixtures of a plugin's own tests (API 1.3) ---------------------------------------------------------------

@pytest.fixture
def portal_app(demo_app):
    """An app over a private copy of the demo data, with every installed plugin loaded (``app.logins``: the demo
    logins)."""
    return demo_app


@pytest.fixture
def plugin_device_type() -> str:
    """The device type a plugin's tests use: override it in the plugin's conftest.py (``return "acme"``)."""
    pytest.fail("define a fixture plugin_device_type returning the plugin's device type code (conftest.py)")


@pytest.fixture
def plugin_world(portal_app, plugin_device_type) -> World:
    """A site with a roster, a worker on it with a login, a device of the plugin's type on the site and its key,
    and a client logged in as the worker."""
    site, worker = rostered_worker(portal_app)
    device, key = register_device(portal_app, site, plugin_device_type, name="試験機器")
    return World(app=portal_app, site=site, worker=worker, device=device, key=key,
                 client=worker_client(portal_app, worker))


# --- the ready tests -------------------------------------------------------------------------------------

def _impl(plugin, hook: str):
    return getattr(plugin, hook, None)


def _call(function, **kwargs):
    """Call a hook implementation as pluggy does: with only the arguments it names."""
    import inspect

    names = [n for n in inspect.signature(function).parameters if n != "self"]
    return function(**{n: kwargs[n] for n in names})


class _FailingCalls:
    """A plugin whose hooks raise when called: the portal must start and work around it."""

    @hookimpl
    def ccus_device_types(self):
        raise RuntimeError("contract kit: failing ccus_device_types")

    @hookimpl
    def ccus_resolve_worker(self, device, credential):
        raise RuntimeError("contract kit: failing ccus_resolve_worker")

    @hookimpl
    def ccus_event_recorded(self, event):
        raise RuntimeError("contract kit: failing ccus_event_recorded")


class _FailingRoutes:
    """A plugin that cannot register its routes (it is disabled, the others stay)."""

    @hookimpl
    def ccus_register_routes(self, app):
        raise RuntimeError("contract kit: failing ccus_register_routes")


class DevicePluginContract:
    """Subclass it in a test module (its name must start with ``Test``) and set :attr:`plugin`."""

    plugin = None  # the module (or object) holding the plugin's @hookimpl functions
    device_type: str | None = None  # the type under test; default: the plugin's first declared type
    routes: list = []  # [(method, path)] of the plugin's device routes

    # -- what a plugin may override --
    def known_credential(self, world: World) -> str | None:
        """Enrol a credential of the plugin's type for ``world.worker`` and return what a device would send;
        None (the default) for a plugin that does not resolve credentials (it sends worker IDs itself)."""
        return None

    def route_request(self, world: World, method: str, path: str) -> dict:
        """Keyword arguments of the test client's call for a well-formed request to a route (without the
        key): the refusal must then be due to the key alone."""
        return {}

    # -- fixtures --
    @pytest.fixture
    def portal_app(self, demo_app):
        """An app over a private copy of the demo data, with every installed plugin loaded."""
        return demo_app

    @pytest.fixture
    def types(self) -> list[DeviceType]:
        assert self.plugin is not None, "set `plugin` on the contract class"
        return list(_call(self.plugin.ccus_device_types))

    @pytest.fixture
    def type_code(self, types) -> str:
        return self.device_type or types[0].code

    @pytest.fixture
    def contract_world(self, portal_app, type_code) -> World:
        site, worker = rostered_worker(portal_app)
        device, key = register_device(portal_app, site, type_code, name="契約テスト")
        return World(app=portal_app, site=site, worker=worker, device=device, key=key,
                     client=worker_client(portal_app, worker))

    # -- the contract --
    def test_its_types_are_declared_and_unique(self, types, portal_app):
        from portal.devices import device_types

        assert types, "ccus_device_types must return at least one DeviceType"
        codes = [t.code for t in types]
        assert len(codes) == len(set(codes)), f"a type is declared twice: {codes}"
        for t in types:
            assert isinstance(t, DeviceType)
            assert t.code and t.code.isascii() and t.code == t.code.strip() and len(t.code) <= 40, t.code
            assert t.code != "api", "the code api is the core's own"
            assert t.label and t.mark, f"{t.code}: a Japanese label and a calendar mark are needed"
            assert isinstance(t.settings_schema, dict)
            if t.settings_schema:
                import jsonschema

                jsonschema.Draft202012Validator.check_schema(t.settings_schema)
                assert t.settings_schema.get("type") == "object"
        installed = device_types(portal_app.extensions["ccus_plugins"])
        for t in types:  # installed, and not shadowed by another plugin's type of the same code
            assert installed.get(t.code) == t, f"{t.code} is not installed as this plugin's (pip install -e .?)"

    def test_its_routes_refuse_a_missing_wrong_or_revoked_key(self, contract_world):
        if not self.routes:
            pytest.skip("the plugin declares no device routes")
        world = contract_world
        revoked, revoked_key = register_device(world.app, world.site, world.device.device_type)
        revoke_device(world.app, revoked)
        other, other_key = register_device(world.app, world.site, "api")
        for method, path in self.routes:
            kwargs = self.route_request(world, method, path)
            headers = dict(kwargs.pop("headers", {}) or {})
            for key, status in ((None, 401), ("ccus_00000000_wrong", 401), (world.key[:-2] + "xx", 401),
                                (revoked_key, 401), (other_key, 403)):
                sent = {**headers, **({"Authorization": f"Bearer {key}"} if key else {})}
                r = world.client.open(path, method=method, headers=sent, **kwargs)
                assert r.status_code == status, f"{method} {path} with key {key!r}: {r.status_code}"
        for device in (world.device, revoked, other):
            assert events_of(world.app, device) == [], "a refused request stored an event"

    def test_an_unknown_credential_is_kept_as_not_counted(self, contract_world):
        """Kept either way: as a not-counted event, or (API 1.1) refused by the plugin with a stable code."""
        from portal.devices import REFUSALS

        world = contract_world
        [result] = world.record([world.event("contract-unknown-1", credential=f"unknown-{uuid.uuid4().hex}")])
        [event] = events_of(world.app, world.device)
        assert event.worker_id is None and not event.identified
        if result["result"] == "rejected":  # the plugin refused it: a stable code, the event kept as refused
            assert result["code"] in REFUSALS and event.refusal == result["code"], result
        else:
            assert result["result"] == "accepted" and event.refusal is None, result

    def test_a_replay_is_a_duplicate(self, contract_world):
        world = contract_world
        credential = self.known_credential(world)
        who = {"credential": credential} if credential is not None else {"worker_id": world.worker.worker_id}
        event = world.event("contract-replay-1", **who)
        assert world.record([event])[0]["result"] == "accepted"
        assert world.record([event])[0]["result"] == "duplicate"
        [stored] = events_of(world.app, world.device)
        assert stored.worker_id == world.worker.worker_id and stored.identified

    def test_it_resolves_only_credentials_of_its_own_type(self, contract_world):
        world = contract_world
        resolve = _impl(self.plugin, "ccus_resolve_worker")
        credential = self.known_credential(world)
        if resolve is None or credential is None:
            pytest.skip("the plugin resolves no credentials")
        other, _key = register_device(world.app, world.site, "api")
        with world.app.test_request_context():
            from portal.app.db import db

            mine = _call(resolve, device=world.device, credential=credential, session=db.session)
            theirs = _call(resolve, device=other, credential=credential, session=db.session)
        assert getattr(mine, "worker_id", mine) == world.worker.worker_id
        assert theirs is None, "a plugin must not answer for a device of another type"
        [result] = world.record([world.event("contract-other-type-1", credential=credential)], device=other)
        assert result["result"] == "accepted"
        [event] = events_of(world.app, other)
        assert not event.identified, "another type's device resolved this plugin's credential"

    def test_a_failing_hook_never_takes_the_portal_down(self, contract_world, types, tmp_path, caplog):
        from portal.devices import device_types
        from portal.demo.testing import make_app

        world = contract_world
        app = make_app(world.app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "failing",
                       CCUS_EXTRA_PLUGINS=[_FailingCalls(), _FailingRoutes()])
        app.logins = world.app.logins
        installed = device_types(app.extensions["ccus_plugins"])
        assert {t.code for t in types} <= set(installed)
        rules = {r.rule for r in app.url_map.iter_rules()}
        for _method, path in self.routes:
            assert any(path.startswith(rule.split("<")[0]) for rule in rules), f"{path} is not registered"
        credential = self.known_credential(World(app, world.site, world.worker, world.device, world.key, None))
        who = {"credential": credential} if credential is not None else {"worker_id": world.worker.worker_id}
        with app.test_request_context():
            from portal.devices import record_events

            [result] = record_events(world.device, [world.event("contract-failing-1", **who)])
        assert result["result"] == "accepted", result
        [event] = events_of(app, world.device)
        assert event.worker_id == world.worker.worker_id
        assert app.test_client().get("/login/").status_code == 200
