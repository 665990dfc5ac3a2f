"""The ``ccus`` command as an operator runs it: a real subprocess with its own instance folder."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from portal.demo.testing import free_port

CCUS = str(Path(sys.executable).with_name("ccus"))


def run(args, instance: Path, env_extra=None, input_text=None, check=True):
    env = {k: v for k, v in os.environ.items() if k != "CCUS_DATABASE_URL"}
    env.update({"CCUS_INSTANCE": str(instance), **(env_extra or {})})
    result = subprocess.run([CCUS, *args], env=env, capture_output=True, text=True, input=input_text, timeout=300,
                            cwd=instance.parent)
    if check:
        assert result.returncode == 0, result.stderr[-2000:]
    return result


def db_env(database):
    return {"CCUS_DATABASE_URL": database.url}


def test_demo_writes_every_login(tmp_path, database):
    out = tmp_path / "logins.json"
    run(["demo", "--logins-json", str(out)], tmp_path / "instance", db_env(database))
    logins = json.loads(out.read_text(encoding="utf-8"))
    roles = {e["role"] for e in logins}
    assert {"admin", "prime", "employer", "site_manager", "worker"} <= roles
    for entry in logins:
        base = {"role", "login", "password", "employer_id", "worker_id", "site_ids"}
        assert set(entry) == (base | {"security_code"} if entry["role"] == "worker" else base)
        if entry["role"] == "worker":
            assert len(entry["login"]) == 14 and entry["login"] == entry["worker_id"] and entry["site_ids"]
            assert len(entry["security_code"]) == 4 and entry["security_code"].isdigit()  # 本人確認番号 on the card
        if entry["role"] in ("prime", "employer"):
            assert entry["login"] == entry["employer_id"]
    prime_a = next(e for e in logins if e["login"] == "41522937006822")
    assert "36265810102371" in prime_a["site_ids"]
    # a second seeding into the same database is refused, nothing changes
    again = run(["demo"], tmp_path / "instance", db_env(database), check=False)
    assert again.returncode != 0 and "既にデータがあります" in again.stderr


def test_create_admin_and_refuse_duplicate(tmp_path, database):
    run(["create-admin", "--username", "root2", "--password", "Long-enough-pass-1"], tmp_path / "i", db_env(database))
    again = run(["create-admin", "--username", "root2", "--password", "x"], tmp_path / "i", db_env(database), check=False)
    assert again.returncode != 0 and "既に存在します" in again.stderr


def test_import_codes_upserts_and_rejects_bad_rows(tmp_path, database):
    good = tmp_path / "trades.csv"
    good.write_text("major_code,major_name,minor_code,minor_name,evaluable\n99,試験大分類,01,試験小分類,Y(試験)\n",
                    encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("major_code,major_name,minor_code,minor_name,evaluable\n99,試験,1,誤り,?\n", encoding="utf-8")
    run(["migrate"], tmp_path / "i", db_env(database))
    ok = run(["import-codes", "--trades", str(good)], tmp_path / "i", db_env(database))
    assert "職種 1 件" in ok.stdout
    failed = run(["import-codes", "--trades", str(bad)], tmp_path / "i", db_env(database), check=False)
    assert failed.returncode != 0 and "invalid_trade_code" in failed.stderr and "2行目" in failed.stderr
    from sqlalchemy import create_engine, text

    engine = create_engine(database.url)
    with engine.connect() as c:
        rows = c.execute(text("select major_code, minor_code, minor_name from trades where major_code = '99'")).all()
    engine.dispose()
    assert rows == [("99", "01", "試験小分類")]


@pytest.mark.skipif(bool(os.environ.get("CCUS_TEST_DATABASE_URL")), reason="the first-start demo is the SQLite path")
def assert_login_page(proc, port: int, seconds: int) -> None:
    """Wait for the server ``proc`` started to answer with its login page."""
    deadline, body = time.time() + seconds, ""
    while time.time() < deadline:
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5).read().decode()
            break
        except OSError:
            assert proc.poll() is None, proc.stdout.read()[-2000:]
            time.sleep(0.5)
    assert "ログイン" in body or "login" in body.lower()


def test_run_seeds_a_demo_on_first_start(tmp_path):
    port = free_port()
    env = {**os.environ, "CCUS_INSTANCE": str(tmp_path / "instance")}
    env.pop("CCUS_DATABASE_URL", None)
    proc = subprocess.Popen([CCUS, "run", "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert_login_page(proc, port, seconds=240)
        assert (tmp_path / "instance" / "ccus.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'ccus.db'}")
    with engine.connect() as c:
        assert c.execute(text("select count(*) from workers")).scalar() == 300
        assert c.execute(text("select count(*) from employers")).scalar() == 20
        assert c.execute(text("select count(*) from sites")).scalar() == 5
    engine.dispose()


def test_the_production_server_starts_with_gunicorn(tmp_path, database):
    """README's production command: gunicorn --preload 'portal.app.wsgi:serve()' over a migrated database."""
    instance = tmp_path / "instance"
    run(["migrate"], instance, db_env(database))
    port = free_port()
    env = {**os.environ, "CCUS_INSTANCE": str(instance), **db_env(database)}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--preload", "-w", "2", "-b", f"127.0.0.1:{port}",
                             "portal.app.wsgi:serve()"], env=env, cwd=Path(__file__).resolve().parent.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert_login_page(proc, port, seconds=120)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/events", data=b'{"events": []}',
                                         headers={"Content-Type": "application/json"}, method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:  # served by a forked worker: no key, no entry
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401 and json.load(refused.value)["code"] == "invalid_device_key"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
