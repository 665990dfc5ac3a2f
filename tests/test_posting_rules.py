"""Per-type posting rules of POST /api/v1/events: a device's key posts only its own type's events, and a QR
device's key (on a tablet anyone at the gate can reach) never names workers by 技能者ID."""
from __future__ import annotations

from ingest_world import MEGURO, event, new_device, recent_day
from portal.devices import posting as posting_rules
from portal.devices import DeviceType


def _post(app, key, events):
    r = app.test_client().post("/api/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def test_a_qr_key_posts_only_qr_credentials(demo_app):
    _pk, key = new_device(demo_app, device_type="qr")
    day = recent_day(2)
    from ccus_qr import tokens

    signed = tokens.sign_worker(tokens.qr_key(demo_app.config), MEGURO)
    body = _post(demo_app, key, [
        event(None, day, 8, method="QR", credential=signed),
        event(MEGURO, day, 9, method="QR"),
        event(None, day, 10, method="IC", credential="04A1B2C3D4E5F6"),
        event(None, day, 11, method=None, credential="ccusw1.not-a-signed-qr"),
    ])
    # the last one passes the posting rules; the QR plugin then refuses it (kept as refused, not counted)
    assert [(r["result"], r.get("code")) for r in body["results"]] == [
        ("accepted", None), ("rejected", "worker_id_not_allowed"), ("rejected", "method_not_of_device"),
        ("rejected", "malformed")]
    assert "技能者IDを直接送信できません" in body["results"][1]["message"]
    assert (body["accepted"], body["rejected"]) == (1, 3)


def test_a_card_reader_posts_worker_ids_of_its_own_type_and_the_api_type_any(demo_app):
    _pk, card_key = new_device(demo_app, device_type="cardreader")
    _pk, api_key = new_device(demo_app, device_type="api")
    day = recent_day(3)
    body = _post(demo_app, card_key, [event(MEGURO, day, 8, method="IC"), event(MEGURO, day, 17, kind="exit",
                                                                                  method="API")])
    assert [r.get("code") for r in body["results"]] == [None, "method_not_of_device"]
    body = _post(demo_app, api_key, [event(MEGURO, day, 9, method="IC"), event(MEGURO, day, 18, kind="exit")])
    assert body["accepted"] == 2


def test_the_rule_as_a_function():
    qr = DeviceType("qr", "QRコード", "QR", direct_worker_ids=False)
    assert posting_rules.refusal(qr, {"worker_id": "1", "method": "qr"}) == "worker_id_not_allowed"
    assert posting_rules.refusal(qr, {"credential": "x", "method": "qr"}) is None
    assert posting_rules.refusal(qr, "not an event") is None  # ingest rejects it as invalid_event
    assert posting_rules.refusal(None, {"method": "anything"}) is None  # not installed: ingest refuses the device
    refused = {1: {"result": "rejected"}}
    assert posting_rules.merge(3, refused, [{"result": "a"}, {"result": "b"}]) == [
        {"result": "a"}, {"result": "rejected"}, {"result": "b"}]
