"""Faults: two processes posting the same batch at once store each event once; a server killed in the middle of
a stream from a retrying client loses and doubles nothing; histories stay what a rebuild from the events gives."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlalchemy import func, select

from ingest_world import HIROO, MEGURO, MIRAI, event, new_device, recent_day
from portal.history import histories
from portal.app.db import db
from portal.models import EntryExitEvent
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import free_port as _free_port

ROOT = Path(__file__).resolve().parent.parent


def _env(app, instance: Path) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]),
            "CCUS_TEST_URL": app.config["SQLALCHEMY_DATABASE_URI"], "CCUS_TEST_INSTANCE": str(instance)}


def _stored(app, device_id: int) -> list[str]:
    with app.app_context(), using_scope(db.session, ALL):
        return db.session.execute(select(EntryExitEvent.device_event_id).where(
            EntryExitEvent.device_id == device_id)).scalars().all()


def _no_history_differences(app) -> None:
    with app.app_context(), using_scope(db.session, ALL):
        assert [str(d) for d in histories.rebuild(db.session, write=False)] == []


def _stream(n_batches: int, size: int, prefix: str) -> list[list[dict]]:
    workers = [MEGURO, HIROO, MIRAI]
    days = [recent_day(k) for k in (2, 3, 4, 5)]
    out = []
    for b in range(n_batches):
        batch = []
        for i in range(size):
            n = b * size + i
            e = event(workers[n % 3], days[(n // 3) % 4], 6 + (n // 12) % 14, "entry" if n % 2 else "exit", mm=n % 60)
            e["event_id"] = f"{prefix}-{n}"
            batch.append(e)
        out.append(batch)
    return out


INGEST_ONCE = textwrap.dedent("""
    import json, os, sys
    from portal.demo.testing import make_app
    from portal.app.db import db
    from portal.devices.credentials import keys_from_config
    from portal.ingest import ingest
    from portal.models import Device
    from portal.people.scoping import ALL, using_scope
    from pathlib import Path
    app = make_app(os.environ["CCUS_TEST_URL"], Path(os.environ["CCUS_TEST_INSTANCE"]), FAB_UPDATE_PERMS=False)
    device_id, path = int(sys.argv[1]), sys.argv[2]
    batches = json.loads(Path(path).read_text())
    print("ready", flush=True)
    sys.stdin.readline()  # both processes start together
    with app.app_context():
        with using_scope(db.session, ALL):
            device = db.session.get(Device, device_id)
        for batch in batches:
            out = ingest(db.session, device, batch, plugins=app.extensions["ccus_plugins"],
                         credential_keys=keys_from_config(app.config))
            print(json.dumps([r["result"] for r in out.results]), flush=True)
""")


def test_two_processes_sending_the_same_batches_at_once_store_each_event_once(demo_app, tmp_path):
    device_id, _key = new_device(demo_app)
    batches = _stream(4, 250, "twin")
    path = tmp_path / "batches.json"
    path.write_text(json.dumps(batches))
    procs = [subprocess.Popen([sys.executable, "-c", INGEST_ONCE, str(device_id), str(path)], env=_env(demo_app, tmp_path / f"i{k}"),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT) for k in range(2)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    answers = []
    for p in procs:
        out, _err = p.communicate(timeout=300)
        assert p.returncode == 0
        answers.append([json.loads(line) for line in out.splitlines() if line.startswith("[")])
    for b in range(len(batches)):
        for i in range(len(batches[b])):
            pair = sorted(answers[k][b][i] for k in range(2))
            assert pair == ["accepted", "duplicate"], (b, i, pair)  # exactly one process stored it
    stored = _stored(demo_app, device_id)
    assert len(stored) == len(set(stored)) == sum(len(b) for b in batches)
    _no_history_differences(demo_app)


SERVER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from portal.demo.testing import make_app
    app = make_app(os.environ["CCUS_TEST_URL"], Path(os.environ["CCUS_TEST_INSTANCE"]), FAB_UPDATE_PERMS=False)
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True, use_reloader=False)
""")


def _start_server(app, tmp_path, port: int):
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=_env(app, tmp_path / "server"), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def _post(port: int, key: str, batch: list) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/events", data=json.dumps({"events": batch}).encode(),
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def test_a_server_killed_mid_stream_loses_and_doubles_nothing(demo_app, tmp_path):
    device_id, key = new_device(demo_app)
    port = _free_port()
    batches = _stream(24, 100, "kill")
    server = _start_server(demo_app, tmp_path, port)
    failures, kills, results = 0, 0, {}
    try:
        for b, batch in enumerate(batches):
            if b in (5, 14):  # kill the server while this batch is in flight, as a retrying client sees it
                victim = server
                import threading

                threading.Timer(0.02, lambda: os.killpg(victim.pid, signal.SIGKILL)).start()
                kills += 1
            for _attempt in range(200):  # the client retries the same batch until it is answered
                try:
                    answer = _post(port, key, batch)
                    break
                except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                    failures += 1
                    if server.poll() is not None:
                        server = _start_server(demo_app, tmp_path, port)
                    time.sleep(0.05)
            else:
                raise AssertionError("the batch was never answered")
            for e, r in zip(batch, answer["results"]):
                assert r["result"] in ("accepted", "duplicate")
                results.setdefault(e["event_id"], []).append(r["result"])
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    assert kills == 2 and failures >= 1
    stored = _stored(demo_app, device_id)
    sent = [e["event_id"] for batch in batches for e in batch]
    assert sorted(stored) == sorted(sent)  # nothing lost, nothing doubled
    _no_history_differences(demo_app)
