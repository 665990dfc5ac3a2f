"""Face templates: reading a photo, computing its encoding (dlib's 128-dimension face descriptor through
face_recognition), and finding the worker it belongs to among those registered on a site.

Plain functions over the portal's public plugin API (portal.devices), no Flask. face_recognition and numpy are imported lazily: loading dlib's
models takes a second, and the portal loads every installed plugin at start-up.
"""
from __future__ import annotations

import dataclasses
import datetime
import io

from ccus_face.liveness import DEFAULT_MIN_RESIDUAL as DEFAULT_LIVENESS_RESIDUAL
from portal.devices import (DomainError, SiteRef, WorkerRef, credential_payloads, device_event_with, enrol_credential,
                            roster)

DEVICE_TYPE = "face"
LABEL = "顔認証"
MARK = "顔"  # the mark in a monthly calendar and the method of its events
DEFAULT_TOLERANCE = 0.5  # face_recognition's default is 0.6; stricter, since a false match credits a day wrongly
DEFAULT_MARGIN = 0.06  # the second-closest worker must be this much further than the closest (dlib units)
DEFAULT_TEMPERATURE_LIMIT = 37.5  # ℃ (検温): at or above it the site board shows the entry in red
MAX_SIDE = 1600  # pixels: larger photos are scaled down first (dlib's time grows with the area)
MAX_BYTES = 10 * 1024 * 1024
_DIMENSIONS = 128
_DTYPE = "<f8"


def too_large() -> DomainError:
    return DomainError("image_too_large", f"写真が大きすぎます（{MAX_BYTES // 1024 // 1024}MBまで）。", 413)


def read_photo(data: bytes):
    """The photo as an RGB array, upright (phones store the rotation in EXIF) and at most MAX_SIDE wide."""
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise DomainError("no_image", "写真が送られていません。")
    if len(data) > MAX_BYTES:
        raise too_large()
    try:
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # a JPEG is decoded at a reduced scale: faster for large photos
        image = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as e:
        raise DomainError("invalid_image", "写真を読み込めませんでした。JPEG または PNG の写真を送ってください。") from e
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    return np.asarray(image)


def _one_face(image) -> list:
    """The location of the one face in the image. No face, or several, is refused: enrolment must not store
    someone else's face, and a gate photo of two people cannot say who passed."""
    import face_recognition

    locations = face_recognition.face_locations(image)
    if not locations:
        raise DomainError("no_face", "写真から顔を検出できませんでした。顔が正面からはっきり写った写真を使ってください。")
    if len(locations) > 1:
        raise DomainError("several_faces",
                          f"写真に{len(locations)}人の顔が写っています。1人だけが写った写真を使ってください。")
    return locations


def encode_face(data: bytes):
    """The encoding of the one face in the photo (see _one_face)."""
    import face_recognition

    image = read_photo(data)
    return face_recognition.face_encodings(image, known_face_locations=_one_face(image))[0]


@dataclasses.dataclass(frozen=True)
class Frame:
    """One frame of a gate capture: the face's encoding, its 68 landmarks and a digest of the decoded pixels
    (the same picture re-sent in another file format is still the same frame)."""

    encoding: object
    points: object
    pixels: str


def read_frame(data: bytes) -> Frame:
    import hashlib

    import face_recognition

    from ccus_face import liveness

    image = read_photo(data)
    locations = _one_face(image)
    [landmarks] = face_recognition.face_landmarks(image, face_locations=locations, model="large")
    return Frame(face_recognition.face_encodings(image, known_face_locations=locations)[0],
                 liveness.points(landmarks), hashlib.sha256(image.tobytes()).hexdigest())


def to_bytes(encoding) -> bytes:
    import numpy as np

    return np.asarray(encoding, dtype=_DTYPE).tobytes()


def from_bytes(data: bytes):
    import numpy as np

    encoding = np.frombuffer(data, dtype=_DTYPE)
    if encoding.shape != (_DIMENSIONS,):
        raise ValueError(f"not a face encoding: {len(data)} bytes")
    return encoding


def enrol(worker: WorkerRef, photo: bytes):
    """Store the worker's face template (encrypted), replacing an earlier one: one template per worker."""
    encoding = encode_face(photo)
    return enrol_credential(worker, DEVICE_TYPE, payload=to_bytes(encoding), label="顔写真", replace=True)


def roster_workers(site: SiteRef, day: datetime.date) -> list[WorkerRef]:
    """Workers on the site's roster (作業員名簿) on ``day``: the only faces a site's camera compares against."""
    return roster(site, day)


