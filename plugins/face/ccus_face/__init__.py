"""ccus-face: face recognition (顔認証) for ccus-portal.

- Enrolment (顔写真の登録, /face/enrolment/): the employer's 事業者責任者 uploads a photo of one of its workers;
  exactly one face must be in it. Only the face encoding is stored, encrypted (portal.devices.credentials).
- Identification (POST /api/v1/face/events, device key): a gate camera or phone posts a photo; the face is
  compared with the encodings of the workers on the device's site roster, within the device's tolerance, and
  the core ingest function records an event with method 顔. An unrecognised face is recorded too, as a
  not-counted event without a worker.
"""
from __future__ import annotations

from portal.devices import DeviceType, Refused, hookimpl

from ccus_face.faces import DEVICE_TYPE, LABEL, MARK, SETTINGS_SCHEMA


@hookimpl
def ccus_device_types():
    return [DeviceType(code=DEVICE_TYPE, label=LABEL, mark=MARK, settings_schema=SETTINGS_SCHEMA)]


@hookimpl
def ccus_register_routes(app):
    from ccus_face import device_api
    from ccus_face.enrolment import FaceEnrolmentView

    FaceEnrolmentView.register(app, icon="fa-camera")
    device_api.register(app)


@hookimpl
def ccus_resolve_worker(device, credential):
    """The face route's own refused photos (``refused:<code>:<photo hash>``, ccus_face.device_api) are kept as
    refused events; an unrecognised face (``unrecognised:…``) names nobody."""
    if device is None or device.device_type != DEVICE_TYPE or not str(credential).startswith("refused:"):
        return None
    return Refused(str(credential).split(":")[1])
