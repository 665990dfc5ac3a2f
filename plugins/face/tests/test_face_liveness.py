"""Liveness at the gate (issue 14): a capture is a burst of frames; a flat picture (a printed photo or a phone
screen held to the camera, moved, zoomed, turned or tilted) shows no change of the face's shape and is refused
``not_alive``, kept as a refused event (never counted, shown with its reason); a live burst passes.

The frames are real photos (tests/data): the "printed photo" burst is one photo of the enrolled worker moved as a
picture moves in front of a camera (shift, zoom, rotation, perspective tilt, each re-compressed); the live burst
is two different photos of the same person (another expression and head pose)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from face_helpers import photo
from PIL import Image

from ccus_face import faces, liveness
from portal.devices import REFUSALS
from portal.devices.testing import enrol, events_of, register_device, rostered_worker


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def printed_burst(name: str) -> list[bytes]:
    """One photo as a flat picture moved in front of the camera: as taken, shifted, zoomed out, turned 5°,
    tilted away (a perspective transform), each frame compressed again as a camera would."""
    image = Image.open(io.BytesIO(photo(name))).convert("RGB")
    image.thumbnail((800, 800))
    w, h = image.size
    return [jpeg(image),
            jpeg(image.transform((w, h), Image.AFFINE, (1, 0, 15, 0, 1, -10), resample=Image.BICUBIC)),
            jpeg(image.resize((int(w * 0.85), int(h * 0.85)), Image.BICUBIC)),
            jpeg(image.rotate(5, resample=Image.BICUBIC)),
            jpeg(image.transform((w, h), Image.PERSPECTIVE, (1, 0.05, 0, 0.02, 1, 0, 5e-5, 2e-5),
                                 resample=Image.BICUBIC))]


@pytest.fixture
def gate(demo_app, encoding_of):
    """A face gate that takes bursts only (require_burst), and a worker on its roster enrolled as obama.jpg."""
    site, worker = rostered_worker(demo_app)
    enrol(demo_app, worker, faces.DEVICE_TYPE, payload=faces.to_bytes(encoding_of("obama.jpg")), label="顔写真")
    device, key = register_device(demo_app, site, faces.DEVICE_TYPE, {"require_burst": True})
    return worker, device, key


def post_burst(app, key, frames: list[bytes], event_id: str):
    return app.test_client().post(
        "/api/v1/face/events", headers={"Authorization": f"Bearer {key}"}, content_type="multipart/form-data",
        data={"event_id": event_id, "photo": [(io.BytesIO(f), f"frame{i}.jpg") for i, f in enumerate(frames)]})


def test_a_printed_photo_moved_before_the_camera_is_refused_and_kept_not_counted(demo_app, gate, client_for):
    worker, device, key = gate
    r = post_burst(demo_app, key, printed_burst("obama2.jpg"), "print-1")
    body = r.get_json()
    assert r.status_code == 422 and body["result"] == "rejected" and body["code"] == "not_alive"
    assert body["message"] == REFUSALS["not_alive"] and not body["recognised"] and "worker_id" not in body
    [event] = events_of(demo_app, device)
    assert event.refusal == "not_alive" and not event.identified and event.worker_id is None
    assert event.extras["frames"] == 5 and event.extras["liveness"] < liveness.DEFAULT_MIN_RESIDUAL
    assert "平面" in event.extras["liveness_reason"]
    admin, _ = client_for("admin")  # shown on the events screen with its reason, not dropped
    page = admin.get("/entryexiteventview/list/").get_data(as_text=True)
    assert "拒否理由" in page and REFUSALS["not_alive"] in page


def test_a_live_burst_passes(demo_app, gate):
    worker, device, key = gate
    r = post_burst(demo_app, key, [photo("obama2.jpg"), photo("obama.jpg")], "live-1")
    body = r.get_json()
    assert r.status_code == 200 and body["result"] == "accepted" and body["worker_id"] == worker.worker_id
    [event] = events_of(demo_app, device)
    assert event.refusal is None and event.identified and event.extras["frames"] == 2
    assert event.extras["liveness"] > liveness.DEFAULT_MIN_RESIDUAL


def _same_pixels_as_png(name: str) -> bytes:
    out = io.BytesIO()
    Image.fromarray(faces.read_photo(photo(name))).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("case", ["identical frames", "another face", "a single frame"])
def test_bursts_without_life_are_refused(demo_app, gate, case):
    _worker, device, key = gate
    frames, reason = {
        "identical frames": ([photo("obama2.jpg"), _same_pixels_as_png("obama2.jpg")], "同一"),  # re-encoded
        "another face": ([photo("obama2.jpg"), photo("biden_biden2.jpg")], "別の人"),  # a photo, then a live face
        "a single frame": ([photo("obama2.jpg")], "1枚"),  # this gate takes bursts only
    }[case]
    r = post_burst(demo_app, key, frames, f"dead-{len(frames)}")
    assert r.status_code == 422 and r.get_json()["code"] == "not_alive"
    [event] = events_of(demo_app, device)
    assert event.refusal == "not_alive" and not event.identified
    assert reason in event.extras["liveness_reason"]


def test_more_frames_than_a_burst_store_nothing(demo_app, gate):
    _worker, device, key = gate
    r = post_burst(demo_app, key, [photo("obama2.jpg")] * (liveness.MAX_FRAMES + 1), "long-1")
    assert r.status_code == 400 and r.get_json()["code"] == "too_many_frames"
    assert events_of(demo_app, device) == []


@pytest.mark.once
def test_the_residual_and_the_blink_separate_a_picture_from_a_face():
    """The geometry alone, on exact points: any homography of a face's landmarks leaves nothing; moving the nose
    against the face (a head turn) leaves more than the threshold; a blink moves only the eyelids (too few
    points for the residual) and is seen by the eyes' opening instead."""
    rng = np.random.default_rng(14)
    face = rng.uniform(100, 300, size=(68, 2))
    for start, (cx, cy) in ((36, (140, 150)), (42, (220, 150))):  # corners, upper lid, corner, lower lid
        face[start:start + 6] = [(cx - 15, cy), (cx - 5, cy - 5), (cx + 5, cy - 5), (cx + 15, cy), (cx + 5, cy + 5),
                                 (cx - 5, cy + 5)]
    h = np.array([[0.9, 0.08, 12], [-0.05, 1.1, -7], [2e-4, -1e-4, 1]])
    moved = (h @ np.column_stack([face, np.ones(68)]).T).T
    moved = moved[:, :2] / moved[:, 2:3]
    assert liveness.residual(moved, face) < 1e-6
    turned = face.copy()
    turned[27:36, 0] += 12  # the nose moves across the cheeks
    assert liveness.residual(turned, face) > liveness.DEFAULT_MIN_RESIDUAL
    blink = face.copy()
    for start in (36, 42):
        blink[start + 1:start + 3, 1] += 4  # the upper lid down
        blink[start + 4:start + 6, 1] -= 4  # the lower lid up
    assert liveness.residual(blink, face) < liveness.DEFAULT_MIN_RESIDUAL
    assert not liveness.judge([("a", face), ("b", moved)]).alive
    assert liveness.judge([("a", face), ("b", moved), ("c", turned)]).reason == "顔の形の変化あり"
    assert liveness.judge([("a", face), ("b", blink), ("c", moved)]).reason == "まばたきあり"
    assert not liveness.judge([("a", face), ("a", turned)]).alive  # the same pixels twice
