"""Constants and helpers of the phone plugin's tests (a module of its own: importing ``conftest`` by name is
ambiguous when several test folders have one)."""
from __future__ import annotations

MEGURO = "30154216388821"  # 目黒 一郎, (株)基金建設, on A現場工事's roster in the demo
HIROO = "17788930382321"  # 広尾 二郎, same employer and site
SITE_A = "36265810102371"
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"  # the provider account's auth token, as in the device's settings


def employer_login_of(application, worker_code: str) -> dict:
    """The demo login of the 事業者責任者 of a worker's employer."""
    employer_id = next(e["employer_id"] for e in application.logins if e["worker_id"] == worker_code)
    return next(e for e in application.logins if e["login"] == employer_id)


def register_device(application, device_type: str, settings: dict | None = None, site: str = SITE_A):
    """A device on a site through the core's own registration, its settings checked against the type's schema;
    returns (device pk, its key, shown once)."""
    from portal.devices.testing import register_device as register

    device, key = register(application, site, device_type, settings)
    return device.id, key
