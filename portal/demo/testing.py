"""pytest fixtures shared by the core's and the plugins' tests (loaded by the root conftest.py).

An app per test from ``create_app(config)``, on SQLite by default, or on PostgreSQL when
``CCUS_TEST_DATABASE_URL`` is set (each test gets a fresh schema there). The demo data is built once per
session into a template and copied for each test that asks for it (``demo_app``), so tests stay fast.
A client per principal logs in through the real login form (``login``).
"""
from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from portal import create_app

PG_URL = os.environ.get("CCUS_TEST_DATABASE_URL")


def _pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


class Database:
    """A throwaway database for one test: a SQLite file, or a PostgreSQL schema."""

    def __init__(self, tmp_path: Path):
        self.schema = None
        if PG_URL:
            self.schema = f"t_{uuid.uuid4().hex[:12]}"
            engine = create_engine(PG_URL)
            with engine.begin() as c:
                c.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            engine.dispose()
            self.url = _pg_schema_url(self.schema)
        else:
            self.path = tmp_path / "ccus.db"
            self.url = f"sqlite:///{self.path}"

    def drop(self) -> None:
        if self.schema:
            engine = create_engine(PG_URL)
            with engine.begin() as c:
                c.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            engine.dispose()


def make_app(url: str, instance: Path, **extra):
    os.environ["CCUS_INSTANCE"] = str(instance)
    config = {"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "test-secret-key-for-the-ccus-portal-tests", "WTF_CSRF_ENABLED": False,
              "RATELIMIT_ENABLED": False, "AUTH_RATE_LIMITED": False, "CCUS_CREDENTIAL_KEY": "test-credential-key"}
    config.update(extra)
    return create_app(config)


@pytest.fixture
def database(tmp_path):
    db = Database(tmp_path)
    yield db
    db.drop()


_EMPTY_TEMPLATE: dict = {}


def _empty_template() -> Database:
    """An empty schema (create_all: tests only) whose roles and permissions FAB has synced, built once per test
    session: FAB's sync over an empty database costs 10-60 s (it commits every grant), copying the result
    takes a fraction of a second."""
    if "template" not in _EMPTY_TEMPLATE:
        from flask_appbuilder import Model

        import portal.models  # noqa: F401

        base = Path(tempfile.mkdtemp(prefix="ccus-empty-"))
        template = Database(base)
        engine = create_engine(template.url)
        Model.metadata.create_all(engine)
        engine.dispose()
        _dispose(make_app(template.url, base / "instance"))
        _EMPTY_TEMPLATE["template"] = template
        atexit.register(shutil.rmtree, base, True)
        atexit.register(template.drop)
    return _EMPTY_TEMPLATE["template"]


def _copy_database(template: Database, target: Database) -> None:
    """``target`` (a fresh Database) becomes a copy of ``template``."""
    if PG_URL:
        _clone_pg_schema(template.schema, target.schema)
    else:
        shutil.copy(template.path, target.path)


@contextlib.contextmanager
def empty_app(database: Database, instance: Path):
    """An app over ``database`` with an empty schema: a copy of the session's synced empty template, so the app
    skips FAB's permission sync (FAB_UPDATE_PERMS off: the template was built by the same code)."""
    _copy_database(_empty_template(), database)
    application = make_app(database.url, instance, FAB_UPDATE_PERMS=False)
    try:
        yield application
    finally:
        _dispose(application)


@pytest.fixture
def app(database, tmp_path):
    """An app over an empty schema (created with create_all: tests only)."""
    with empty_app(database, tmp_path / "instance") as application:
        yield application


def _dispose(application) -> None:
    from portal.app.db import db

    with application.app_context():
        db.session.remove()
        db.engine.dispose()


_DEMO_TEMPLATE: dict = {}


def _demo_template(tmp_path_factory):
    """Build the demo once per test session: a SQLite file to copy, or a PostgreSQL schema to clone."""
    if "logins" in _DEMO_TEMPLATE:
        return _DEMO_TEMPLATE
    from portal import demo
    from portal.app.db import db

    base = tmp_path_factory.mktemp("demo")
    template = Database(base)
    _copy_database(_empty_template(), template)
    application = make_app(template.url, base / "instance", FAB_UPDATE_PERMS=False)
    with application.app_context():
        logins = demo.build(db.session, application.appbuilder.sm, workers=int(os.environ.get("CCUS_TEST_DEMO_WORKERS", "60")))
    _dispose(application)
    _DEMO_TEMPLATE.update(template=template, logins=logins)
    return _DEMO_TEMPLATE


