"""The telephony webhook, end to end through the core ingest function: real HTTP requests to the app (Flask's
test client), and one to a real server process, each signed as Twilio signs it (twilio's own RequestValidator)."""
from __future__ import annotations

import base64
import datetime
import os
import subprocess
import sys
import textwrap

import pytest
from phone_helpers import AUTH_TOKEN, MEGURO, SITE_A, register_device
from twilio.request_validator import RequestValidator

from ccus_phone import enrolment
from portal.devices import EventRef
from portal.devices.testing import (
    events_of, histories_of, issue_security_code, off_roster_site, operator, revoke_device, site_of, worker_of,
)

SITE_NUMBER = "+81312340000"  # the number the workers dial (To)
MEGURO_MOBILE = "+819012345678"


@pytest.fixture
def phone(demo_app):
    """A phone device on A現場工事 answering 03-1234-0000, and 目黒 一郎's mobile number enrolled."""
    pk, key = register_device(demo_app, "phone", {"numbers": ["03-1234-0000"], "auth_token": AUTH_TOKEN})
    worker = worker_of(demo_app, MEGURO)
    with operator(demo_app):
        enrolment.enrol(worker, "090-1234-5678")
    return pk, key


def basic(key: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"phone:{key}".encode()).decode()}


WEBHOOK = "http://localhost/api/v1/phone/calls"  # the URL the test client's requests arrive at


def signed(form: dict, url: str = WEBHOOK, token: str = AUTH_TOKEN) -> dict:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, form)}


def dial(client, key, caller, sid, to=SITE_NUMBER, headers=None, sign=True):
    form = {"From": caller, "To": to, "CallSid": sid, "AccountSid": "AC1"}
    headers = basic(key) if headers is None else headers
    return client.post("/api/v1/phone/calls", data=form, headers={**headers, **(signed(form) if sign else {})})


def events(app, device_pk) -> list[EventRef]:
    return events_of(app, device_pk)


