"""Face enrolment and identification on the real photos (plugins/face/tests/data)."""
from __future__ import annotations

import io
import datetime

import pytest
from face_helpers import HIROO, MEGURO, SITE_A, employer_login_of, photo
from PIL import Image

from ccus_face import faces
from portal.devices import DomainError, device_types, work_day
from portal.devices.testing import (
    StoredCredential, credentials_of, installation_keys, login, operator, site_of,
)


def _credentials(app, worker_code: str) -> list[StoredCredential]:
    return credentials_of(app, "face", worker_code)


def test_plugin_is_found_through_its_entry_point(demo_app):
    types = device_types(demo_app.extensions["ccus_plugins"])
    assert (types["face"].label, types["face"].mark) == ("顔認証", "顔")
    assert types["face"].settings_schema["properties"]["tolerance"]["default"] == faces.DEFAULT_TOLERANCE


@pytest.mark.parametrize("data, code", [
    (photo("two_people.jpg"), "several_faces"),
    (b"not an image at all", "invalid_image"),
    (b"", "no_image"),
])
def test_a_photo_without_exactly_one_face_is_refused(data, code):
    with pytest.raises(DomainError) as e:
        faces.encode_face(data)
    assert e.value.code == code
    assert e.value.message and not e.value.message.isascii()  # a Japanese message for the screen


def test_a_photo_with_no_face_is_refused():
    blank = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 180, 160)).save(blank, "PNG")
    with pytest.raises(DomainError) as e:
        faces.encode_face(blank.getvalue())
    assert e.value.code == "no_face"


def test_employer_enrols_a_photo_stored_encrypted(demo_app, encoding_of):
    entry = employer_login_of(demo_app, MEGURO)
    client = demo_app.test_client()
    login(client, entry["login"], entry["password"])
    r = client.post("/face/enrolment/", data={"worker_id": MEGURO, "secret": (io.BytesIO(photo("obama.jpg")), "o.jpg")},
                    content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)
    [cred] = _credentials(demo_app, MEGURO)
    plain = faces.to_bytes(encoding_of("obama.jpg"))
    assert cred.lookup_hash is None and plain not in cred.payload and len(cred.payload) > len(plain)
    decrypted = installation_keys(demo_app.config).decrypt(cred.payload)
    assert faces.from_bytes(decrypted) == pytest.approx(encoding_of("obama.jpg"), abs=1e-9)
    page = client.get("/face/enrolment/").get_data(as_text=True)
    assert "目黒 一郎" in page and "顔写真の登録" in page

    # enrolling again replaces the template: one per worker
    client.post("/face/enrolment/", data={"worker_id": MEGURO, "secret": (io.BytesIO(photo("obama2.jpg")), "o.jpg")},
                content_type="multipart/form-data")
    [again] = _credentials(demo_app, MEGURO)
    assert again.id != cred.id


def test_two_people_at_enrolment_is_refused_with_a_japanese_message(demo_app):
    entry = employer_login_of(demo_app, MEGURO)
    client = demo_app.test_client()
    login(client, entry["login"], entry["password"])
    r = client.post("/face/enrolment/", data={"worker_id": MEGURO, "secret": (io.BytesIO(photo("two_people.jpg")), "t.jpg")},
                    content_type="multipart/form-data", headers={"Referer": "/face/enrolment/"}, follow_redirects=True)
    assert "1人だけが写った写真" in r.get_data(as_text=True)
    assert _credentials(demo_app, MEGURO) == []


def test_another_employer_cannot_enrol_or_see_the_worker(demo_app, enrol_face):
    enrol_face(HIROO, "biden_biden.jpg")
    other = next(e for e in demo_app.logins if e["role"] == "employer"
                 and e["login"] != employer_login_of(demo_app, MEGURO)["login"])
    client = demo_app.test_client()
    login(client, other["login"], other["password"])
    r = client.post("/face/enrolment/", data={"worker_id": MEGURO, "secret": (io.BytesIO(b"x"), "o.jpg")},
                    content_type="multipart/form-data", headers={"Referer": "/face/enrolment/"}, follow_redirects=True)
    assert "登録できる自社の技能者に見つかりません" in r.get_data(as_text=True)
    assert _credentials(demo_app, MEGURO) == []
    assert "広尾" not in client.get("/face/enrolment/").get_data(as_text=True)
    [cred] = _credentials(demo_app, HIROO)
    client.post(f"/face/enrolment/{cred.id}/delete")
    assert len(_credentials(demo_app, HIROO)) == 1  # not visible, so not deletable


