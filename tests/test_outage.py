"""A database outage as the production server meets it: gunicorn (two workers) over a private PostgreSQL that is
stopped and started again in the middle of a retrying device's stream. While it is away every answer is 503 with
Retry-After (JSON on the API, a Japanese page on the screens); nothing is lost or stored twice; no 500; and once
it is back the first requests of every worker are answered (the pool pre-pings its idle connections: without
pre-ping, a restart while the workers are idle leaves each of them a stale connection, answered 503 once)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from portal.demo.testing import missing

from test_ingest_faults import _free_port, _stream

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
SECRET, CREDENTIAL_KEY = "test-secret-key-for-the-ccus-portal-tests", "test-credential-key"

pytestmark = pytest.mark.skipif(missing(not (PG_BIN / "initdb").exists()), reason="PostgreSQL 15 server binaries not installed")


class PrivatePostgres:
    """A PostgreSQL server of this test's own (other tests share the machine's: never stop that one)."""

    def __init__(self, base: Path):
        self.dir, self.port = base / "pgdata", _free_port()
        base.mkdir(parents=True, exist_ok=True)
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # initdb refuses root
        if self.as_postgres:
            shutil.chown(base, "postgres")
            base.parent.chmod(0o755)
        self._run(PG_BIN / "initdb", "-D", self.dir, "-A", "trust", "-U", "postgres", "--no-sync")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args):
        subprocess.run(self.as_postgres + [str(a) for a in args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)

    def start(self):
        self._run(PG_BIN / "pg_ctl", "-D", self.dir, "-w", "-l", self.dir / "log", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self):
        self._run(PG_BIN / "pg_ctl", "-D", self.dir, "-w", "-m", "fast", "stop")


@pytest.fixture
def private_pg():
    base = Path(tempfile.mkdtemp(prefix="ccus-outage-"))  # not under pytest's root-only tmp: postgres must reach it
    pg = PrivatePostgres(base / "pg")
    pg.start()
    yield pg
    try:
        pg.stop()
    except subprocess.CalledProcessError:
        pass
    shutil.rmtree(base, ignore_errors=True)


def _seed(url: str, instance: Path) -> str:
    """Tables, the demo (a few workers) and a device on site A; returns its key."""
    from flask_appbuilder import Model

    import portal.models  # noqa: F401
    from ingest_world import new_device
    from portal import demo
    from portal.app.db import db
    from portal.demo.testing import _dispose, make_app

    engine = create_engine(url)
    Model.metadata.create_all(engine)
    engine.dispose()
    app = make_app(url, instance)
    with app.app_context():
        demo.build(db.session, app.appbuilder.sm, workers=20)
    _device, key = new_device(app)
    _dispose(app)
    return key


def _answer(port: int, key: str | None, path: str, batch: list | None = None):
    """(status, headers, body) of one request; raises OSError when the server cannot be reached."""
    data = json.dumps({"events": batch}).encode() if batch is not None else None
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_a_database_restart_mid_stream_answers_503_loses_and_doubles_nothing(private_pg, tmp_path):
    key = _seed(private_pg.url, tmp_path / "seed")
    port = _free_port()
    env = {**os.environ, "CCUS_DATABASE_URL": private_pg.url, "CCUS_INSTANCE": str(tmp_path / "server"),
           "CCUS_SECRET_KEY": SECRET, "CCUS_CREDENTIAL_KEY": CREDENTIAL_KEY, "CCUS_RETRY_AFTER_SECONDS": "2"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--preload", "-w", "2", "-b", f"127.0.0.1:{port}",
                               "portal.app.wsgi:serve()"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=(tmp_path / "gunicorn.log").open("w"))
    batches = _stream(16, 50, "outage")
    outage: dict = {}
    statuses: list[tuple[int, bool]] = []  # (status, sent after the database was back)
    back = threading.Event()

    def restart():
        private_pg.stop()
        time.sleep(0.5)
        outage["screen"] = _answer(port, None, "/workerview/list/")
        outage["api"] = _answer(port, key, "/api/v1/events", [])
        time.sleep(2)
        private_pg.start()
        back.set()

    try:
        deadline = time.time() + 120
        while True:  # the server is up
            try:
                if _answer(port, None, "/login/")[0] == 200:
                    break
            except OSError:
                pass
            assert time.time() < deadline, "gunicorn did not start"
            time.sleep(0.3)
        restarter = threading.Thread(target=restart)
        results: dict[str, list[str]] = {}
        with ThreadPoolExecutor(2) as pool:  # both workers hold pooled connections now
            list(pool.map(lambda _k: _answer(port, None, "/workerview/list/"), range(8)))
        # a restart while no request comes: the idle workers' connections are stale; the first requests of both
        # (two at a time) are answered at once, because the pool pre-pings
        private_pg.stop()
        private_pg.start()
        with ThreadPoolExecutor(2) as pool:
            first = list(pool.map(lambda k: _answer(port, key, "/api/v1/events", batches[k]), range(4)))
        assert [status for status, _h, _b in first] == [200] * 4, [(s_, b_[:200]) for s_, _h, b_ in first]
        for k, (_s, _h, body) in enumerate(first):
            for e, r in zip(batches[k], json.loads(body)["results"]):
                results.setdefault(e["event_id"], []).append(r["result"])
        for b, batch in enumerate(batches):
            if b < 4:
                continue
            if b == 6:
                restarter.start()
            for _attempt in range(600):
                after = back.is_set()
                try:
                    status, headers, body = _answer(port, key, "/api/v1/events", batch)
                except OSError:
                    time.sleep(0.1)
                    continue
                statuses.append((status, after))
                if status == 200:
                    break
                assert status == 503, (status, body[:300])
                assert headers["Retry-After"] == "2" and json.loads(body)["code"] == "database_unavailable"
                time.sleep(0.2)  # a device would wait Retry-After; the test keeps it short
            else:
                raise AssertionError("the batch was never answered")
            for e, r in zip(batch, json.loads(body)["results"]):
                assert r["result"] in ("accepted", "duplicate")
                results.setdefault(e["event_id"], []).append(r["result"])
        restarter.join(60)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert any(s == 503 for s, _after in statuses), "the outage was never seen"
    assert all(s == 200 for s, after in statuses if after), statuses  # pre-ping: no stale connection after recovery
    assert sum(1 for _s, after in statuses if after) >= 4  # both workers answered after it
    status, headers, page = outage["screen"]
    assert status == 503 and headers["Retry-After"] == "2" and headers["Content-Type"].startswith("text/html")
    assert "データベースに接続できない" in page.decode()
    status, headers, body = outage["api"]
    assert status == 503 and json.loads(body)["code"] == "database_unavailable"
    engine = create_engine(private_pg.url)
    with engine.connect() as c:
        stored = c.execute(text("select device_event_id from entry_exit_events where device_event_id like 'outage-%'")).scalars().all()
    engine.dispose()
    sent = [e["event_id"] for batch in batches for e in batch]
    assert sorted(stored) == sorted(sent)  # 0 lost, 0 doubled
    assert all(r[-1] in ("accepted", "duplicate") for r in results.values()) and len(results) == len(sent)
