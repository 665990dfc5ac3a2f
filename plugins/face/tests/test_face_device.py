"""A gate camera posts photos: identified among the site's roster and recorded through the core ingest
function with method 顔; an unrecognised face is recorded without a worker; refused photos store nothing."""
from __future__ import annotations

import datetime
import io

import pytest
from face_helpers import HIROO, MEGURO, SITE_A, photo

from portal.devices import EventRef
from portal.devices.testing import audit_entries, events_of, histories_of, register_device as register, site_of


def register_device(application, device_type: str, settings: dict | None = None):
    device, key = register(application, SITE_A, device_type, settings)
    return device.id, key


@pytest.fixture
def camera(demo_app, enrol_face):
    """A face device on A現場工事, with 目黒 一郎 enrolled as obama.jpg and 広尾 二郎 as biden_biden.jpg."""
    enrol_face(MEGURO, "obama.jpg")
    enrol_face(HIROO, "biden_biden.jpg")
    return register_device(demo_app, "face", {"tolerance": 0.5})


def post(client, key, name, **fields):
    return client.post("/api/v1/face/events", headers={"Authorization": f"Bearer {key}"},
                       data={"photo": (io.BytesIO(photo(name)), name), **fields}, content_type="multipart/form-data")


def events(app, device_pk) -> list[EventRef]:
    return events_of(app, device_pk)


def test_gate_photos_are_identified_and_recorded(demo_app, camera):
    pk, key = camera
    client = demo_app.test_client()
    now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=9))).replace(microsecond=0)
    r = post(client, key, "obama2.jpg", event_id="cam-1", kind="entry", time=now.isoformat())
    body = r.get_json()
    assert r.status_code == 200 and body["result"] == "accepted" and body["recognised"]
    assert body["worker_id"] == MEGURO and body["name"] == "目黒 一郎" and body["distance"] < 0.5
    assert post(client, key, "biden_biden2.jpg", event_id="cam-2", kind="exit").get_json()["worker_id"] == HIROO
    # the same upload again (a retry): a duplicate, nothing new stored
    assert post(client, key, "obama2.jpg", event_id="cam-1", kind="entry", time=now.isoformat()).get_json()["result"] == "duplicate"

    first, second = events(demo_app, pk)
    assert (first.device_event_id, first.kind, first.method) == ("cam-1", "entry", "顔")
    assert (second.kind, second.method) == ("exit", "顔")
    assert first.worker_id == MEGURO and first.extras["face_distance"] < 0.5
    [history] = histories_of(demo_app, MEGURO, work_date=first.work_date)
    assert "顔" in history.methods and history.counted


@pytest.mark.parametrize("name", ["alex_lacamoire_img1.jpg"])
def test_an_unrecognised_face_is_recorded_without_a_worker(demo_app, camera, name):
    pk, key = camera
    body = post(demo_app.test_client(), key, name, event_id="cam-9").get_json()
    assert body["result"] == "accepted" and not body["recognised"] and "worker_id" not in body
    [event] = events(demo_app, pk)
    assert event.worker_id is None and event.credential_hash and event.kind == "entry" and event.method == "顔"


def test_the_device_tolerance_decides(demo_app, camera):
    _strict_pk, strict_key = register_device(demo_app, "face", {"tolerance": 0.3})
    body = post(demo_app.test_client(), strict_key, "obama2.jpg", event_id="s-1").get_json()
    assert body["result"] == "accepted" and not body["recognised"] and body["distance"] > 0.3


@pytest.mark.parametrize("case", ["two faces", "no key", "other type", "not an image"])
def test_refused_posts_store_nothing(demo_app, camera, case):
    pk, key = camera
    client = demo_app.test_client()
    if case == "two faces":
        r, status, code = post(client, key, "two_people.jpg"), 422, "several_faces"
    elif case == "no key":
        r = client.post("/api/v1/face/events", data={"photo": (io.BytesIO(photo("obama2.jpg")), "o.jpg")})
        status, code = 401, "invalid_device_key"
    elif case == "other type":
        r, status, code = post(client, register_device(demo_app, "api")[1], "obama2.jpg"), 403, "wrong_device_type"
    else:
        r = client.post("/api/v1/face/events", headers={"Authorization": f"Bearer {key}"},
                        data={"photo": (io.BytesIO(b"GIF89a not really"), "x.gif")})
        status, code = 422, "invalid_image"
    assert r.status_code == status and r.get_json()["code"] == code
    assert events(demo_app, pk) == []


