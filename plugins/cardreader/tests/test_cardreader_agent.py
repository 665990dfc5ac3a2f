"""The site agent: taps read through pcscd go to the outbox first; the sender delivers them exactly once, through
an outage, with backoff. Here against a stand-in that follows the ingest contract (issue 4); the end-to-end test
against the real portal is in test_cardreader_e2e.py."""
from __future__ import annotations

import threading

import pytest
from flask import Flask, request

from cardreader_helpers import READER_NAME, Server, wait_for
from ccus_cardreader.agent import Agent, AgentConfig, PortalUnavailable, Sender, make_event, parse_results
from ccus_cardreader.outbox import Outbox

pytestmark = pytest.mark.once  # no database: the PostgreSQL pass of ./dev.sh test leaves it out

KEY = "device-key-for-the-tests"
SITE = "36265810102371"


def contract_app(received: list, key: str = KEY) -> Flask:
    """POST /api/v1/events as the contract says: Bearer key, a result per event in order, idempotent on event_id."""
    app = Flask("standin")
    lock = threading.Lock()

    @app.post("/api/v1/events")
    def events():
        if request.headers.get("Authorization") != f"Bearer {key}":
            return {"code": "invalid_device_key", "message": "機器キーが無効です。"}, 401
        results = []
        with lock:
            seen = {e["event_id"] for e in received}
            for e in request.get_json()["events"]:
                if not e.get("credential") or e.get("kind") not in ("entry", "exit", "work"):
                    results.append({"event_id": e["event_id"], "result": "rejected", "code": "invalid_event"})
                elif e["event_id"] in seen:
                    results.append({"event_id": e["event_id"], "result": "duplicate"})
                else:
                    received.append(e)
                    seen.add(e["event_id"])
                    results.append({"event_id": e["event_id"], "result": "accepted"})
        return {"results": results}

    return app


def _config(tmp_path, url: str, **kw) -> AgentConfig:
    return AgentConfig(portal_url=url, device_key=KEY, site_id=SITE, outbox_path=tmp_path / "outbox.sqlite",
                       reader=READER_NAME, backoff_base=0.2, backoff_max=1.0, **kw)


def test_outbox_keeps_events_across_restarts(tmp_path):
    path = tmp_path / "outbox.sqlite"
    box = Outbox(path)
    ids = [box.add({"credential": f"0000000{i}", "kind": "entry"}) for i in range(3)]
    assert len(set(ids)) == 3
    box.close()
    box = Outbox(path)  # the agent restarted (or the PC did)
    assert [e["event_id"] for e in box.pending()] == ids  # in tap order, with the ids they were given
    box.answered([(ids[0], "accepted", None), (ids[1], "rejected", "invalid_event")])
    assert [e["event_id"] for e in box.pending()] == [ids[2]]
    assert box.counts() == {"accepted": 1, "rejected": 1, "pending": 1}
    box.answered([(ids[0], "duplicate", None)])  # a later answer does not overwrite the first
    assert box.counts()["accepted"] == 1
    assert box.purge(older_than_days=-1) == 1  # delivered ones may go; rejected and pending stay
    assert box.counts() == {"rejected": 1, "pending": 1}


def test_event_carries_the_tap_time_with_offset(tmp_path):
    event = make_event(_config(tmp_path, "http://x", kind="exit"), "04A1B2C3", when=1_750_000_000)
    assert event["credential"] == "04A1B2C3" and event["kind"] == "exit" and event["method"] == "IC"
    assert event["site_id"] == SITE and event["time"][-6] in "+-"  # ISO 8601 with its UTC offset
    with pytest.raises(ValueError):
        _config(tmp_path, "http://x", kind="lunch")


def test_answers_must_match_the_batch():
    events = [{"event_id": "a"}, {"event_id": "b"}]
    assert parse_results(events, {"results": ["accepted", {"result": "rejected", "code": "x"}]}) == [
        ("a", "accepted", None), ("b", "rejected", "x")]
    for bad in ({}, {"results": ["accepted"]}, {"results": ["accepted", "maybe"]},
                {"results": [{"event_id": "b", "result": "accepted"}, {"event_id": "a", "result": "accepted"}]}):
        with pytest.raises(PortalUnavailable):
            parse_results(events, bad)


def test_backoff_doubles_and_is_capped(tmp_path):
    sender = Sender(_config(tmp_path, "http://x"))
    delays = []
    for failures in range(1, 8):
        sender.failures = failures
        delays.append(max(sender.backoff() for _ in range(50)))
    assert 0.1 <= delays[0] <= 0.2 < delays[1] <= 0.4 < delays[2] <= 0.8  # doubling (max of 50 draws)
    assert all(0.5 <= d <= 1.0 for d in delays[3:])  # capped at backoff_max, jittered down to half


