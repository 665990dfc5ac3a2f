"""The face device's route: ``POST /api/v1/face/events`` with ``Authorization: Bearer <device key>`` and a
multipart form (or a bare ``image/jpeg`` / ``image/png`` body with the fields as query parameters):

- ``photo``: the picture (one face; none or several → 422 ``no_face`` / ``several_faces``, nothing stored);
- ``event_id``: the device's own id of the event, its idempotency key (default: a hash of the photo, so a
  retried upload of the same picture is recorded once);
- ``kind``: entry / exit / work (default: the device's ``kind`` setting, else entry);
- ``time``: ISO 8601 with offset (default: now).

The face is compared only with the workers on the device's site roster that day, within the device's
``tolerance``; the core ingest function records the event with method 顔. A face nobody matches is recorded
too, without a worker (not counted), so a site manager sees that someone was turned away.
The answer: ``{"result", "code"?, "worker_id"?, "name"?, "distance"?, "event_id"}``, 200 unless rejected.
"""
from __future__ import annotations

import datetime
import hashlib

from flask import Blueprint, current_app, jsonify, request

from ccus_face import MARK, faces
from portal.errors import DomainError

blueprint = Blueprint("ccus_face", __name__, url_prefix="/api/v1/face")


def _photo() -> bytes:
    if (request.content_length or 0) > faces.MAX_BYTES + 64 * 1024:  # refused before reading the body
        raise faces.too_large()
    upload = request.files.get("photo")
    if upload is not None:
        return upload.read(faces.MAX_BYTES + 1)
    if (request.mimetype or "").startswith("image/"):
        return request.get_data(cache=False)
    return b""


@blueprint.post("/events")
def post_event():
    from portal import device_admin, histories, ingest
    from portal.credentials import keys_from_config
    from portal.db import db
    from portal.models import Worker
    from portal.scoping import ALL, using_scope

    session = db.session
    device = device_admin.authenticate_device(session, device_admin.bearer(request.headers.get("Authorization")))
    if device.device_type != faces.DEVICE_TYPE:
        raise DomainError("wrong_device_type", "この機器の種類では顔認証の記録を送信できません。", 403)
    fields = request.form if request.files else request.args
    photo = _photo()
    limits = ingest.Limits.from_config(current_app.config)
    now = datetime.datetime.now(datetime.timezone.utc)
    time_text = fields.get("time") or now.isoformat()
    at = ingest.parse_time(time_text, now, limits)
    encoding = faces.encode_face(photo)
    keys = keys_from_config(current_app.config)
    # Reviewed scope: reads confined to the device's site (its roster) and to those workers' face templates.
    with using_scope(session, ALL):
        roster = faces.registered_worker_ids(session, device.site_id, histories.calendar_day(at))
        worker_pk, distance = faces.identify(session, keys, encoding, roster, faces.tolerance_of(device))
        worker = session.get(Worker, worker_pk) if worker_pk is not None else None
        site_code = device.site.site_id
    event = {"event_id": fields.get("event_id") or "face-" + hashlib.sha256(photo).hexdigest()[:40],
             "site_id": site_code, "time": time_text, "method": MARK,
             "kind": fields.get("kind") or (device.settings or {}).get("kind") or "entry",
             "extras": {"face_distance": round(distance, 3)} if distance is not None else None}
    if worker is not None:
        event["worker_id"] = worker.worker_id
    else:  # not counted, without a worker; the core keeps only a keyed hash of this token
        event["credential"] = "unrecognised:" + hashlib.sha256(photo).hexdigest()
    [result] = ingest.ingest_for_app(current_app, session, device, [event], now=now).results
    body = {**result, "recognised": worker is not None}
    if worker is not None:
        body.update(worker_id=worker.worker_id, name=worker.name)
    if distance is not None:
        body["distance"] = round(distance, 3)
    return jsonify(body), 200 if result["result"] != "rejected" else 422


def register(app) -> None:
    app.register_blueprint(blueprint)
    app.extensions["csrf"].exempt(blueprint)  # devices post with their key, not a browser session
