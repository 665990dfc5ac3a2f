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

Fixtures of the contract class: ``portal_app`` (an app over a private copy of the demo data, with the installed plugins),
``contract_world`` (a :class:`World`: the app, a site, a worker on its roster, a device of the plugin's type
and its key, a client logged in as the worker). Helpers: :func:`register_device`, :func:`revoke_device`,
:func:`enrol`, :func:`events_of`, :func:`worker_client`. Runs on SQLite, or on PostgreSQL with
``CCUS_TEST_DATABASE_URL``. The kit is core code: it may read the core's tables; plugins and their tests read
only what the kit and :mod:`portal.devices` give them.
"""
from __future__ import annotations

import dataclasses
import datetime
import uuid

import pytest

from portal.devices import CredentialRef, DeviceRef, DeviceType, EventRef, SiteRef, WorkerRef, hookimpl

pytest_plugins = ["portal.testing"]

UTC = datetime.timezone.utc


# --- helpers ---------------------------------------------------------------------------------------------

def _operator(app):
    """An app context with the administrator's scope (the kit arranges data as an operator would)."""
    import contextlib

    from portal.db import db
    from portal.scoping import ALL, using_scope

    @contextlib.contextmanager
    def context():
        with app.test_request_context(), using_scope(db.session, ALL):
            yield db.session

    return context()


def register_device(app, site: SiteRef | str, device_type: str, settings: dict | None = None,
                    name: str = "") -> tuple[DeviceRef, str]:
    """Register a device of ``device_type`` on a site (a SiteRef or its 現場ID) as an administrator would;
    returns (device, key)."""
    from portal.device_admin import register_device as register

    with _operator(app) as session:
        device, key = register(session, site.site_id if isinstance(site, SiteRef) else site, device_type, name)
        device.settings = settings
        session.commit()
        return DeviceRef.of(device), key


def revoke_device(app, device: DeviceRef) -> None:
    from portal.device_admin import revoke_device as revoke

    with _operator(app) as session:
        revoke(session, device.id)
        session.commit()


def enrol(app, worker: WorkerRef, device_type: str, *, secret: str | None = None, payload: bytes | None = None,
          label: str | None = None) -> CredentialRef:
    """Enrol a credential for a worker directly (no screen)."""
    from portal.devices import enrol_credential

    with _operator(app) as session:
        cred = enrol_credential(worker, device_type, secret=secret, payload=payload, label=label)
        session.commit()
        return cred


def events_of(app, device: DeviceRef) -> list[EventRef]:
    """The events a device recorded, oldest first."""
    from sqlalchemy import select

    from portal.models import EntryExitEvent as E

    with _operator(app) as session:
        return [EventRef.of(e) for e in session.execute(
            select(E).where(E.device_id == device.id).order_by(E.id)).scalars()]


def worker_client(app, worker: WorkerRef):
    """A test client logged in (through the login form) as a demo worker."""
    from portal.testing import login

    entry = next(e for e in app.logins if e["role"] == "worker" and e["worker_id"] == worker.worker_id)
    client = app.test_client()
    assert login(client, entry["login"], entry["password"]).status_code == 200
    return client


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

    from portal.clock import tokyo_today
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
            from portal.db import db

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
        from portal.testing import make_app

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
