"""Passwords: FAB's hashing, the minimum policy, login rate limiting (form, JSON API, reset), the forced first
change confirmed with the card's 本人確認番号, and a reset path that answers the same whether an ID exists."""
from __future__ import annotations

import pytest
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from sqlalchemy import select

from portal.people import passwords, password_policy
from portal.devices.credentials import keys_from_config
from portal.app.db import db
from portal.demo import DEMO_PASSWORD, add_login
from portal.models import PortalUser, Worker
from portal.models.accounts import WorkerAccount
from portal.people.scoping import ALL, ROLE_WORKER, using_scope
from portal.demo.testing import login, make_app

NEW = "Shin-pass-2027"


def new_worker_login(app, initial="Shoki-pass-001"):
    """A worker with a fresh card: a login with the initial password and a 本人確認番号, not yet changed."""
    with app.app_context():
        session = db.session
        with using_scope(session, ALL):
            taken = set(session.execute(select(PortalUser.worker_id).where(PortalUser.worker_id.is_not(None))).scalars())
            worker = session.execute(select(Worker).where(Worker.id.not_in(taken)).order_by(Worker.id)).scalars().first()
            add_login(app.appbuilder.sm, worker.worker_id, initial, ROLE_WORKER, first_name="新", last_name="技能者",
                      worker=worker)
            code = passwords.issue_security_code(session, keys_from_config(app.config), worker.id)
            session.commit()
            return worker.worker_id, initial, code


def stored_hash(app, username):
    with app.app_context():
        with using_scope(db.session, ALL):
            return db.session.execute(select(PortalUser.password).where(PortalUser.username == username)).scalar_one()


def test_passwords_are_hashed_by_fab_and_demo_logins_work(demo_app, client_for):
    entry = demo_app.logins[-1]
    stored = stored_hash(demo_app, entry["login"])
    assert stored != entry["password"] and stored.startswith(("scrypt:", "pbkdf2:"))
    client, entry = client_for("worker", 1)
    home = client.get("/", follow_redirects=False)
    # the demo's first change is done: the worker lands on its own menu, not on the password change
    assert home.status_code == 302 and home.headers["Location"].endswith("/worker/")
    assert client.get("/worker/", follow_redirects=False).status_code == 200
    assert len(entry["security_code"]) == 4 and entry["security_code"].isdigit()
    with demo_app.app_context():
        with using_scope(db.session, ALL):
            hashes = db.session.execute(select(WorkerAccount.security_code_hash)).scalars().all()
    assert hashes and entry["security_code"] not in hashes and all(len(h) == 64 for h in hashes)


@pytest.mark.parametrize("weak", ["short1A", "abcdefghijkl", "1234567890", "aaaaaaaaaa11"])
def test_minimum_policy(weak):
    with pytest.raises(PasswordComplexityValidationError):
        password_policy.validate(weak)
    password_policy.validate(DEMO_PASSWORD)


def test_own_password_change_screen_applies_the_policy(client_for, demo_app):
    client, entry = client_for("employer", 0)
    before = stored_hash(demo_app, entry["login"])
    page = client.post("/resetmypassword/form", data={"password": "weak", "conf_password": "weak"},
                       follow_redirects=True).get_data(as_text=True)
    assert "10文字以上" in page
    assert stored_hash(demo_app, entry["login"]) == before