def _clone_pg_schema(source: str, target: str) -> None:
    """Copy a schema into the (empty) schema ``target``: the same DDL (create_all, so foreign keys and named
    sequences are there too), then the rows table by table in dependency order, then every sequence's position."""
    from flask_appbuilder import Model

    import portal.models  # noqa: F401

    engine = create_engine(PG_URL)
    target_engine = create_engine(_pg_schema_url(target))
    Model.metadata.create_all(target_engine)
    target_engine.dispose()
    with engine.begin() as c:
        _copy_pg_rows(c, source, target)
    engine.dispose()


def _copy_pg_rows(c, source: str, target: str) -> None:
    """The rows of every table, in dependency order, then every sequence's position."""
    from flask_appbuilder import Model

    for table in Model.metadata.sorted_tables:
        columns = ", ".join(f'"{col.name}"' for col in table.columns)
        c.execute(text(f'INSERT INTO "{target}"."{table.name}" ({columns}) '
                       f'SELECT {columns} FROM "{source}"."{table.name}"'))
    for (name,) in c.execute(text("select sequencename from pg_sequences where schemaname = :s"), {"s": source}).all():
        last, called = c.execute(text(f'SELECT last_value, is_called FROM "{source}"."{name}"')).one()
        c.execute(text(f'SELECT setval(\'"{target}"."{name}"\', {int(last)}, {"true" if called else "false"})'))


def _refill(template: Database, target: Database) -> None:
    """``target`` holds again exactly the rows of ``template`` (same tables): on SQLite a fresh copy of the file
    moved into place (a connection a test left open keeps the old file), on PostgreSQL every table emptied and
    filled again in one transaction (no DDL)."""
    if not PG_URL:
        fresh = target.path.with_suffix(".fresh")
        shutil.copy(template.path, fresh)
        for leftover in (target.path.with_name(target.path.name + "-journal"),
                         target.path.with_name(target.path.name + "-wal")):
            leftover.unlink(missing_ok=True)
        os.replace(fresh, target.path)
        return
    from flask_appbuilder import Model

    engine = create_engine(PG_URL)
    try:
        with engine.begin() as c:
            c.execute(text("SET LOCAL lock_timeout = '10s'"))  # a transaction a test left open: fail, not hang
            tables = ", ".join(f'"{target.schema}"."{t.name}"' for t in Model.metadata.sorted_tables)
            c.execute(text(f"TRUNCATE {tables} CASCADE"))
            _copy_pg_rows(c, template.schema, target.schema)
    finally:
        engine.dispose()


@contextlib.contextmanager
def demo_copy(folder: Path, tmp_path_factory, **config):
    """An app over a private copy of the demo data (a SQLite file in ``folder``, or a cloned PostgreSQL schema),
    with ``config`` on top of the test configuration; ``.logins`` lists the demo logins. For a fixture of any
    scope: ``demo_app`` per test, a module's own (``scope="module"``) where the tests may share one copy."""
    tpl = _demo_template(tmp_path_factory)
    database = Database(folder)
    _copy_database(tpl["template"], database)
    # the template was built by the same code, so its permissions are in place: syncing them again (FAB_UPDATE_PERMS)
    # cost 10-25 s of each test (FAB loads every role's permissions per view)
    application = make_app(database.url, folder / "instance", **{"FAB_UPDATE_PERMS": False, **config})
    application.logins = json.loads(json.dumps(tpl["logins"]))
    try:
        yield application
    finally:
        _dispose(application)
        database.drop()


_SHARED_DEMO: dict = {}


