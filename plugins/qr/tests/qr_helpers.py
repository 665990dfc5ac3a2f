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
    from portal.devices.testing import logged_in

    return logged_in(application, entry)


def register_qr_device(application, site_code: str = SITE_A, device_type: str = "qr", settings=None):
    """A device on a site, registered as an administrator would; returns (device pk, key)."""
    from portal.devices.testing import register_device

    device, key = register_device(application, site_code, device_type, settings)
    return device.id, key


def events_of(application, device_pk: int) -> list:
    """(worker 技能者ID sent, kind, method) of a device's stored events."""
    from portal.devices import testing

    return [(e.worker_id, e.kind, e.method) for e in testing.events_of(application, device_pk)]