def test_site_manager_and_worker_have_no_enrolment_screen(client_for):
    for role in ("site_manager", "worker"):
        client, _entry = client_for(role)
        r = client.get("/face/enrolment/")
        assert r.status_code in (302, 403) and "顔写真の登録</h2>" not in r.get_data(as_text=True)


def _site_and_roster(app):
    site = site_of(app, SITE_A)
    with operator(app):
        return site.id, faces.roster_workers(site, work_day(datetime.datetime.now(datetime.timezone.utc)))


def _identify(app, name: str, encoding_of, worker_ids=None, tolerance=faces.DEFAULT_TOLERANCE):
    site_pk, roster = _site_and_roster(app)
    with operator(app):
        worker, distance = faces.identify(encoding_of(name), roster if worker_ids is None else worker_ids, tolerance)
        return (worker.worker_id if worker else None), distance


def test_identify_the_enrolled_worker_and_reject_others(demo_app, enrol_face, encoding_of):
    enrol_face(MEGURO, "obama.jpg")
    assert _identify(demo_app, "biden_biden.jpg", encoding_of)[0] is None  # only Obama enrolled: nobody
    enrol_face(HIROO, "biden_biden.jpg")
    worker, distance = _identify(demo_app, "obama2.jpg", encoding_of)
    assert worker == MEGURO and distance < 0.45
    assert _identify(demo_app, "biden_biden2.jpg", encoding_of)[0] == HIROO
    worker, distance = _identify(demo_app, "alex_lacamoire_img1.jpg", encoding_of)
    assert worker is None and distance > faces.DEFAULT_TOLERANCE
    # a stricter tolerance on the device refuses even the right person
    assert _identify(demo_app, "obama2.jpg", encoding_of, tolerance=0.3)[0] is None


def test_only_faces_on_the_site_roster_are_compared(demo_app, enrol_face, encoding_of):
    enrol_face(MEGURO, "obama.jpg")
    site_pk, roster = _site_and_roster(demo_app)
    assert MEGURO in {w.worker_id for w in roster}
    others = [w for w in roster if w.worker_id != MEGURO]
    assert _identify(demo_app, "obama2.jpg", encoding_of, worker_ids=others)[0] is None


def test_tolerance_setting_is_bounded():
    class D:
        settings = {"tolerance": 5}
    assert faces.tolerance_of(D()) == 0.7
    D.settings = {"tolerance": "x"}
    assert faces.tolerance_of(D()) == faces.DEFAULT_TOLERANCE
    D.settings = None
    assert faces.tolerance_of(D()) == faces.DEFAULT_TOLERANCE


def test_two_look_alikes_on_one_roster_are_not_confused(demo_app, enrol_face, encoding_of):
    """The same man enrolled for two workers (look-alikes as dlib sees them): a photo between the two is within
    tolerance of both; the margin to the second-best worker refuses to choose, a clear photo still matches."""
    enrol_face(MEGURO, "obama.jpg")
    enrol_face(HIROO, "obama2.jpg")
    _site_pk, roster = _site_and_roster(demo_app)
    between = (encoding_of("obama.jpg") + encoding_of("obama2.jpg")) / 2
    with operator(demo_app):
        match = faces.identify(between, roster, 0.5, margin=faces.DEFAULT_MARGIN)
        assert match.ambiguous and match.worker is None and match.second - match.distance < faces.DEFAULT_MARGIN
        clear = faces.identify(encoding_of("obama.jpg"), roster, 0.5, margin=faces.DEFAULT_MARGIN)
        assert not clear.ambiguous and clear.second - clear.distance >= faces.DEFAULT_MARGIN
        assert clear.worker.worker_id == MEGURO
        # a device's wider margin refuses what the default accepts (the two photos are 0.35 apart)
        assert faces.identify(encoding_of("obama.jpg"), roster, 0.5, margin=0.4).ambiguous
