"""A device's settings (機器の設定), edited by whoever may manage the device and validated against its type's
settings_schema (the plugin's JSON schema): a form's text becomes the schema's types, then jsonschema decides.
Bad input raises DomainError with a Japanese message naming the setting; nothing is stored.

Secrets among the settings (a provider's auth token): a property the schema declares ``writeOnly`` or
``format: password`` is stored encrypted (``{"sealed": <Fernet token>}``, with the key that encrypts face
templates, portal.devices.credentials), shown masked on every screen and in the API, write-only in the form (an empty
field keeps it), and decrypted only for the plugin (portal.devices.refs.DeviceRef.settings).

Plain functions over a session; the screen is DeviceAdminView's 設定 page.
"""
from __future__ import annotations

from typing import Any, Mapping

import jsonschema
from sqlalchemy.orm import Session

from portal.app.errors import DomainError
from portal.models import Device

SEALED = "sealed"  # the one key of a stored secret setting's object
MASK = "●●●●●●（設定済み）"  # what screens and the API show for a secret that is set
KINDS = {"integer": "整数", "number": "数値", "boolean": "はい／いいえ", "string": "文字列", "array": "一覧"}


def secret_names(schema: Mapping | None) -> set[str]:
    """The settings a plugin's schema declares secret: ``writeOnly`` or ``format: password``."""
    return {name for name, spec in ((schema or {}).get("properties") or {}).items()
            if isinstance(spec, Mapping) and (spec.get("writeOnly") or spec.get("format") == "password")}


def _keys():
    from flask import current_app

    from portal.devices.credentials import keys_from_config

    return keys_from_config(current_app.config)


def _is_sealed(value) -> bool:
    return isinstance(value, Mapping) and set(value) == {SEALED}


def seal(settings: Mapping | None, schema: Mapping | None, keys=None) -> dict:
    """The settings as stored: each secret (a string) encrypted; everything else as it is."""
    secrets, keys = secret_names(schema), keys or _keys()
    return {name: {SEALED: keys.encrypt(str(value).encode()).decode()}
            if name in secrets and isinstance(value, str) else value for name, value in (settings or {}).items()}


def unseal(settings: Mapping | None, keys=None) -> dict:
    """The settings as the plugin uses them: every sealed value decrypted (a value stored before secrets were
    sealed is plain already). A value the key cannot open (the key was changed) is left out: the plugin sees
    the secret as not set and says so (a phone device: signature_not_configured)."""
    settings = dict(settings or {})
    if not any(_is_sealed(v) for v in settings.values()):
        return settings
    keys = keys or _keys()
    out = {}
    for name, value in settings.items():
        if not _is_sealed(value):
            out[name] = value
            continue
        try:
            out[name] = keys.decrypt(str(value[SEALED]).encode()).decode()
        except Exception:  # cryptography's InvalidToken, or a damaged row
            continue
    return out


def masked(settings: Mapping | None, secrets: set[str] | None = None) -> dict:
    """The settings as screens and the API show them: sealed values, and plain values of ``secrets``, masked."""
    secrets = secrets or set()
    return {name: MASK if _is_sealed(value) or (name in secrets and value not in (None, "")) else value
            for name, value in (settings or {}).items()}


def _installed_schemas() -> dict:
    from flask import current_app

    from portal.devices import device_types

    return {code: t.settings_schema or {} for code, t in device_types(current_app.extensions["ccus_plugins"]).items()}


def all_secret_names() -> set[str]:
    """The secret settings' names of every installed device type (a list of devices of all types masks these)."""
    return set().union(*(secret_names(schema) for schema in _installed_schemas().values()))


