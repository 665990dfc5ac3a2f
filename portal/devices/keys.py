"""Devices and their API keys: register (the key is shown once, only its hash is stored), revoke, authenticate.

A key reads ``ccus_<prefix>_<secret>``: the prefix (8 hex digits, not secret) is stored in the clear to find the
device and to name it in lists and on the command line; the whole key is stored as its SHA-256 (the secret has
256 bits of entropy, so a plain hash cannot be brute-forced; no salt or slow hash needed). Registration and
revocation go through the caller's scoped session: an administrator for any site, a prime contractor (元請) only
for its own sites (the Device scope rule). Authentication reads the devices table directly: a device is not a
user and has no scope of its own until it is found.
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.devices import settings as device_settings
from portal.app.errors import DomainError
from portal.app.ids import validate_ccus_id
from portal.models import Device, Site
from portal.people.scoping import ALL, using_scope

KEY_PREFIX = "ccus_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> tuple[str, str]:
    prefix = secrets.token_hex(4)
    return prefix, f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def installed_types() -> dict:
    """The installed device types of the current app (for callers inside a request or app context)."""
    from flask import current_app

    from portal.devices import device_types

    return device_types(current_app.extensions["ccus_plugins"])


def _site(session: Session, site) -> Site:
    if isinstance(site, Site):
        return site
    if isinstance(site, int):
        found = session.execute(select(Site).where(Site.id == site)).scalar_one_or_none()
    else:
        try:
            code = validate_ccus_id(str(site), "site")
        except DomainError as e:
            raise DomainError("invalid_site_id", e.message) from e
        found = session.execute(select(Site).where(Site.site_id == code)).scalar_one_or_none()
    if found is None:  # not registered, or outside the caller's scope: the same answer
        raise DomainError("unknown_site", "現場が見つからないか、機器を登録する権限がありません。", 404)
    return found


def register_device(session: Session, site, device_type: str, name: str = "", *,
                    installed: dict | None = None) -> tuple[Device, str]:
    """Register a device of an installed type on a site; returns (device, key). The key is never stored and
    cannot be shown again: the caller shows it once. ``site`` is a Site, its pk or its 現場ID."""
    installed = installed_types() if installed is None else installed
    if device_type not in installed:
        raise DomainError("unknown_device_type", f"機器の種類「{device_type}」はインストールされていません"
                                                 f"（利用可能: {'、'.join(sorted(installed)) or 'なし'}）。")
    name = (name or "").strip()
    if len(name) > 100:
        raise DomainError("invalid_device_name", "機器名は100文字以内で入力してください。")
    site = _site(session, site)
    prefix, key = _new_key()
    device = Device(site_id=site.id, device_type=device_type, name=name or installed[device_type].label,
                    key_prefix=prefix, key_hash=hash_key(key))
    session.add(device)
    session.flush()  # the scope guard refuses a site where the caller is not the prime contractor
    return device, key


def find_device(session: Session, ref) -> Device:
    """A device by its pk or its key prefix, in the caller's scope."""
    ref = str(ref).strip()
    if ref.startswith(KEY_PREFIX):
        ref = ref[len(KEY_PREFIX):].split("_")[0]
    conds = [Device.key_prefix == ref]
    if ref.isdigit() and len(ref) < 10:
        conds.append(Device.id == int(ref))
    found = session.execute(select(Device).where(or_(*conds))).scalars().all()
    if len(found) != 1:
        raise DomainError("unknown_device", "機器が見つからないか、操作する権限がありません。", 404)
    return found[0]


def set_settings(session: Session, device, settings: dict | None, *, installed: dict | None = None) -> Device:
    """Replace a device's settings after checking them against its device type's settings schema (a plugin's
    DeviceType.settings_schema), so a bad value (a malformed auth token …) is refused here, not at the gate.
    The schema's secrets are stored sealed (portal.devices.settings)."""
    import jsonschema

    device = device if isinstance(device, Device) else find_device(session, device)
    installed = installed_types() if installed is None else installed
    schema = installed[device.device_type].settings_schema if device.device_type in installed else {}
    settings = dict(settings or {})
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema or {}).iter_errors(settings))
    if error is not None:
        field = error.path[0] if error.path else None
        title = schema.get("properties", {}).get(field, {}).get("title", field) if field else None
        raise DomainError("invalid_settings", f"機器の設定「{title}」の値が正しくありません。" if title else
                          "機器の設定の形式が正しくありません。", 400)
    device_settings.store(session, device, schema or {}, settings)  # its secrets sealed
    return device


def revoke_device(session: Session, device) -> Device:
    """Revoke a device's key at once (the device row and its events stay)."""
    device = device if isinstance(device, Device) else find_device(session, device)
    if device.revoked_at is None:
        device.revoked_at = datetime.datetime.now(datetime.timezone.utc)
        session.flush()
    return device


def authenticate_device(session: Session, bearer_key: str | None) -> Device:
    """The active device a key belongs to; DomainError 401 ``invalid_device_key`` or ``revoked_device_key``."""
    invalid = DomainError("invalid_device_key", "機器キーが無効です。", 401)
    key = (bearer_key or "").strip()
    if not key.startswith(KEY_PREFIX) or key.count("_") < 2:
        raise invalid
    prefix = key[len(KEY_PREFIX):].split("_")[0]
    with using_scope(session, ALL):
        device = session.execute(select(Device).where(Device.key_prefix == prefix)).scalar_one_or_none()
    if device is None or not hmac.compare_digest(device.key_hash, hash_key(key)):
        raise invalid
    if device.revoked_at is not None:
        raise DomainError("revoked_device_key", "この機器キーは失効しています。", 401)
    return device


def bearer(header: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None
