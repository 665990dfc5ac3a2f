"""The face device's route: ``POST /api/v1/face/events`` with ``Authorization: Bearer <device key>`` and a
multipart form (or a bare ``image/jpeg`` / ``image/png`` body with the fields as query parameters):

- ``photo``: the picture (one face; none or several → 422 ``no_face`` / ``several_faces``, nothing stored); or a
  burst of 2–10 frames of one capture (``photo`` repeated, in capture order), checked for life (ccus_face.liveness):
  identical frames, frames that differ only as a flat picture moved in front of the camera, or frames of different
  faces are refused ``not_alive`` (kept for the audit, not counted); the device setting ``require_burst`` refuses a
  single frame the same way;
- ``event_id``: the device's own id of the event, its idempotency key (default: a hash of the photo, so a
  retried upload of the same picture is recorded once);
- ``kind``: entry / exit / work (default: the device's ``kind`` setting, else entry);
- ``time``: ISO 8601 with offset (default: now);
- ``temperature``: the body temperature the terminal measured with the face (検温, ℃), kept with the event.

The face is compared only with the workers on the device's site roster that day, within the device's
``tolerance``; the core ingest function records the event with method 顔. A face nobody matches is recorded
too, without a worker (not counted), so a site manager sees that someone was turned away.
A match needs the second-closest worker at least the device's ``margin`` further away, else the photo is
refused (``ambiguous_match``); the same frame again under another event id is refused (``replayed``). A refused
photo is kept for the audit (portal.devices.refusals), not counted; the answer says ``rejected`` with the code.
The answer: ``{"result", "code"?, "worker_id"?, "name"?, "distance"?, "event_id"}``, 200 unless rejected.
"""
from __future__ import annotations

import datetime
import hashlib

from flask import Blueprint, jsonify, request

from ccus_face import faces, liveness
from portal.devices import (DomainError, add_device_blueprint, authenticate, event_time, record_events, request_key,
                            work_day)

blueprint = Blueprint("ccus_face", __name__, url_prefix="/api/v1/face")


def _photos() -> list[bytes]:
    """The frames sent: one photo, or a burst (``photo`` repeated)."""
    if (request.content_length or 0) > faces.MAX_BYTES + 64 * 1024:  # refused before reading the body
        raise faces.too_large()
    uploads = request.files.getlist("photo")
    if len(uploads) > liveness.MAX_FRAMES:
        raise DomainError("too_many_frames", f"連続撮影の写真は{liveness.MAX_FRAMES}枚までにしてください。", 400)
    if uploads:
        return [upload.read(faces.MAX_BYTES + 1) for upload in uploads]
    if (request.mimetype or "").startswith("image/"):
        return [request.get_data(cache=False)]
    return [b""]


@blueprint.post("/events")
def post_event():
    device = authenticate(request_key(), device_type=faces.DEVICE_TYPE,
                          message="この機器の種類では顔認証の記録を送信できません。")
    fields = request.form if request.files else request.args
    photos = _photos()
    now = datetime.datetime.now(datetime.timezone.utc)
    time_text = fields.get("time") or now.isoformat()
    at = event_time(time_text, now=now)
    temperature = _temperature(fields.get("temperature"))
    burst = [faces.read_frame(p) for p in photos] if len(photos) > 1 else None
    encoding = burst[0].encoding if burst else faces.encode_face(photos[0])
    frame = hashlib.sha256(photos[0]).hexdigest()  # a burst is known by its first frame
    event_id = fields.get("event_id") or "face-" + frame[:40]
    day = work_day(at)
    match = faces.identify(encoding, faces.roster_workers(device.site, day), faces.tolerance_of(device),
                           faces.setting(device, "margin"), device=device, day=day)
    verdict = faces.liveness_of(device, burst)
    refusal = "replayed" if faces.seen_frame(device, frame[:32], event_id, day) else (
        "not_alive" if verdict is not None and not verdict.alive else
        "ambiguous_match" if match.ambiguous else None)
    worker = match.worker if refusal is None else None
    extras = {"frame": frame[:32]}
    if verdict is not None:  # what the liveness check saw, for the audit of a refused (or passed) capture
        extras.update(frames=len(photos), liveness=round(verdict.residual, 3), liveness_reason=verdict.reason)
    if match.distance is not None:
        extras["face_distance"] = round(match.distance, 3)
    if match.second is not None:
        extras["face_margin"] = round(match.second - match.distance, 3)
    if temperature is not None:  # the site board shows it, in red at or above this device's limit
        extras["temperature"] = temperature
        extras["temperature_high"] = temperature >= faces.setting(device, "temperature_limit")
    event = {"event_id": event_id, "site_id": device.site.site_id, "time": time_text, "method": faces.MARK,
             "kind": fields.get("kind") or device.setting("kind") or "entry", "extras": extras}
    if worker is not None:
        event["worker_id"] = worker.worker_id
    elif refusal is not None:  # kept as refused (ccus_face.ccus_resolve_worker), never counted
        event["credential"] = f"refused:{refusal}:{frame}"
    else:  # not counted, without a worker; the core keeps only a keyed hash of this token
        event["credential"] = "unrecognised:" + frame
    [result] = record_events(device, [event], now=now)
    body = {**result, "recognised": worker is not None}
    if worker is not None:
        body.update(worker_id=worker.worker_id, name=worker.name)
    if match.distance is not None:
        body["distance"] = round(match.distance, 3)
    return jsonify(body), 200 if result["result"] != "rejected" else 422


def _temperature(value) -> float | None:
    """The measured temperature (℃) if sent: a number between 30 and 45, else refused before anything is stored."""
    if value in (None, ""):
        return None
    try:
        found = round(float(value), 1)
    except (TypeError, ValueError):
        found = None
    if found is None or not 30 <= found <= 45:
        raise DomainError("invalid_temperature", "temperature（検温）は30〜45の数値（℃）で送信してください。", 400)
    return found


def register(app) -> None:
    add_device_blueprint(app, blueprint)  # devices post with their key, not a browser session