@dataclasses.dataclass(frozen=True)
class Match:
    worker: WorkerRef | None  # the matched worker, None when nobody matched (or the match is ambiguous)
    distance: float | None  # to the closest template
    second: float | None = None  # to the second-closest worker's template
    ambiguous: bool = False  # a match within tolerance, but a look-alike on the roster is too close behind

    def __iter__(self):  # (worker, distance), as identify answered before the margin
        return iter((self.worker, self.distance))


def identify(encoding, workers, tolerance: float, margin: float = DEFAULT_MARGIN, *, device=None,
             day: datetime.date | None = None) -> Match:
    """The closest enrolled face among ``workers`` within ``tolerance``, if the second-closest worker is at
    least ``margin`` further away (two look-alikes on one roster must not be confused). With ``device`` and
    ``day`` the templates come from the roster cache (decrypted once per roster version, reads audited)."""
    import numpy as np

    workers = list(workers)
    if device is not None:
        from ccus_face import roster_templates

        found = roster_templates.for_site(device, day, workers, from_bytes)
        refs, matrix = found.workers, found.matrix
    else:
        known = credential_payloads(DEVICE_TYPE, workers)
        refs = tuple(w for w, _p in known)
        matrix = np.stack([from_bytes(p) for _w, p in known]) if known else None
    if matrix is None:
        return Match(None, None)
    distances = np.linalg.norm(matrix - encoding, axis=1)  # face_recognition.face_distance, on the cached matrix
    order = np.argsort(distances)
    best, distance = refs[order[0]], float(distances[order[0]])
    second = next((float(distances[i]) for i in order[1:] if refs[i].id != best.id), None)
    if distance > tolerance:
        return Match(None, distance, second)
    if second is not None and second - distance < margin:
        return Match(None, distance, second, ambiguous=True)
    return Match(best, distance, second)


def seen_frame(device, frame: str, event_id: str, day: datetime.date) -> bool:
    """Has this device already sent this very frame (the same bytes) under another event id, that day or the day
    before? A camera never takes the same picture twice: it is a replay. A retry under the same event id is the
    core's duplicate instead."""
    return device_event_with(device, "frame", frame, since=day - datetime.timedelta(days=1), until=day,
                             other_than=event_id) is not None


def liveness_of(device, burst: list[Frame] | None):
    """The liveness verdict on a burst (ccus_face.liveness), or None for a single frame the device accepts
    (``require_burst`` off). A burst must show one person throughout: frames of another face (a live face
    moving after a photo of the worker was shown) are not a live capture of the worker."""
    import numpy as np

    from ccus_face import liveness

    if burst is None:
        if (device.settings or {}).get("require_burst"):
            return liveness.Verdict(False, 0.0, "連続撮影ではない1枚の写真です")
        return None
    tolerance = tolerance_of(device)
    if any(float(np.linalg.norm(f.encoding - burst[0].encoding)) > tolerance for f in burst[1:]):
        return liveness.Verdict(False, 0.0, "別の人の顔が含まれています")
    return liveness.judge([(f.pixels, f.points) for f in burst], setting(device, "liveness_residual"))


def setting(device, name: str) -> float:
    """A numeric device setting within the schema's bounds (its default when missing or unusable)."""
    spec = SETTINGS_SCHEMA["properties"][name]
    value = (device.settings or {}).get(name, spec["default"])
    try:
        value = float(value)
    except (TypeError, ValueError):
        return spec["default"]
    return min(max(value, spec["minimum"]), spec["maximum"])


def tolerance_of(device) -> float:
    """The device's tolerance setting (照合の許容値), within the schema's bounds."""
    return setting(device, "tolerance")


SETTINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "tolerance": {"type": "number", "minimum": 0.3, "maximum": 0.7, "default": DEFAULT_TOLERANCE,
                      "title": "照合の許容値（小さいほど厳格）"},
        "margin": {"type": "number", "minimum": 0, "maximum": 0.3, "default": DEFAULT_MARGIN,
                   "title": "2番目に近い技能者との差の下限（似た顔の取り違え防止）"},
        "temperature_limit": {"type": "number", "minimum": 35, "maximum": 40, "default": DEFAULT_TEMPERATURE_LIMIT,
                              "title": "検温の注意表示の基準（℃、これ以上を現場ボードで強調）"},
        "require_burst": {"type": "boolean", "default": False,
                          "title": "連続撮影（2〜10枚）だけを受け付け、1枚の写真は拒否する（写真・画面によるなりすまし防止）"},
        "liveness_residual": {"type": "number", "minimum": 0.005, "maximum": 0.2, "default": DEFAULT_LIVENESS_RESIDUAL,
                              "title": "生体判定の基準（連続撮影での顔の形の変化の下限、大きいほど厳格）"},
        "kind": {"type": "string", "enum": ["entry", "exit", "work"], "default": "entry",
                 "title": "記録する区分（入場カメラ / 退場カメラ）"},
    },
}
