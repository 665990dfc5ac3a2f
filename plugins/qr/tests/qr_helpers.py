"""Constants and helpers of the QR plugin's tests (a module of its own: conftest modules are not importable)."""
from __future__ import annotations

import io

import zxingcpp
from PIL import Image

MEGURO = "30154216388821"  # 目黒 一郎, (株)基金建設, on A現場工事's roster in the demo
SITE_A = "36265810102371"


def decode_png(data: bytes) -> list[str]:
    """Every QR code zxing-cpp finds in an image."""
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


def employer_login_of(application, worker_code: str) -> dict:
    employer_id = next(e["employer_id"] for e in application.logins if e["worker_id"] == worker_code)
    return next(e for e in application.logins if e["login"] == employer_id)


def other_employer_login(application, worker_code: str) -> dict:
    own = employer_login_of(application, worker_code)["login"]
    return next(e for e in application.logins if e["role"] == "employer" and e["login"] != own)


def logged_in(application, entry: dict):
    from portal.testing import login

    client = application.test_client()
    login(client, entry["login"], entry["password"])
    return client


def register_qr_device(application, site_code: str = SITE_A, device_type: str = "qr", settings=None):
    """A device on a site, registered as an administrator would; returns (device pk, key)."""
    from portal.db import db
    from portal.device_admin import register_device
    from portal.scoping import ALL, using_scope

    with application.test_request_context(), using_scope(db.session, ALL):
        device, key = register_device(db.session, site_code, device_type)
        device.settings = settings
        db.session.commit()
        return device.id, key


def events_of(application, device_pk: int) -> list:
    """(worker 技能者ID sent, kind, method) of a device's stored events, and the history rows they made."""
    from sqlalchemy import select

    from portal.db import db
    from portal.models import EntryExitEvent
    from portal.scoping import ALL, using_scope

    with application.app_context(), using_scope(db.session, ALL):
        return [(e.worker_code, e.kind, e.method) for e in db.session.execute(
            select(EntryExitEvent).where(EntryExitEvent.device_id == device_pk).order_by(EntryExitEvent.id)).scalars()]
