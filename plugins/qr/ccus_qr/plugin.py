"""The QR device type in the portal (entry point ``qr`` in the ``ccus.devices`` group): the device type, resolving
a scanned worker QR, and the screens (the worker's own QR, the kiosk page, the phone's scan page)."""
from __future__ import annotations

from flask import current_app

from ccus_qr import DEVICE_TYPE, revocation, tokens
from portal.devices import DeviceType, hookimpl
from portal.refusals import Refused

LABEL = "QRコード"
MARK = "QR"

SETTINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "period": {"type": "integer", "minimum": 10, "maximum": 600, "default": tokens.DEFAULT_PERIOD,
                   "title": "現場QRの切替間隔（秒）"},
        "max_age_days": {"type": "number", "minimum": 1, "maximum": 400, "default": tokens.DEFAULT_MAX_AGE_DAYS,
                         "title": "技能者QRの有効日数"},
    },
}


def setting(device, name: str):
    """A device setting within its bounds (the schema's default for a missing or unusable value)."""
    spec = SETTINGS_SCHEMA["properties"][name]
    value = (getattr(device, "settings", None) or {}).get(name, spec["default"])
    try:
        value = float(value)
    except (TypeError, ValueError):
        return spec["default"]
    value = min(max(value, spec["minimum"]), spec["maximum"])
    return int(value) if spec["type"] == "integer" else value


@hookimpl
def ccus_device_types():
    return [DeviceType(code=DEVICE_TYPE, label=LABEL, mark=MARK, settings_schema=SETTINGS_SCHEMA)]


@hookimpl
def ccus_resolve_worker(device, credential, session):
    """A gate scanner posted a worker QR: its 技能者ID if the signature is ours, it is not too old and not revoked;
    anything else is refused with its code (malformed, forged, foreign, expired, not_yet_valid, revoked), so the
    gate shows red."""
    if device.device_type != DEVICE_TYPE:
        return None
    worker_id, reason = tokens.check_worker(tokens.qr_key(current_app.config), credential,
                                            max_age_days=setting(device, "max_age_days"))
    if worker_id is None:
        return Refused(reason)
    if revocation.is_revoked(session, worker_id, tokens.issued_at(credential)):
        return Refused("revoked")
    return worker_id


@hookimpl
def ccus_register_routes(app):
    from ccus_qr.kiosk import ScanView, blueprint
    from ccus_qr.screens import MyQrView, PrintQrView
    from portal.scoping import ROLE_EMPLOYER, ROLE_WORKER
    from portal.security import grant
    from portal.views.base import add

    app.register_blueprint(blueprint)
    app.appbuilder.add_view_no_menu(ScanView)  # reached by scanning a site QR, not from the menu
    grant(app.config["FAB_ROLES"], [ROLE_WORKER], "ScanView", "can_scan")
    add(app.appbuilder, MyQrView, "私のQRコード", "技能者", {ROLE_WORKER: "can_mine|can_revoke"}, icon="fa-qrcode")
    add(app.appbuilder, PrintQrView, "QRコードの印刷", "技能者",
        {ROLE_EMPLOYER: "can_print|can_print_png|can_revoke"},
        icon="fa-qrcode")
