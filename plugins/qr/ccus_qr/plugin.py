"""The QR device type in the portal (entry point ``qr`` in the ``ccus.devices`` group): the device type, resolving
a scanned worker QR, and the screens (the worker's own QR, the kiosk page, the gate page, the phone's scan page)."""
from __future__ import annotations

from flask import current_app

from ccus_qr import DEVICE_TYPE, revocation, tokens
from ccus_qr.settings import SETTINGS_SCHEMA, setting  # noqa: F401 (setting: read here by older callers)
from portal.devices import (ROLE_EMPLOYER, ROLE_WORKER, DeviceType, Refused, add_hidden_screen, add_screen,
                            hookimpl)

LABEL = "QRコード"
MARK = "QR"


@hookimpl
def ccus_device_types():
    # a kiosk's key is on a tablet at the gate: it posts signed worker QRs, never bare 技能者IDs
    return [DeviceType(code=DEVICE_TYPE, label=LABEL, mark=MARK, settings_schema=SETTINGS_SCHEMA,
                       direct_worker_ids=False)]


@hookimpl
def ccus_resolve_worker(device, credential):
    """A gate scanner posted a worker QR: its 技能者ID if the signature is ours, it is not too old and not revoked;
    anything else is refused with its code (malformed, forged, foreign, expired, not_yet_valid, revoked), so the
    gate shows red."""
    if device.device_type != DEVICE_TYPE:
        return None
    worker_id, reason = tokens.check_worker(tokens.qr_key(current_app.config), credential,
                                            max_age_days=setting(device, "max_age_days"))
    if worker_id is None:
        return Refused(reason)
    if revocation.is_revoked(worker_id, tokens.issued_at(credential)):
        return Refused("revoked")
    return worker_id


@hookimpl
def ccus_register_routes(app):
    from ccus_qr.kiosk import ScanView, blueprint
    from ccus_qr.screens import MyQrView, PrintQrView

    app.register_blueprint(blueprint)
    add_hidden_screen(app, ScanView, {ROLE_WORKER: "can_scan"})  # reached by scanning a site QR, not the menu
    add_screen(app, MyQrView, "私のQRコード", "技能者", {ROLE_WORKER: "can_mine|can_revoke"}, icon="fa-qrcode")
    add_screen(app, PrintQrView, "QRコードの印刷", "技能者", {ROLE_EMPLOYER: "can_print|can_print_png|can_revoke"},
               icon="fa-qrcode")
