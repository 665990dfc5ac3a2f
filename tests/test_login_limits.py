"""Login limits: per client address (flask-limiter) and per account (portal.people.login_limits, a growing delay),
counted in one store shared by every process (Redis: two gunicorn workers see the same counts), the address
taken from the configured number of trusted proxies, a Japanese 429 with Retry-After, an unlock path (a password
reset) and nothing revealed about which IDs exist."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from portal.people import login_limits
from portal.demo.testing import REQUIRE_ALL, _dispose, login_of, make_app

from test_ingest_faults import _free_port

ROOT = Path(__file__).resolve().parent.parent
REDIS = "redis://127.0.0.1:6379/0"


def test_a_locked_account_gets_a_japanese_429_with_retry_after_on_the_form_and_the_api(demo_app, tmp_path):
    app = make_app(demo_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "limited", FAB_UPDATE_PERMS=False, RATELIMIT_ENABLED=True,
                   AUTH_RATE_LIMITED=True, AUTH_RATE_LIMIT="1000 per minute")
    try:
        entry = login_of(demo_app, "employer")
        client = app.test_client()
        for _ in range(login_limits.FAILURES_BEFORE_DELAY):
            r = client.post("/login/", data={"username": entry["login"], "password": "wrong-password-1"})
            assert r.status_code == 302  # FAB's "invalid login" redirect
        r = client.post("/login/", data={"username": entry["login"], "password": entry["password"]})
        assert r.status_code == 429 and 25 <= int(r.headers["Retry-After"]) <= 30
        assert "試行回数が多すぎます" in r.get_data(as_text=True)
        r = client.post("/api/v1/security/login", json={"username": entry["login"], "password": entry["password"],
                                                        "provider": "db"})
        assert r.status_code == 429 and r.get_json()["code"] == "too_many_requests" and int(r.headers["Retry-After"]) > 0
        assert "ロック" in r.get_json()["message"]
        # the unlock path: a password reset (here the administrator's) clears the lock
        with app.app_context():
            user = app.appbuilder.sm.find_user(username=entry["login"])
            app.appbuilder.sm.reset_password(user.id, entry["password"])
        r = client.post("/api/v1/security/login", json={"username": entry["login"], "password": entry["password"],
                                                        "provider": "db"})
        assert r.status_code == 200 and r.get_json()["access_token"]
    finally:
        _dispose(app)


def test_the_delay_grows_and_an_unknown_id_is_locked_the_same_way(app):
    with app.app_context():
        name = f"nobody-{uuid.uuid4().hex[:6]}"
        delays = []
        for _ in range(login_limits.FAILURES_BEFORE_DELAY + 3):
            login_limits.failed(app, name)
            delays.append(login_limits.locked_for(app, name))
        assert delays[:login_limits.FAILURES_BEFORE_DELAY - 1] == [None] * (login_limits.FAILURES_BEFORE_DELAY - 1)
        assert [d for d in delays if d] == pytest.approx([30, 60, 120, 240], abs=2)
        assert login_limits.locked_for(app, f" {name.upper()} ") is not None  # the name as typed, normalised
        login_limits.cleared(app, name)
        assert login_limits.locked_for(app, name) is None


def test_storage_is_redis_when_configured_or_the_brokers_redis_else_memory():
    assert login_limits.storage_uri({"CCUS_RATELIMIT_STORAGE": REDIS}) == REDIS
    assert login_limits.storage_uri({"CCUS_CELERY_BROKER": "redis://cache:6379/1"}) == "redis://cache:6379/1"
    assert login_limits.storage_uri({"CCUS_CELERY_BROKER": "amqp://x"}) == "memory://"
    assert login_limits.storage_uri({}) == "memory://"


def _login(port: int, username: str, password: str, address: str) -> tuple[int, dict, dict]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/security/login", data=json.dumps(
        {"username": username, "password": password, "provider": "db"}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": address})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"{}")


def test_two_gunicorn_workers_share_the_counts_in_redis(demo_app, tmp_path):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS).ping()
    except Exception:  # noqa: BLE001
        if REQUIRE_ALL:
            raise
        pytest.skip("no Redis on 127.0.0.1:6379")
    port, prefix = _free_port(), f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "CCUS_DATABASE_URL": demo_app.config["SQLALCHEMY_DATABASE_URI"],
           "CCUS_INSTANCE": str(tmp_path / "server"), "CCUS_SECRET_KEY": demo_app.config["SECRET_KEY"],
           "CCUS_CREDENTIAL_KEY": "test-credential-key", "CCUS_RATELIMIT_STORAGE": REDIS,
           "CCUS_RATELIMIT_PREFIX": prefix, "CCUS_LOGIN_RATE_LIMIT": "6 per 1 minute", "CCUS_TRUSTED_PROXIES": "1"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--preload", "-w", "2", "-b", f"127.0.0.1:{port}",
                               "portal.app.wsgi:serve()"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5)
                break
            except OSError:
                assert time.time() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        # one address, 16 attempts (distinct names), four at a time so that both workers answer: 6 get through
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda k: _login(port, f"guess-{prefix}-{k}", "x", "203.0.113.7"), range(16)))
        statuses = sorted(s for s, _h, _b in answers)
        assert statuses.count(401) == 6 and statuses.count(429) == 10, statuses
        limited = next((h, b) for s, h, b in answers if s == 429)
        assert int(limited[0]["Retry-After"]) > 0 and "試行回数" in limited[1]["message"]
        assert _login(port, f"guess-{prefix}-x", "x", "203.0.113.8")[0] == 401  # another address is not limited

        # one account, wrong passwords from ten addresses: locked after five, the right password then refused too
        entry = login_of(demo_app, "employer")
        unknown = f"99999{prefix}"
        for name in (entry["login"], unknown):
            seen = [_login(port, name, "wrong-password-1", f"198.51.100.{k}")[0] for k in range(10)]
            assert seen == [401] * 5 + [429] * 5, (name, seen)  # an unknown ID answers exactly the same
        status, headers, body = _login(port, entry["login"], entry["password"], "192.0.2.1")
        assert status == 429 and int(headers["Retry-After"]) > 0 and body["code"] == "too_many_requests"
    finally:
        server.terminate()
        server.wait(timeout=30)
        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
