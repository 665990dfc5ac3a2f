"""POST /api/v1/events: device keys, a result per event in order, idempotency, the device's own site, every
reason code on bad input with nothing stored changed, plugins resolving credentials and hearing of events."""
from __future__ import annotations

import datetime
import json

import pytest
from sqlalchemy import select

from ingest_world import (
    HIROO, MEGURO, SITE_A, count, event, history, new_device, recent_day, snapshot, tokyo, worker_pk,
)
from portal.app.db import db
from portal.demo import ADMIN_LOGIN, DEMO_PASSWORD
from portal.devices.keys import revoke_device
from portal.devices import hookimpl
from portal.models import Device, EntryExitEvent, Site
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import PG_URL, api_token


def post(client, key, body, raw: bool = False):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = body if raw else json.dumps(body)
    return client.post("/api/v1/events", data=data, headers=headers, content_type="application/json")


def test_a_batch_is_answered_per_event_in_order_and_a_replay_changes_nothing(demo_app):
    _device, key = new_device(demo_app)
    client = demo_app.test_client()
    day = recent_day(2)
    batch = [event(MEGURO, day, 8), event(HIROO, day, 8), event(MEGURO, day, 8, kind="lunch"), event(MEGURO, day, 17, "exit")]
    batch.append(dict(batch[0]))  # the same event twice in one batch
    r = post(client, key, {"events": batch})
    assert r.status_code == 200
    body = r.get_json()
    assert [x["result"] for x in body["results"]] == ["accepted", "accepted", "rejected", "accepted", "duplicate"]
    assert [x["event_id"] for x in body["results"]] == [e["event_id"] for e in batch]
    assert body["results"][2]["code"] == "invalid_kind" and body["results"][2]["message"]
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (3, 1, 1)
    assert history(demo_app, MEGURO, SITE_A, day)["counted"]
    before = snapshot(demo_app)
    again = post(client, key, {"events": batch}).get_json()
    assert [x["result"] for x in again["results"]] == ["duplicate", "duplicate", "rejected", "duplicate", "duplicate"]
    assert snapshot(demo_app) == before


def test_event_ids_are_per_device(demo_app):
    _d1, key1 = new_device(demo_app)
    _d2, key2 = new_device(demo_app)
    client = demo_app.test_client()
    e = event(MEGURO, recent_day(2), 8)
    assert post(client, key1, {"events": [e]}).get_json()["results"][0]["result"] == "accepted"
    assert post(client, key2, {"events": [e]}).get_json()["results"][0]["result"] == "accepted"


@pytest.mark.parametrize("key, code", [(None, "invalid_device_key"), ("nonsense", "invalid_device_key"),
                                       ("ccus_00000000_forged", "invalid_device_key"), ("revoked", "revoked_device_key"),
                                       ("tampered", "invalid_device_key")])
def test_keys_are_checked_before_anything(demo_app, key, code):
    device_id, good = new_device(demo_app)
    if key == "revoked":
        with demo_app.app_context(), using_scope(db.session, ALL):
            revoke_device(db.session, db.session.get(Device, device_id))
            db.session.commit()
        key = good
    elif key == "tampered":
        key = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    before = snapshot(demo_app)
    r = post(demo_app.test_client(), key, {"events": [event(MEGURO, recent_day(2), 8)]})
    assert (r.status_code, r.get_json()["code"]) == (401, code)
    assert snapshot(demo_app) == before


def test_a_browser_session_is_not_a_device(client_for):
    client, _entry = client_for("admin")
    r = client.post("/api/v1/events", json={"events": [event(MEGURO, recent_day(2), 8)]})
    assert (r.status_code, r.get_json()["code"]) == (401, "invalid_device_key")


def test_the_endpoint_needs_no_csrf_token(demo_app, tmp_path):
    from portal.demo.testing import _dispose, make_app

    _device, key = new_device(demo_app)
    strict = make_app(demo_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "strict", WTF_CSRF_ENABLED=True,
                      FAB_UPDATE_PERMS=False)
    try:
        r = post(strict.test_client(), key, {"events": [event(MEGURO, recent_day(2), 8)]})
        assert r.status_code == 200 and r.get_json()["accepted"] == 1
        assert strict.test_client().post("/login/", data={"username": "x", "password": "y"}).status_code == 400
    finally:
        _dispose(strict)


@pytest.mark.parametrize("body, status, code", [
    (b'{"events": [', 400, "malformed_json"),
    (b"\xff\xfe", 400, "malformed_json"),
    (b"", 400, "invalid_batch"),
    (b"[]", 400, "invalid_batch"),
    (b'{"events": {}}', 400, "invalid_batch"),
    (b'{"event": []}', 400, "invalid_batch"),
])
def test_malformed_requests_store_nothing(demo_app, body, status, code):
    _device, key = new_device(demo_app)
    before = snapshot(demo_app)
    r = post(demo_app.test_client(), key, body, raw=True)
    assert (r.status_code, r.get_json()["code"]) == (status, code)
    assert snapshot(demo_app) == before