def shown(settings: Mapping | None, device_type: str | None = None) -> str:
    """A device's settings as one line for a screen: each by its Japanese title (the schema's), secrets masked,
    lists joined, booleans as はい／いいえ; "" when none are set."""
    schema = _installed_schemas().get(device_type) or {}
    secrets = secret_names(schema) | all_secret_names()
    titles = {name: spec.get("title") or name for name, spec in (schema.get("properties") or {}).items()}

    def text(value):
        if isinstance(value, bool):
            return "はい" if value else "いいえ"
        if isinstance(value, (list, tuple)):
            return "、".join(str(v) for v in value)
        return str(value)

    return " ／ ".join(f"{titles.get(name, name)}: {text(value)}" for name, value in masked(settings, secrets).items())


def fields(schema: Mapping) -> list[dict]:
    """The form's fields, one per schema property: name, title, type, enum, bounds, default, secret."""
    out, secrets = [], secret_names(schema)
    for name, spec in (schema.get("properties") or {}).items():
        kind = spec.get("type") or ("string" if "enum" in spec else "string")
        out.append({"name": name, "title": spec.get("title") or name, "type": kind, "enum": spec.get("enum"),
                    "minimum": spec.get("minimum"), "maximum": spec.get("maximum"), "default": spec.get("default"),
                    "secret": name in secrets})
    return out


def _invalid(title: str, why: str) -> DomainError:
    return DomainError("invalid_device_setting", f"設定「{title}」: {why}")


def _convert(field: dict, text: str) -> Any:
    kind, title = field["type"], field["title"]
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise _invalid(title, "整数で入力してください。") from None
    if kind == "number":
        try:
            value = float(text)
        except ValueError:
            raise _invalid(title, "数値で入力してください。") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise _invalid(title, "数値で入力してください。")
        return value
    if kind == "boolean":
        return text in ("1", "true", "on", "yes")
    if kind == "array":  # one item a line (or comma-separated)
        return [item.strip() for line in text.splitlines() for item in line.split(",") if item.strip()]
    return text


def _message(error: jsonschema.ValidationError, by_name: dict) -> str:
    name = error.path[0] if error.path else None
    title = by_name[name]["title"] if name in by_name else "設定"
    spec = error.schema if isinstance(error.schema, dict) else {}
    why = {"minimum": f"{spec.get('minimum')}以上にしてください。",
           "maximum": f"{spec.get('maximum')}以下にしてください。",
           "enum": "選択肢から選んでください。",
           "type": f"{KINDS.get(spec.get('type'), '正しい形式')}で入力してください。",
           "additionalProperties": "この機器の種類にない設定です。"}.get(error.validator, "値が正しくありません。")
    return f"設定「{title}」: {why}"


def parse(schema: Mapping, form: Mapping[str, str], current: Mapping | None = None) -> dict:
    """The settings a form names, converted to the schema's types and validated against it. An empty field
    leaves the setting unset (the plugin's default applies); an empty secret field keeps the ``current``
    secret (a write-only field: the form never shows it) unless its 削除 box (``<name>__clear``) is ticked."""
    by_name = {f["name"]: f for f in fields(schema)}
    settings = {}
    for name, field in by_name.items():
        text = str(form.get(name, "") or "").strip()
        if len(text) > 2000:
            raise _invalid(field["title"], "長すぎます。")
        if field["secret"] and text == "" and not form.get(f"{name}__clear") and (current or {}).get(name):
            settings[name] = current[name]
            continue
        if text == "" and field["type"] != "boolean":
            continue
        settings[name] = _convert(field, text)
    validator = jsonschema.Draft202012Validator(dict(schema))
    errors = sorted(validator.iter_errors(settings), key=lambda e: list(e.path))
    if errors:
        raise DomainError("invalid_device_setting", _message(errors[0], by_name))
    return settings


def update(session: Session, device: Device, schema: Mapping, form: Mapping[str, str]) -> dict:
    """Store a device's new settings (in the caller's scope: the Device rule refuses another prime's site),
    secrets sealed."""
    return store(session, device, schema, parse(schema, form, unseal(device.settings)))


def store(session: Session, device: Device, schema: Mapping, settings: Mapping | None) -> dict:
    """Store settings already validated against ``schema``: its secrets sealed; returns them as stored."""
    device.settings = seal(settings, schema) or None
    session.flush()
    return device.settings or {}