def said(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    body = response.get_data(as_text=True)
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>') and '<Say language="ja-JP">' in body
    return body


def test_calls_toggle_entry_and_exit_and_replays_change_nothing(demo_app, phone):
    pk, key = phone
    client = demo_app.test_client()
    first = said(dial(client, key, MEGURO_MOBILE, "CA1"))
    site_name = site_of(demo_app, SITE_A).name
    assert f"目黒 一郎さん、{site_name}の入場を記録しました。" in first  # name, site and which way
    assert f"目黒 一郎さん、{site_name}の退場を記録しました。" in said(dial(client, key, "+81 90-1234-5678", "CA2"))
    assert "入場を記録しました" in said(dial(client, key, MEGURO_MOBILE, "CA3"))
    # the provider retries CA2: the same answer, nothing stored again
    assert "退場を記録しました" in said(dial(client, key, MEGURO_MOBILE, "CA2"))
    stored = events(demo_app, pk)
    assert [(e.device_event_id, e.kind, e.method) for e in stored] == [
        ("CA1", "entry", "電話"), ("CA2", "exit", "電話"), ("CA3", "entry", "電話")]
    assert {e.worker_id for e in stored} == {MEGURO} and all(e.identified for e in stored)
    [history] = histories_of(demo_app, MEGURO, work_date=stored[0].work_date)
    assert "電話" in history.methods and history.counted


def test_unknown_and_withheld_callers_are_recorded_not_counted(demo_app, phone):
    pk, key = phone
    client = demo_app.test_client()
    assert "この電話番号は登録されていません" in said(dial(client, key, "+819099998888", "CA10"))
    assert "番号を通知して" in said(dial(client, key, "anonymous", "CA11"))
    unknown, withheld = events(demo_app, pk)
    assert unknown.worker_id is None and not unknown.identified and unknown.kind == "entry"
    assert unknown.credential_hash and "99998888" not in unknown.credential_hash
    assert "99998888" not in str(unknown.extras)  # the caller's number is not stored in the clear
    assert withheld.worker_id is None and withheld.device_event_id == "CA11"


def test_a_worker_not_on_the_roster_is_recorded_not_counted(demo_app, phone):
    other_site = off_roster_site(demo_app, MEGURO).site_id  # a site where 目黒 一郎 is not on the roster
    pk2, key2 = register_device(demo_app, "phone", {"auth_token": AUTH_TOKEN}, site=other_site)
    assert "入場を記録しました" in said(dial(demo_app.test_client(), key2, MEGURO_MOBILE, "CA20"))
    [event] = events(demo_app, pk2)
    [history] = histories_of(demo_app, MEGURO, site=event.site_id, work_date=event.work_date)
    assert not history.counted and history.not_counted_reason


def test_a_caller_number_posted_through_the_ingest_api_names_the_worker(demo_app, phone):
    """A PBX that posts call logs itself uses POST /api/v1/events with the number as credential:
    the plugin's ccus_resolve_worker finds the worker, an unknown number stays unresolved."""
    pk, key = phone
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    batch = [{"event_id": f"pbx-{i}", "credential": number, "site_id": SITE_A, "kind": "entry", "time": now,
              "method": "電話"} for i, number in enumerate(["090-1234-5678", "+819000000000"])]
    r = demo_app.test_client().post("/api/v1/events", json={"events": batch}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.get_json()["accepted"] == 2, r.get_json()
    by_id = {e.device_event_id: e for e in events(demo_app, pk)}
    known, unknown = by_id["pbx-0"], by_id["pbx-1"]
    assert known.worker_id == MEGURO and known.identified and known.method == "電話"
    assert unknown.worker_id is None and unknown.credential_hash


@pytest.mark.parametrize("case", ["no key", "wrong key", "other type", "revoked", "wrong number", "no call id",
                                  "unsigned", "forged", "other account", "altered", "other url"])
def test_refused_requests_store_nothing(demo_app, phone, case):
    pk, key = phone
    client = demo_app.test_client()
    headers, to, sid, status, code = basic(key), SITE_NUMBER, "CA30", 401, "invalid_device_key"
    if case in ("unsigned", "forged", "other account", "altered", "other url"):
        form = {"From": MEGURO_MOBILE, "To": SITE_NUMBER, "CallSid": "CA30", "AccountSid": "AC1"}
        sign = {"unsigned": {}, "forged": {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
                "other account": signed(form, token="f" * 32),
                "altered": signed({**form, "From": "+819099998888"}),  # signed for another caller
                "other url": signed(form, url="https://attacker.example/api/v1/phone/calls")}[case]
        r = client.post("/api/v1/phone/calls", data=form, headers={**basic(key), **sign})
        assert r.status_code == 403
        assert r.get_json()["code"] == ("missing_signature" if case == "unsigned" else "invalid_signature")
        assert events(demo_app, pk) == []
        return
    if case == "no key":
        headers = {}
    elif case == "wrong key":
        headers = basic(key[:-4] + "abcd")
    elif case == "other type":
        headers, status, code = basic(register_device(demo_app, "api")[1]), 403, "wrong_device_type"
    elif case == "revoked":
        revoke_device(demo_app, pk)
        code = "revoked_device_key"
    elif case == "wrong number":
        to, status, code = "+81311112222", 403, "wrong_number"
    elif case == "no call id":
        sid, status, code = "", 400, "missing_call_id"
    r = dial(client, key, MEGURO_MOBILE, sid, to=to, headers=headers)
    assert r.status_code == status and r.get_json()["code"] == code
    assert events(demo_app, pk) == []


def test_the_auth_token_is_checked_by_the_settings_schema_and_needed(demo_app):
    from portal.devices import DomainError

    with pytest.raises(DomainError) as refused:
        register_device(demo_app, "phone", {"auth_token": "not-a-token"})
    assert refused.value.code == "invalid_settings" and "Auth Token" in refused.value.message
    with pytest.raises(DomainError):
        register_device(demo_app, "phone", {"signature": "md5"})
    pk, key = register_device(demo_app, "phone", None)  # no token: every call refused, nothing stored
    r = dial(demo_app.test_client(), key, MEGURO_MOBILE, "CA60")
    assert r.status_code == 403 and r.get_json()["code"] == "signature_not_configured"
    assert events(demo_app, pk) == []
    pk, key = register_device(demo_app, "phone", {"signature": "none"})  # a provider without Twilio's scheme
    assert dial(demo_app.test_client(), key, MEGURO_MOBILE, "CA61", sign=False).status_code == 200


def test_the_public_url_setting_is_what_is_signed(demo_app):
    """Behind a proxy the provider signs the public https URL, not the one the app sees."""
    public = "https://ccus.example.jp/api/v1/phone/calls"
    pk, key = register_device(demo_app, "phone", {"auth_token": AUTH_TOKEN, "webhook_url": public})
    form = {"From": "+819099998888", "To": SITE_NUMBER, "CallSid": "CA70"}
    client = demo_app.test_client()
    assert client.post("/api/v1/phone/calls", data=form, headers={**basic(key), **signed(form)}).status_code == 403
    for url in (public, "https://ccus.example.jp:443/api/v1/phone/calls"):  # with or without the default port
        form["CallSid"] = f"CA7{len(url)}"
        assert client.post("/api/v1/phone/calls", data=form, headers={**basic(key), **signed(form, url)}).status_code == 200
    assert len(events(demo_app, pk)) == 2


def test_bearer_key_is_accepted_too(demo_app, phone):
    pk, key = phone
    r = dial(demo_app.test_client(), key, MEGURO_MOBILE, "CA40", headers={"Authorization": f"Bearer {key}"})
    assert "入場を記録しました" in said(r)
    assert len(events(demo_app, pk)) == 1


def test_a_real_server_process_answers_the_provider(demo_app, phone, tmp_path):
    """The webhook as a provider reaches it: HTTP over a socket to a separate server process, the device key
    in the URL's user-info (sent as Basic auth)."""
    import requests

    pk, key = phone
    script = tmp_path / "serve.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from werkzeug.serving import make_server
        from portal.devices.testing import make_app
        app = make_app({demo_app.config["SQLALCHEMY_DATABASE_URI"]!r}, Path({str(tmp_path / "srv")!r}), FAB_UPDATE_PERMS=False)
        server = make_server("127.0.0.1", 0, app)
        print(server.server_port, flush=True)
        server.serve_forever()
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    try:
        port = int(proc.stdout.readline())
        url = f"http://phone:{key}@127.0.0.1:{port}/api/v1/phone/calls"
        form = {"From": MEGURO_MOBILE, "To": SITE_NUMBER, "CallSid": "CA50"}
        # Twilio signs the URL without the user-info; a proxy in front would be the webhook_url setting
        r = requests.post(url, data=form, headers=signed(form, f"http://127.0.0.1:{port}/api/v1/phone/calls"),
                          timeout=30)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/xml")
        assert "入場を記録しました" in r.content.decode("utf-8")
        r = requests.post(f"http://127.0.0.1:{port}/api/v1/phone/calls", data={"From": MEGURO_MOBILE, "CallSid": "CA51"},
                          timeout=30)
        assert r.status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert [e.device_event_id for e in events(demo_app, pk)] == ["CA50"]


def _keypad(client, key, sid, query="", digits=None, caller="anonymous"):
    """One request of the DTMF dialogue, signed for its own URL (the action URL the answer named)."""
    url = WEBHOOK + query
    form = {"From": caller, "To": SITE_NUMBER, "CallSid": sid}
    if digits is not None:
        form["Digits"] = digits
    return client.post(url, data=form, headers={**basic(key), **signed(form, url)})


def test_a_shared_phone_keys_in_the_worker_id_and_security_code(demo_app):
    pk, key = register_device(demo_app, "phone", {"auth_token": AUTH_TOKEN, "keypad": True})
    issue_security_code(demo_app, MEGURO, "4321")
    client = demo_app.test_client()
    asked = said(_keypad(client, key, "CA80"))  # a withheld (or unknown) number: asked for the ID, nothing stored
    assert '<Gather input="dtmf" numDigits="14"' in asked and 'action="calls?step=id"' in asked
    assert "技能者IDの14桁" in asked and events(demo_app, pk) == []
    again = said(_keypad(client, key, "CA80", "?step=id", "1234"))  # too short: asked again
    assert "技能者IDが正しくありません" in again and 'action="calls?step=id"' in again
    pin = said(_keypad(client, key, "CA80", "?step=id", MEGURO + "#"))
    assert f'action="calls?step=pin&amp;worker={MEGURO}"' in pin and "本人確認番号" in pin
    wrong = said(_keypad(client, key, "CA80", f"?step=pin&worker={MEGURO}", "0000"))
    assert "本人確認番号が違う" in wrong and events(demo_app, pk) == []
    done = said(_keypad(client, key, "CA80", f"?step=pin&worker={MEGURO}", "4321"))
    assert "目黒 一郎さん" in done and "入場を記録しました" in done
    [event] = events(demo_app, pk)
    assert event.worker_id == MEGURO and event.identified and event.extras["keypad"] is True
    # the signature covers the query too: another worker's ID in a replayed request is refused
    form = {"From": "anonymous", "To": SITE_NUMBER, "CallSid": "CA81", "Digits": "4321"}
    r = client.post(WEBHOOK + "?step=pin&worker=17788930382321", data=form,
                    headers={**basic(key), **signed(form, WEBHOOK + f"?step=pin&worker={MEGURO}")})
    assert r.status_code == 403 and r.get_json()["code"] == "invalid_signature"


def test_without_the_keypad_setting_an_unknown_caller_is_recorded_as_before(demo_app, phone):
    pk, key = phone
    r = said(_keypad(demo_app.test_client(), key, "CA90", "?step=pin&worker=" + MEGURO, "4321"))
    assert "Gather" not in r and "番号を通知して" in r  # the keypad steps are off: the call is what it was
    [event] = events(demo_app, pk)
    assert event.worker_id is None