def test_an_oversized_batch_is_refused_whole(demo_app):
    _device, key = new_device(demo_app)
    before = snapshot(demo_app)
    day = recent_day(2)
    r = post(demo_app.test_client(), key, {"events": [event(MEGURO, day, 8, mm=i % 60) for i in range(1001)]})
    assert (r.status_code, r.get_json()["code"]) == (413, "batch_too_large")
    r = post(demo_app.test_client(), key, b'{"events": ["' + b"x" * (5 * 1024 * 1024) + b'"]}', raw=True)
    assert (r.status_code, r.get_json()["code"]) == (413, "payload_too_large")
    assert snapshot(demo_app) == before


def _other_site(app) -> str:
    with app.app_context(), using_scope(db.session, ALL):
        from sqlalchemy import select

        return db.session.execute(select(Site.site_id).where(Site.site_id != SITE_A)).scalars().first()


now = datetime.datetime.now(datetime.timezone.utc)
BAD_EVENTS = [
    ("not an object", "invalid_event"),
    ({"event_id": None}, "missing_event_id"),
    ({"event_id": ["x"]}, "invalid_event_id"),
    ({"event_id": "x" * 101}, "invalid_event_id"),
    ({"worker_id": None}, "missing_worker"),
    ({"credential": "CAFE"}, "ambiguous_worker"),
    ({"worker_id": "12345"}, "invalid_worker_id"),
    ({"worker_id": 30154216388821}, "invalid_worker_id"),
    ({"worker_id": None, "credential": 1234}, "invalid_credential"),
    ({"site_id": None}, "missing_site_id"),
    ({"site_id": "36265810102"}, "invalid_site_id"),
    ({"site_id": "99999999999971"}, "unknown_site"),
    ({"site_id": "OTHER"}, "other_site"),
    ({"kind": "入場"}, "invalid_kind"),
    ({"kind": None}, "invalid_kind"),
    ({"time": None}, "missing_time"),
    ({"time": "yesterday"}, "invalid_time"),
    ({"time": 1750000000}, "invalid_time"),
    ({"time": "2026-01-01T08:00:00"}, "naive_time"),
    ({"time": (now + datetime.timedelta(hours=1)).isoformat()}, "future_time"),
    ({"time": (now - datetime.timedelta(days=400)).isoformat()}, "ancient_time"),
    ({"method": "pigeon"}, "invalid_method"),
    ({"extras": "warm"}, "invalid_extras"),
    ({"extras": {"note": "x" * 3000}}, "invalid_extras"),
]


@pytest.mark.parametrize("change, code", BAD_EVENTS, ids=[c for _x, c in BAD_EVENTS])
def test_each_bad_event_is_rejected_with_its_code_and_stores_nothing(demo_app, change, code):
    _device, key = new_device(demo_app)
    if isinstance(change, dict):
        bad = event(MEGURO, recent_day(2), 8)
        for field, value in change.items():
            if value == "OTHER":
                value = _other_site(demo_app)
            if value is None:
                bad.pop(field, None)
            else:
                bad[field] = value
    else:
        bad = change
    before = snapshot(demo_app)
    r = post(demo_app.test_client(), key, {"events": [bad]})
    assert r.status_code == 200
    result = r.get_json()["results"][0]
    assert (result["result"], result["code"]) == ("rejected", code)
    assert snapshot(demo_app) == before


def test_times_are_stored_in_utc_and_the_day_is_tokyos(demo_app):
    device_id, key = new_device(demo_app)
    day = recent_day(3)
    utc_evening = datetime.datetime.combine(day, datetime.time(16, 30), datetime.timezone.utc)  # 01:30 next day JST
    e = event(MEGURO, day, 0, time=utc_evening.isoformat().replace("+00:00", "Z"), method="api")
    assert post(demo_app.test_client(), key, {"events": [e]}).get_json()["accepted"] == 1
    with demo_app.app_context(), using_scope(db.session, ALL):
        from sqlalchemy import select

        stored = db.session.execute(select(EntryExitEvent).where(EntryExitEvent.device_id == device_id)).scalar_one()
        assert stored.work_date == day + datetime.timedelta(days=1) and stored.method == "API"
        assert stored.occurred_at.replace(tzinfo=datetime.timezone.utc) == utc_evening