def test_a_bare_image_body_is_accepted(demo_app, camera):
    pk, key = camera
    r = demo_app.test_client().post("/api/v1/face/events?event_id=raw-1&kind=exit", data=photo("obama2.jpg"),
                                    headers={"Authorization": f"Bearer {key}", "Content-Type": "image/jpeg"})
    assert r.get_json()["worker_id"] == MEGURO
    [event] = events(demo_app, pk)
    assert (event.device_event_id, event.kind) == ("raw-1", "exit")


def test_an_oversized_upload_is_refused_before_it_is_read(demo_app, camera):
    pk, key = camera
    r = demo_app.test_client().post("/api/v1/face/events", data=b"\xff" * (11 * 1024 * 1024),
                                    headers={"Authorization": f"Bearer {key}", "Content-Type": "image/jpeg"})
    assert r.status_code == 413 and r.get_json()["code"] == "image_too_large"
    assert events(demo_app, pk) == []


def test_the_same_frame_under_a_new_event_id_is_refused_as_a_replay(demo_app, camera):
    pk, key = camera
    client = demo_app.test_client()
    assert post(client, key, "obama2.jpg", event_id="cam-1").get_json()["result"] == "accepted"
    r = post(client, key, "obama2.jpg", event_id="cam-2")  # the picture captured once, sent again
    assert r.status_code == 422 and r.get_json()["code"] == "replayed" and not r.get_json()["recognised"]
    assert post(client, key, "obama2.jpg", event_id="cam-1").get_json()["result"] == "duplicate"  # a plain retry
    first, replay = events(demo_app, pk)
    assert first.worker_id is not None and replay.worker_id is None and replay.refusal == "replayed"


def test_the_temperature_is_kept_with_the_event_and_bad_values_store_nothing(demo_app, camera):
    pk, key = camera
    client = demo_app.test_client()
    assert post(client, key, "obama2.jpg", event_id="t-1", temperature="37.8").get_json()["result"] == "accepted"
    [event] = events(demo_app, pk)
    assert event.extras["temperature"] == 37.8
    for bad in ("hot", "12", "99.5"):
        r = post(client, key, "biden_biden2.jpg", event_id=f"t-{bad}", temperature=bad)
        assert r.status_code == 400 and r.get_json()["code"] == "invalid_temperature"
    assert len(events(demo_app, pk)) == 1


def test_templates_are_decrypted_once_per_roster_version_and_the_reads_audited(demo_app, camera, enrol_face):
    def reads():
        return audit_entries(demo_app, "顔テンプレート")

    pk, key = camera
    client = demo_app.test_client()
    post(client, key, "obama2.jpg", event_id="a-1")
    post(client, key, "biden_biden2.jpg", event_id="a-2")
    first = reads()
    assert len(first) == 2 and {u for _w, u, _d in first} == {f"device:{pk}"}  # both templates, once
    assert all("顔認証機器" in d and "名簿版" in d for _w, _u, d in first)
    enrol_face(MEGURO, "obama.jpg")  # a template changed: decrypted (and audited) again at the next photo
    post(client, key, "obama2.jpg", event_id="a-3")
    assert len(reads()) == 4


def test_the_site_board_shows_the_temperature_in_red_at_the_devices_limit(demo_app, camera, client_for):
    _pk, key = camera
    _pk2, strict = register_device(demo_app, "face", {"tolerance": 0.5, "temperature_limit": 36.0})
    client = demo_app.test_client()
    assert post(client, key, "obama2.jpg", event_id="b-1", temperature="37.8").get_json()["recognised"]
    assert post(client, strict, "biden_biden2.jpg", event_id="b-2", temperature="36.4").get_json()["recognised"]
    site_pk = site_of(demo_app, SITE_A).id
    admin, _ = client_for("admin")
    page = admin.get(f"/site-board/?site={site_pk}").get_data(as_text=True)
    assert "検温" in page
    rows = {name: row for name, row in (("目黒", None), ("広尾", None))}
    for line in page.split("<tr")[1:]:
        for name in rows:
            if name in line and "℃" in line:
                rows[name] = line
    assert "37.8℃（要確認）" in rows["目黒"] and "temperature-high" in rows["目黒"]  # 37.5 ℃ by default
    assert "36.4℃（要確認）" in rows["広尾"]  # that device's own limit is 36.0 ℃