def test_outage_loses_nothing_and_delivers_exactly_once(tmp_path, virtual_card):
    received: list = []
    server = Server(contract_app(received))  # not started yet: the portal is down
    agent = Agent(_config(tmp_path, server.url)).start()
    uids = ["04A1B2C3D4E5F6", "11223344", "0102030405060708"]
    try:
        for uid in uids:
            card = virtual_card(uid).insert()
            box = Outbox(tmp_path / "outbox.sqlite")
            wait_for(lambda: len(box.pending()) == uids.index(uid) + 1, what=f"tap of {uid}")
            box.close()
            card.remove()
        box = Outbox(tmp_path / "outbox.sqlite")
        wait_for(lambda: agent.sender.failures >= 2, what="retries while the portal is down")
        assert received == [] and box.counts() == {"pending": 3}
        server.start()  # the portal comes back
        wait_for(lambda: box.counts() == {"accepted": 3}, what="delivery")
        assert [e["credential"] for e in received] == uids  # once each, in tap order
        # the answer was lost and the agent sends the batch again: the portal stores nothing twice
        box.db.execute("update outbox set result = null")
        agent.sender.wake.set()
        wait_for(lambda: box.counts() == {"duplicate": 3}, what="replay")
        assert len(received) == 3
    finally:
        agent.shutdown()
        server.stop()


def test_a_rejected_event_is_kept_and_not_sent_again(tmp_path):
    received: list = []
    server = Server(contract_app(received)).start()
    try:
        config = _config(tmp_path, server.url)
        box = Outbox(config.outbox_path)
        good = box.add(make_event(config, "04A1B2C3"))
        bad = box.add({**make_event(config, "04A1B2C3"), "kind": "lunch"})
        sender = Sender(config)
        assert sender.deliver(box) == 2
        assert box.counts() == {"accepted": 1, "rejected": 1}
        assert [r[:2] for r in box.rejected()] == [(bad, "invalid_event")]
        assert sender.deliver(box) == 0 and [e["event_id"] for e in received] == [good]
    finally:
        server.stop()


def test_a_refused_key_keeps_the_events(tmp_path):
    received: list = []
    server = Server(contract_app(received, key="another key")).start()
    try:
        config = _config(tmp_path, server.url)
        box = Outbox(config.outbox_path)
        box.add(make_event(config, "04A1B2C3"))
        with pytest.raises(PortalUnavailable, match="401"):
            Sender(config).deliver(box)
        assert box.counts() == {"pending": 1} and received == []
        assert box.db.execute("select attempts from outbox").fetchone()[0] == 1
    finally:
        server.stop()


def test_a_second_tap_of_the_same_card_within_the_window_is_the_same_event(tmp_path):
    agent = Agent(_config(tmp_path, "http://unused", same_card_window=60))
    box = Outbox(tmp_path / "outbox.sqlite")
    first = agent.record_tap(box, "04A1B2C3", when=1_750_000_000)
    assert agent.record_tap(box, "04A1B2C3", when=1_750_000_059) == first  # tapped again to be sure
    other = agent.record_tap(box, "11223344", when=1_750_000_030)  # another worker in between is their own event
    later = agent.record_tap(box, "04A1B2C3", when=1_750_000_061)  # past the window: leaving, a new event
    assert len({first, other, later}) == 3 and [e["event_id"] for e in box.pending()] == [first, other, later]
    off = Agent(_config(tmp_path, "http://unused", same_card_window=0))
    assert off.record_tap(box, "55667788", when=1) != off.record_tap(box, "55667788", when=1)
    with pytest.raises(ValueError):
        _config(tmp_path, "http://x", same_card_window=-1)
    box.close()


def test_a_card_taken_off_and_put_back_through_pcscd_is_one_event(tmp_path, virtual_card):
    agent = Agent(_config(tmp_path, "http://127.0.0.1:9", same_card_window=60)).start()  # portal unreachable
    box = Outbox(tmp_path / "outbox.sqlite")
    try:
        card = virtual_card("04A1B2C3D4E5F6").insert()
        wait_for(lambda: len(box.pending()) == 1, what="first tap")
        card.remove()
        again = virtual_card("04A1B2C3D4E5F6").insert()  # the same card again, seconds later
        wait_for(lambda: len(again.apdus) > 0, what="the second tap read")
        again.remove()
        card = virtual_card("0102030405060708").insert()
        wait_for(lambda: len(box.pending()) == 2, what="the next card")
        assert [e["credential"] for e in box.pending()] == ["04A1B2C3D4E5F6", "0102030405060708"]
        card.remove()
    finally:
        agent.shutdown()
        box.close()