class FakeCardPlugin:
    """A device plugin, as a vendor writes one: resolves a card UID and hears of stored events."""

    def __init__(self):
        self.heard = []

    @hookimpl
    def ccus_resolve_worker(self, device, credential):
        return MEGURO if credential == "04A1B2C3" else None

    @hookimpl
    def ccus_event_recorded(self, event):
        self.heard.append(event.device_event_id)


class BrokenListener:
    @hookimpl
    def ccus_event_recorded(self, event):
        raise RuntimeError("listener down")


def test_plugins_resolve_credentials_and_hear_of_stored_events(demo_app):
    plugin = FakeCardPlugin()
    pm = demo_app.extensions["ccus_plugins"]
    pm.register(BrokenListener())
    pm.register(plugin)
    _device, key = new_device(demo_app)
    day = recent_day(2)
    known = event(None, day, 7, credential="04A1B2C3", extras={"temperature": 36.4})
    unknown = event(None, day, 7, credential="DEADBEEF")
    body = post(demo_app.test_client(), key, {"events": [known, unknown]}).get_json()
    assert body["accepted"] == 2
    assert history(demo_app, MEGURO, SITE_A, day)["first_entry_at"] is not None
    assert plugin.heard == [known["event_id"], unknown["event_id"]]  # the broken listener did not stop it
    post(demo_app.test_client(), key, {"events": [known]})
    assert len(plugin.heard) == 2  # a replay is not a new event
    assert count(demo_app, EntryExitEvent) >= 2


def test_the_endpoint_is_in_the_openapi_document(demo_app):
    client = demo_app.test_client()
    token = api_token(client, ADMIN_LOGIN, DEMO_PASSWORD)
    spec = client.get("/api/v1/_openapi", headers={"Authorization": f"Bearer {token}"}).get_json()
    op = spec["paths"]["/events"]["post"] if "/events" in spec["paths"] else spec["paths"]["/api/v1/events"]["post"]
    assert {"200", "400", "401", "413"} <= set(map(str, op["responses"]))
    assert op["security"] == [{"DeviceKey": []}]
    event_schema = spec["components"]["schemas"]["IngestEvent"]
    assert set(event_schema["properties"]["kind"]["enum"]) == {"entry", "exit", "work"}
    assert "naive_time" in spec["components"]["schemas"]["IngestResult"]["properties"]["code"]["enum"]


def test_time_helper_has_an_offset():
    assert tokyo(datetime.date(2026, 1, 1), 8).endswith("+09:00")


class RefusingPlugin:
    """A plugin of the refusal contract (portal.devices.refusals): returns a refusal, raises one, or names a worker."""

    @hookimpl
    def ccus_resolve_worker(self, credential):
        from portal.devices.refusals import CredentialRefused, Refused

        if credential == "FORGED":
            return Refused("forged")
        if credential == "OLD":
            raise CredentialRefused("expired")
        if credential == "ODD":
            return Refused("no such code here")  # not a listed code: answered and kept as plain `refused`
        return MEGURO if credential == "GOOD" else None


def test_a_refused_credential_is_answered_rejected_kept_for_the_audit_and_never_counted(demo_app):
    from portal.devices.refusals import REFUSALS
    from portal.output.site_board import on_site_now

    demo_app.extensions["ccus_plugins"].register(RefusingPlugin())
    _device, key = new_device(demo_app)
    day = recent_day(2)
    batch = [event(None, day, 7, credential=c) for c in ("FORGED", "OLD", "ODD", "UNKNOWN")]
    body = post(demo_app.test_client(), key, {"events": batch}).get_json()
    assert [(x["result"], x.get("code")) for x in body["results"]] == [
        ("rejected", "forged"), ("rejected", "expired"), ("rejected", "refused"), ("accepted", None)]
    assert body["results"][0]["message"] == REFUSALS["forged"]
    assert history(demo_app, MEGURO, SITE_A, day) is None  # none of them counted a day
    with demo_app.app_context(), using_scope(db.session, ALL):
        kept = {e.device_event_id: e for e in db.session.query(EntryExitEvent).filter(
            EntryExitEvent.device_event_id.in_([e["event_id"] for e in batch]))}
        assert [kept[e["event_id"]].refusal for e in batch] == ["forged", "expired", "refused", None]
        forged = kept[batch[0]["event_id"]]
        assert forged.worker_id is None and forged.credential_hash and "FORGED" not in forged.credential_hash
        assert forged.refusal_label == "拒否: " + REFUSALS["forged"]
        when = datetime.datetime.combine(day, datetime.time(9), tzinfo=datetime.timezone(datetime.timedelta(hours=9)))
        on_site = [o.worker_label for o in on_site_now(db.session, forged.site_id, when)]
        assert on_site.count("未登録の技能者（認証情報のみ）") == 1  # the unknown one; a refused one puts nobody on site
    again = post(demo_app.test_client(), key, {"events": batch}).get_json()  # the device's retry: still red
    assert [x["result"] for x in again["results"]] == ["rejected", "rejected", "rejected", "duplicate"]
    good = event(None, day, 8, credential="GOOD")
    assert post(demo_app.test_client(), key, {"events": [good]}).get_json()["results"][0]["result"] == "accepted"
    assert history(demo_app, MEGURO, SITE_A, day)["first_entry_at"] is not None


