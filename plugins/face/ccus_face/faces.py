"""Face templates: reading a photo, computing its encoding (dlib's 128-dimension face descriptor through
face_recognition), and finding the worker it belongs to among those registered on a site.

Plain functions over a session, no Flask. face_recognition and numpy are imported lazily: loading dlib's
models takes a second, and the portal loads every installed plugin at start-up.
"""
from __future__ import annotations

import datetime
import io


from portal.devices import DomainError, SiteRef, WorkerRef, credential_payloads, enrol_credential, roster

DEVICE_TYPE = "face"
LABEL = "顔認証"
MARK = "顔"  # the mark in a monthly calendar and the method of its events
DEFAULT_TOLERANCE = 0.5  # face_recognition's default is 0.6; stricter, since a false match credits a day wrongly
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


def encode_face(data: bytes):
    """The encoding of the one face in the photo. No face, or several, is refused: enrolment must not store
    someone else's face, and a gate photo of two people cannot say who passed."""
    import face_recognition

    image = read_photo(data)
    locations = face_recognition.face_locations(image)
    if not locations:
        raise DomainError("no_face", "写真から顔を検出できませんでした。顔が正面からはっきり写った写真を使ってください。")
    if len(locations) > 1:
        raise DomainError("several_faces",
                          f"写真に{len(locations)}人の顔が写っています。1人だけが写った写真を使ってください。")
    return face_recognition.face_encodings(image, known_face_locations=locations)[0]


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


def identify(encoding, workers, tolerance: float):
    """(worker, distance) of the closest enrolled face among ``workers`` within ``tolerance``, or
    (None, closest distance or None)."""
    import face_recognition

    known = credential_payloads(DEVICE_TYPE, workers)
    if not known:
        return None, None
    distances = face_recognition.face_distance([from_bytes(p) for _w, p in known], encoding)
    best = int(distances.argmin())
    distance = float(distances[best])
    return (known[best][0] if distance <= tolerance else None), distance


def tolerance_of(device) -> float:
    """The device's tolerance setting (照合の許容値), within the schema's bounds."""
    value = (device.settings or {}).get("tolerance", DEFAULT_TOLERANCE)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return DEFAULT_TOLERANCE
    return min(max(value, SETTINGS_SCHEMA["properties"]["tolerance"]["minimum"]),
               SETTINGS_SCHEMA["properties"]["tolerance"]["maximum"])


SETTINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "tolerance": {"type": "number", "minimum": 0.3, "maximum": 0.7, "default": DEFAULT_TOLERANCE,
                      "title": "照合の許容値（小さいほど厳格）"},
        "kind": {"type": "string", "enum": ["entry", "exit", "work"], "default": "entry",
                 "title": "記録する区分（入場カメラ / 退場カメラ）"},
    },
}
