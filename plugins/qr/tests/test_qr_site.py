"""The rotating site QR: the kiosk's token API (device key), and a worker's phone recording 入場/退場 through the
core ingest with method QR."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from ccus_qr import tokens
from portal.devices import testing
from portal.devices.testing import histories_of, off_roster_worker, site_of
from qr_helpers import MEGURO, SITE_A, events_of, logged_in, register_qr_device


def _token(client, key):
    r = client.get("/api/v1/qr/site-token", headers={"Authorization": f"Bearer {key}"})
    return r.status_code, r.get_json()


def _day_of_first_event(app, device_pk) -> dict:
    """The site and day of the history the device's first event made (the demo has histories on other days)."""
    event = testing.events_of(app, device_pk)[0]
    return {"site": event.site_id, "work_date": event.work_date}


def _worker_login(app, code=MEGURO):
    return next(e for e in app.logins if e["login"] == code)


def test_kiosk_page_holds_no_secret(demo_app):
    page = demo_app.test_client().get("/qr/kiosk/").get_data(as_text=True)
    assert "機器キー" in page and "/api/v1/qr/site-token" in page and "ccus_" not in page


def test_token_api_answers_only_a_qr_device(demo_app):
    client = demo_app.test_client()
    device_pk, key = register_qr_device(demo_app)
    status, body = _token(client, key)
    assert status == 200
    assert body["site_id"] == SITE_A and body["site_name"] and body["period"] == tokens.DEFAULT_PERIOD
    assert 0 < body["expires_in"] <= tokens.DEFAULT_PERIOD and body["svg"].startswith("<svg")
    assert urlsplit(body["url"]).path == f"/qr/scan/{device_pk}/{body['token']}"
    assert tokens.check_site_token(tokens.qr_key(demo_app.config), device_pk, body["token"]) is not None
    assert _token(client, "ccus_00000000_nonsense") == (401, {"code": "invalid_device_key", "message": "機器キーが無効です。"})
    _other_pk, card_key = register_qr_device(demo_app, device_type="cardreader")
    status, body = _token(client, card_key)
    assert (status, body["code"]) == (403, "not_a_qr_device")


def test_worker_records_entry_once_by_scanning(demo_app):
    device_pk, key = register_qr_device(demo_app)
    _status, body = _token(demo_app.test_client(), key)
    path = urlsplit(body["url"]).path
    phone = logged_in(demo_app, _worker_login(demo_app))
    page = phone.get(path).get_data(as_text=True)
    assert body["site_name"] in page and "入場" in page and "退場" in page
    assert events_of(demo_app, device_pk) == []  # opening the page records nothing
    assert "入場を記録しました" in phone.post(path, data={"kind": "entry"}).get_data(as_text=True)
    assert "入場は既に記録されています" in phone.post(path, data={"kind": "entry"}).get_data(as_text=True)
    assert "退場を記録しました" in phone.post(path, data={"kind": "exit"}).get_data(as_text=True)
    assert events_of(demo_app, device_pk) == [(MEGURO, "entry", "QR"), (MEGURO, "exit", "QR")]
    [history] = histories_of(demo_app, MEGURO, **_day_of_first_event(demo_app, device_pk))
    assert "QR" in history.methods and history.counted, history.not_counted_reason


def test_an_old_or_forged_token_records_nothing(demo_app):
    device_pk, _key = register_qr_device(demo_app, settings={"period": 10})
    key = tokens.qr_key(demo_app.config)
    old = tokens.site_token(key, device_pk, tokens.window(time.time() - 25, 10))  # two periods ago
    phone = logged_in(demo_app, _worker_login(demo_app))
    for token in (old, "AAAAAAAAAAAA", tokens.site_token(key, device_pk + 1, tokens.window(period=10))):
        r = phone.post(f"/qr/scan/{device_pk}/{token}", data={"kind": "entry"})
        assert r.status_code == 410 and "有効期限が切れました" in r.get_data(as_text=True)
    r = phone.post(f"/qr/scan/{device_pk}/{tokens.site_token(key, device_pk, tokens.window(period=10))}",
                   data={"kind": "lunch"})
    assert r.status_code == 422 and "入場か退場を選んでください" in r.get_data(as_text=True)
    assert events_of(demo_app, device_pk) == []


def test_scanning_needs_a_worker_login(demo_app, client_for):
    device_pk, key = register_qr_device(demo_app)
    _status, body = _token(demo_app.test_client(), key)
    path = urlsplit(body["url"]).path
    r = demo_app.test_client().post(path, data={"kind": "entry"})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    employer, _ = client_for("employer")
    assert employer.post(path, data={"kind": "entry"}).status_code in (302, 403)
    assert events_of(demo_app, device_pk) == []


def test_a_worker_not_on_the_roster_is_recorded_not_counted(demo_app):
    device_pk, key = register_qr_device(demo_app)
    _status, body = _token(demo_app.test_client(), key)
    stranger = off_roster_worker(demo_app, site_of(demo_app, SITE_A))
    code = stranger.worker_id
    phone = logged_in(demo_app, _worker_login(demo_app, code))
    assert "入場を記録しました" in phone.post(urlsplit(body["url"]).path, data={"kind": "entry"}).get_data(as_text=True)
    assert events_of(demo_app, device_pk) == [(code, "entry", "QR")]
    [history] = histories_of(demo_app, stranger, **_day_of_first_event(demo_app, device_pk))
    assert not history.counted and history.not_counted_reason