def test_refused_events_are_listed_with_their_japanese_reason(demo_app, client_for):
    demo_app.extensions["ccus_plugins"].register(RefusingPlugin())
    _device, key = new_device(demo_app)
    just_now = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)).isoformat()
    post(demo_app.test_client(), key, {"events": [event(None, recent_day(1), 7, credential="FORGED", time=just_now)]})
    page = client_for("admin")[0].get("/entryexiteventview/list/").get_data(as_text=True)
    assert "拒否理由" in page and "拒否: 偽造または改ざんされた認証情報です。" in page


ON_POSTGRES = (PG_URL or "").startswith("postgresql")


def day_locks_taken(app, device_id: int, events: list, worker: str) -> set:
    """The calendar days of ``worker`` whose (worker, day) lock a batch holds before it commits (then undone)."""
    from sqlalchemy import text

    from portal.devices.credentials import keys_from_config
    from portal.history.day_locks import DAY_BITS
    from portal.ingest import Limits, ingest

    w = worker_pk(app, worker)
    with app.app_context():
        with using_scope(db.session, ALL):
            device = db.session.get(Device, device_id)
        ingest(db.session, device, events, plugins=app.extensions["ccus_plugins"],
               credential_keys=keys_from_config(app.config), limits=Limits(), commit=False)
        keys = db.session.execute(text("select (classid::bigint << 32) | objid::bigint from pg_locks "
                                       "where locktype = 'advisory' and pid = pg_backend_pid()")).scalars().all()
        db.session.rollback()
    return {datetime.date.fromordinal(k & ((1 << DAY_BITS) - 1)) for k in keys if k >> DAY_BITS == w}


@pytest.mark.skipif(not ON_POSTGRES, reason="the (worker, day) locks are the PostgreSQL fast path's")
def test_a_batch_locks_only_the_neighbour_days_its_shift_windows_reach(demo_app):
    device, _key = new_device(demo_app)
    day, one = recent_day(4), datetime.timedelta(days=1)
    with demo_app.app_context(), using_scope(db.session, ALL):  # the default 最長勤務時間
        assert db.session.execute(select(Site.max_shift_hours).where(Site.site_id == SITE_A)).scalar() == 16
    # an entry at 07:00 may continue a shift of the evening before (after 15:00), and reaches no tap of tomorrow
    assert day_locks_taken(demo_app, device, [event(MEGURO, day, 7)], MEGURO) == {day - one, day}
    # an exit at 18:00 belongs to a shift of its own day, and may move tomorrow's taps before 10:00
    assert day_locks_taken(demo_app, device, [event(MEGURO, day, 18, "exit")], MEGURO) == {day, day + one}
    # both in one batch: the day's first and last tap decide
    assert day_locks_taken(demo_app, device, [event(MEGURO, day, 7), event(MEGURO, day, 18, "exit")],
                           MEGURO) == {day - one, day, day + one}


@pytest.mark.skipif(not ON_POSTGRES, reason="the (worker, day) locks are the PostgreSQL fast path's")
def test_a_shift_length_grown_after_the_locks_runs_the_batch_again(demo_app):
    """The locks were taken for the 最長勤務時間 read by the events insert; a longer one read with the shift windows
    (a site edit committed in between) may reach a day not locked: the batch is refused as a serialization failure,
    which ingest runs again."""
    from portal.history.histories import Tap
    from portal.ingest import _retryable
    from portal.ingest import pg as ingest_pg

    day = recent_day(4)
    taps = {(worker_pk(demo_app, MEGURO), day): [Tap(datetime.datetime.fromisoformat(tokyo(day, 7)), "entry", "API")]}
    with demo_app.app_context(), using_scope(db.session, ALL):
        site = db.session.execute(select(Site.id).where(Site.site_id == SITE_A)).scalar_one()
        cur = db.session.connection().connection.driver_connection.cursor()
        assert ingest_pg.shift_neighbours(cur, site, taps, 16)[0] == set()  # as long as when locked: fine
        with pytest.raises(ingest_pg.ShiftLengthGrew) as raised:
            ingest_pg.shift_neighbours(cur, site, taps, 15)
        db.session.rollback()
    assert _retryable(raised.value)
