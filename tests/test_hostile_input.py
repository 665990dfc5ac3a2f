"""Hostile input to the events API: one bad event never blocks the good ones of its batch, whatever bytes it holds
(NUL, lone surrogates, times without a UTC equivalent, JSON nested a thousand deep, numbers of 5,000 digits,
NaN, bytes that are not UTF-8), on SQLite and PostgreSQL; and request bodies are capped however they are sent
(Content-Length or chunked, through a real HTTP server)."""
from __future__ import annotations

import http.client
import json
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from ingest_world import HIROO, MEGURO, MIRAI, event, new_device, recent_day, snapshot
from portal.app.db import db
from portal.models import EntryExitEvent
from portal.people.scoping import ALL, using_scope


def post_raw(client, key: str, body: bytes):
    return client.post("/api/v1/events", data=body, headers={"Authorization": f"Bearer {key}"},
                       content_type="application/json")


def stored_ids(app, device_id: int) -> set[str]:
    with app.app_context(), using_scope(db.session, ALL):
        return set(db.session.execute(select(EntryExitEvent.device_event_id).where(
            EntryExitEvent.device_id == device_id)).scalars())


def _good_events(n: int, prefix: str) -> list[dict]:
    workers, days = [MEGURO, HIROO, MIRAI], [recent_day(2), recent_day(3)]
    out = []
    for i in range(n):
        e = event(workers[i % 3], days[(i // 3) % 2], 6 + (i // 6) % 12, "entry" if i % 2 else "exit", mm=i % 60)
        e["event_id"] = f"{prefix}-{i}"
        out.append(e)
    return out


def _template() -> dict:
    return event(MEGURO, recent_day(2), 9)


def _with(field: str, raw_json: str) -> str:
    """A bad event as JSON text: the template with one field's value replaced by ``raw_json`` as written."""
    e = _template()
    e[field] = "@@"
    return json.dumps(e).replace('"@@"', raw_json)


DEEP = '{"a": ' * 1000 + "1" + "}" * 1000
# (label, the bad event as JSON text, the reason code it is answered with)
BAD = [
    ("nul in event_id", json.dumps({**_template(), "event_id": "a\x00b"}), "invalid_event_id"),
    ("surrogate in event_id", _with("event_id", '"x\\ud800y"'), "invalid_event_id"),
    ("surrogate pair half in credential", json.dumps({k: v for k, v in {**_template(), "credential": "\udfff"}.items()
                                                      if k != "worker_id"}), "invalid_credential"),
    ("nul in extras value", _with("extras", '{"note": "a\\u0000b"}'), "invalid_extras"),
    ("surrogate in extras key", _with("extras", '{"\\udc00": 1}'), "invalid_extras"),
    ("nan in extras", _with("extras", '{"t": NaN}'), "invalid_extras"),
    ("infinity in extras", _with("extras", '{"t": 1e999}'), "invalid_extras"),
    ("extras 20 deep", _with("extras", '{"a": ' * 20 + "1" + "}" * 20), "invalid_extras"),
    ("year 9999 west of UTC", _with("time", '"9999-12-31T23:59:59-12:00"'), "future_time"),
    ("year 1 east of UTC", _with("time", '"0001-01-01T00:00:00+14:00"'), "ancient_time"),
    ("nul in time", _with("time", '"2026-01-01T08:00:00\\u0000+09:00"'), "invalid_time"),
    ("5000 digits event_id", _with("event_id", "9" * 5000), "invalid_event_id"),
    ("extras 1000 deep", _with("extras", DEEP), "unreadable_event"),
    ("event 1000 deep", "[" * 1000 + "]" * 1000, "unreadable_event"),
    ("not utf-8 in event_id", _with("event_id", '"\udcff\udcfe"'), "invalid_event_id"),
]


def _body(good: list[dict], bad: list[str]) -> bytes:
    """Good and bad events interleaved: the bad ones at the start, the middle and the end."""
    parts = [json.dumps(e) for e in good]
    for k, text in enumerate(bad):
        parts.insert((k * len(parts)) // max(len(bad) - 1, 1) if k else 0, text)
    return ("{\"events\": [" + ", ".join(parts) + "]}").encode("utf-8", "surrogateescape")


def _answer_by_kind(body: dict, bad: list[str]) -> tuple[list, list]:
    rejected = [r for r in body["results"] if r["result"] == "rejected"]
    others = [r for r in body["results"] if r["result"] != "rejected"]
    return rejected, others


@pytest.mark.parametrize("label, text, code", BAD, ids=[b[0] for b in BAD])
def test_a_bad_event_is_rejected_with_its_code_and_the_good_ones_of_its_batch_are_stored(demo_app, label, text, code):
    device_id, key = new_device(demo_app)
    good = _good_events(6, label.replace(" ", "_"))
    body = _body(good, [text])
    r = post_raw(demo_app.test_client(), key, body)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    answer = r.get_json()
    assert (answer["accepted"], answer["rejected"]) == (6, 1)
    assert [x["code"] for x in answer["results"] if x["result"] == "rejected"] == [code]
    assert stored_ids(demo_app, device_id) == {e["event_id"] for e in good}


def test_a_batch_of_many_good_and_every_kind_of_bad_event_stores_the_good_and_a_retry_gets_past(demo_app):
    device_id, key = new_device(demo_app)
    good = _good_events(200, "mixed")
    body = _body(good, [text for _label, text, _code in BAD])
    client = demo_app.test_client()
    r = post_raw(client, key, body)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    answer = r.get_json()
    assert (answer["accepted"], answer["duplicate"], answer["rejected"]) == (200, 0, len(BAD))
    assert sorted(x["code"] for x in answer["results"] if x["result"] == "rejected") == sorted(c for *_x, c in BAD)
    good_answers = [x for x in answer["results"] if x["result"] == "accepted"]
    assert [x["event_id"] for x in good_answers] == [e["event_id"] for e in good]  # in order, echoed as sent
    assert stored_ids(demo_app, device_id) == {e["event_id"] for e in good}
    before = snapshot(demo_app)
    again = post_raw(client, key, body).get_json()  # the device's retry: answered, nothing changes
    assert (again["accepted"], again["duplicate"], again["rejected"]) == (0, 200, len(BAD))
    assert snapshot(demo_app) == before


def test_a_body_nested_too_deep_outside_its_events_is_still_read(demo_app):
    device_id, key = new_device(demo_app)
    good = _good_events(2, "outside")
    body = ('{"meta": ' + "[" * 5000 + "]" * 5000 + ', "events": [' + ", ".join(json.dumps(e) for e in good)
            + "]}").encode()
    answer = post_raw(demo_app.test_client(), key, body).get_json()
    assert answer["accepted"] == 2 and stored_ids(demo_app, device_id) == {e["event_id"] for e in good}


@pytest.mark.parametrize("body, code", [
    (b'{"events": [' + b"[" * 5000, "malformed_json"),  # deep and unterminated: not JSON at all
    (b'{"events": [{"event_id": "\xff"]}', "malformed_json"),
    (b'{"other": [' + b"[" * 3000 + b"]" * 3000 + b"]}", "invalid_batch"),
])
def test_a_body_that_is_not_a_batch_stores_nothing(demo_app, body, code):
    _device, key = new_device(demo_app)
    before = snapshot(demo_app)
    r = post_raw(demo_app.test_client(), key, body)
    assert (r.status_code, r.get_json()["code"]) == (400, code)
    assert snapshot(demo_app) == before


@pytest.fixture
def served(demo_app):
    """The app behind a real HTTP server (werkzeug's, in a thread): chunked bodies arrive as a client sends them."""
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(10)


def _chunked(port: int, path: str, chunks, headers: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", path, body=iter(chunks), headers={"Content-Type": "application/json", **headers},
                     encode_chunked=True)
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    except (BrokenPipeError, ConnectionResetError):  # the server answered and closed before the body ended
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        conn.close()


def test_a_chunked_batch_is_read_and_one_above_the_cap_is_refused_whole(demo_app, served):
    device_id, key = new_device(demo_app)
    auth = {"Authorization": f"Bearer {key}"}
    good = _good_events(3, "chunked")
    body = json.dumps({"events": good}).encode()
    status, answer = _chunked(served, "/api/v1/events", [body[:10], body[10:50], body[50:]], auth)
    assert (status, answer["accepted"]) == (200, 3)
    before = snapshot(demo_app)
    big = [b'{"events": [' + json.dumps(_good_events(1, "big")[0]).encode() + b', "'] + [b"x" * 65536] * 80 + [b'"]}']
    status, answer = _chunked(served, "/api/v1/events", big, auth)  # 5 MB with no Content-Length
    assert (status, answer["code"]) == (413, "payload_too_large")
    assert snapshot(demo_app) == before


def test_every_route_caps_a_chunked_body(demo_app, served):
    """MAX_CONTENT_LENGTH holds for every route (here the JSON login), a body sent without a length too."""
    big = [b'{"name": "'] + [b"x" * 65536] * 300 + [b'"}']  # 19 MB
    status, answer = _chunked(served, "/api/v1/security/login", big, {})
    assert (status, answer.get("code")) == (413, "payload_too_large"), answer
    assert (status, answer["code"]) == (413, "payload_too_large")
    assert answer["message"].startswith("リクエストが大きすぎます")


@pytest.mark.parametrize("value", ["٩٣٨٤٥٧٥١١٦٦٩٢١", "۹۳۸۴۵۷۵۱۱۶۶۹۲۱", "९३८४५७५११६६९२१", "𝟗𝟑𝟖𝟒𝟓𝟕𝟓𝟏𝟏𝟔𝟔𝟗𝟐𝟏",
                                   "9384575116692１x", "93845751166921\x00"])
def test_ids_of_other_scripts_digits_are_refused(value):
    from portal.app.errors import DomainError
    from portal.app.ids import validate_ccus_id

    with pytest.raises(DomainError) as refused:
        validate_ccus_id(value, "worker")
    assert refused.value.code == "invalid_worker_id" and "14桁の数字" in refused.value.message


def test_ids_in_ascii_or_full_width_digits_are_the_same_id():
    from portal.app.ids import validate_ccus_id

    assert validate_ccus_id("９３８４５７５１１６６９２１", "worker") == validate_ccus_id(" 93845751166921 ", "worker") \
        == "93845751166921"


def test_a_worker_id_in_arabic_indic_digits_is_rejected_by_the_events_api_and_full_width_is_stored(demo_app):
    device_id, key = new_device(demo_app)
    arabic = {**event(MIRAI, recent_day(2), 8), "worker_id": "".join("٠١٢٣٤٥٦٧٨٩"[int(c)] for c in MIRAI)}
    wide = {**event(MIRAI, recent_day(2), 9), "worker_id": MIRAI.translate(str.maketrans("0123456789", "０１２３４５６７８９"))}
    answer = post_raw(demo_app.test_client(), key, json.dumps({"events": [arabic, wide]}).encode()).get_json()
    assert [(r["result"], r.get("code")) for r in answer["results"]] == [("rejected", "invalid_worker_id"),
                                                                        ("accepted", None)]
    with demo_app.app_context(), using_scope(db.session, ALL):
        codes = db.session.execute(select(EntryExitEvent.worker_code).where(EntryExitEvent.device_id == device_id)).scalars().all()
    assert codes == [MIRAI]