def test_first_login_forces_a_change_confirmed_with_the_security_code(demo_app):
    login_id, initial, code = new_worker_login(demo_app)
    client = demo_app.test_client()
    login(client, login_id, initial)
    r = client.get("/worker/", follow_redirects=False)
    assert r.status_code == 302 and "/first-login/" in r.headers["Location"]
    # the JSON API gives no token before the change
    api = demo_app.test_client().post("/api/v1/security/login", json={"username": login_id, "password": initial,
                                                                       "provider": "db"})
    assert api.status_code == 403 and api.get_json()["code"] == "password_change_required"
    wrong = "0000" if code != "0000" else "1111"
    page = client.post("/first-login/", data={"current_password": initial, "security_code": wrong,
                                              "new_password": NEW, "confirm": NEW}, follow_redirects=True)
    assert "本人確認番号が正しくない" in page.get_data(as_text=True)
    assert client.post("/first-login/", data={"current_password": initial, "security_code": code,
                                              "new_password": "weak", "confirm": "weak"},
                       follow_redirects=True).status_code == 200
    assert stored_hash(demo_app, login_id) and client.get("/worker/").status_code == 302
    client.post("/first-login/", data={"current_password": initial, "security_code": code,
                                       "new_password": NEW, "confirm": NEW})
    assert client.get("/worker/").status_code == 200
    fresh = demo_app.test_client()
    assert "ログアウト" in login(fresh, login_id, NEW).get_data(as_text=True) or fresh.get("/worker/").status_code == 200


def test_security_code_locks_after_repeated_failures(demo_app):
    login_id, initial, code = new_worker_login(demo_app)
    keys = keys_from_config(demo_app.config)
    wrong = "0000" if code != "0000" else "1111"
    with demo_app.app_context():
        session = db.session
        with using_scope(session, ALL):
            worker = session.execute(select(Worker.id).where(Worker.worker_id == login_id)).scalar_one()
        for _ in range(passwords.MAX_FAILURES):
            assert not passwords.verify_security_code(session, keys, worker, wrong)
        assert not passwords.verify_security_code(session, keys, worker, code), "locked, even with the right code"


def test_reset_does_not_reveal_whether_an_id_exists(demo_app):
    login_id, initial, code = new_worker_login(demo_app)
    employer = next(e for e in demo_app.logins if e["role"] == "employer")
    wrong = "0000" if code != "0000" else "1111"
    answers = []
    for who, c in [("99999999999921", code), (login_id, wrong), (employer["login"], code), ("", code)]:
        r = demo_app.test_client().post("/password-reset/", data={"login_id": who, "security_code": c,
                                                                   "new_password": NEW, "confirm": NEW},
                                        follow_redirects=True)
        text = r.get_data(as_text=True)
        answers.append((r.status_code, passwords.RESET_FAILED in text))
    assert len(set(answers)) == 1 and answers[0] == (200, True)
    assert passwords.RESET_FAILED.count("ID") == 1 and "存在" not in passwords.RESET_FAILED
    r = demo_app.test_client().post("/password-reset/", data={"login_id": login_id, "security_code": code,
                                                               "new_password": NEW, "confirm": NEW},
                                    follow_redirects=True)
    assert "再設定しました" in r.get_data(as_text=True)
    client = demo_app.test_client()
    login(client, login_id, NEW)
    assert client.get("/worker/").status_code == 200  # a reset with the card's code also ends the initial password
    assert "password-reset-link" in demo_app.test_client().get("/login/").get_data(as_text=True)


def test_login_is_rate_limited(demo_app, tmp_path):
    app = make_app(demo_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "limited", FAB_UPDATE_PERMS=False, RATELIMIT_ENABLED=True,
                   AUTH_RATE_LIMITED=True, AUTH_RATE_LIMIT="5 per 60 second")
    try:
        client = app.test_client()
        codes = [client.post("/login/", data={"username": "admin", "password": "wrong-password-1"}).status_code
                 for _ in range(6)]
        assert 429 not in codes[:5] and codes[5] == 429
        # another name: "admin" itself is locked now after five failures (portal.people.login_limits, per account)
        api = [client.post("/api/v1/security/login", json={"username": "someone-else", "password": "wrong-1",
                                                           "provider": "db"}).status_code for _ in range(6)]
        assert api[-1] == 429 and 401 in api
        reset = [client.post("/password-reset/", data={"login_id": "x"}).status_code for _ in range(6)]
        assert reset[-1] == 429
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