def _shared_demo(tmp_path_factory) -> dict:
    """The test process's one app for ``demo_app``, over a database of its own. Building an app costs 2-4 s
    (FAB's views, werkzeug's 465 URL rules), most of a typical test's time, so tests share the app and each
    starts from a fresh copy of the demo data (:func:`_fresh_demo`)."""
    if "app" not in _SHARED_DEMO:
        tpl = _demo_template(tmp_path_factory)
        base = tmp_path_factory.mktemp("shared-demo")
        database = Database(base)
        _copy_database(tpl["template"], database)
        application = make_app(database.url, base / "instance", FAB_UPDATE_PERMS=False)
        _SHARED_DEMO.update(app=application, database=database, instance=base / "instance",
                            config=dict(application.config),
                            plugins=set(application.extensions["ccus_plugins"].get_plugins()))
    return _SHARED_DEMO


def _fresh_demo(shared: dict, logins: list) -> None:
    """Undo what the last test did to the shared app: its report jobs and purger finish first (none may write
    into the new copy), then the demo rows, the configuration, the plugins it registered, the login limits
    it counted and the files it left are as the app was built."""
    from portal.output import jobs

    application = shared["app"]
    for thread in list(jobs.THREADS.values()):
        thread.join(60)
    jobs.stop_purger(application)
    _dispose(application)
    _refill(_DEMO_TEMPLATE["template"], shared["database"])
    application.config.clear()
    application.config.update(shared["config"])
    pm = application.extensions["ccus_plugins"]
    for plugin in set(pm.get_plugins()) - shared["plugins"]:
        pm.unregister(plugin)
    application.extensions.pop("ccus_login_limits", None)
    os.environ["CCUS_INSTANCE"] = str(shared["instance"])
    shutil.rmtree(shared["instance"], ignore_errors=True)
    shared["instance"].mkdir(parents=True)
    application.logins = json.loads(json.dumps(logins))


@pytest.fixture
def demo_app(tmp_path_factory):
    """An app over a private copy of the demo data; ``demo_app.logins`` lists the demo logins. The app object
    is shared by the tests of a process, its data never (see :func:`_fresh_demo`); a test that needs an app of
    its own (other configuration at build time) uses :func:`demo_copy`."""
    shared = _shared_demo(tmp_path_factory)
    try:
        _fresh_demo(shared, _DEMO_TEMPLATE["logins"])
    except Exception:  # a copy that could not be refilled (a lock a test left): start over with a new app
        _SHARED_DEMO.clear()
        shared = _shared_demo(tmp_path_factory)
        _fresh_demo(shared, _DEMO_TEMPLATE["logins"])
    yield shared["app"]


def login_of(application, role: str, index: int = 0) -> dict:
    found = [entry for entry in application.logins if entry["role"] == role]
    return found[index]


def login(client, username: str, password: str):
    """Log in through the real login form; returns the response of the page it lands on."""
    page = client.get("/login/")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
    data = {"username": username, "password": password}
    if token:
        data["csrf_token"] = token.group(1)
    return client.post("/login/", data=data, follow_redirects=True)


def api_token(client, username: str, password: str) -> str:
    r = client.post("/api/v1/security/login", json={"username": str(username), "password": password,
                                                     "provider": "db", "refresh": False})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["access_token"]


@pytest.fixture
def client_for(demo_app):
    """``client_for(role, index=0)`` → (test client logged in as that demo login, its login entry)."""

    def make(role: str, index: int = 0):
        entry = login_of(demo_app, role, index)
        client = demo_app.test_client()
        landed = login(client, entry["login"], entry["password"])
        assert landed.status_code == 200
        return client, entry

    return make


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now: servers a test starts never meet another run's."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def artifacts(kind: str) -> Path:
    """The folder where tests leave files to be looked at (screenshots, first pages of reports and forms):
    $CCUS_TEST_ARTIFACTS/<kind>, by default test-artifacts/<kind> in the repository (not committed)."""
    root = os.environ.get("CCUS_TEST_ARTIFACTS") or Path(__file__).resolve().parent.parent.parent / "test-artifacts"
    folder = Path(root) / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# ./dev.sh test (the README's command, and CI) sets CCUS_REQUIRE_ALL=1: a test whose part (Redis, PostgreSQL's
# server binaries) is missing then runs and fails loudly instead of skipping, since a skipped part proves nothing.
REQUIRE_ALL = bool(os.environ.get("CCUS_REQUIRE_ALL"))


def missing(absent: bool) -> bool:
    """For skipif: skip only where a part is absent on a developer's own run, never under ./dev.sh test."""
    return absent and not REQUIRE_ALL
