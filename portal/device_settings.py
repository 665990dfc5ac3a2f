"""A device's settings (機器の設定), edited by whoever may manage the device and validated against its type's
settings_schema (the plugin's JSON schema): a form's text becomes the schema's types, then jsonschema decides.
Bad input raises DomainError with a Japanese message naming the setting; nothing is stored.

Plain functions over a session; the screen is DeviceAdminView's 設定 page.
"""
from __future__ import annotations

from typing import Any, Mapping

import jsonschema
from sqlalchemy.orm import Session

from portal.errors import DomainError
from portal.models import Device

KINDS = {"integer": "整数", "number": "数値", "boolean": "はい／いいえ", "string": "文字列", "array": "一覧"}


def fields(schema: Mapping) -> list[dict]:
    """The form's fields, one per schema property: name, title, type, enum, bounds, default."""
    out = []
    for name, spec in (schema.get("properties") or {}).items():
        kind = spec.get("type") or ("string" if "enum" in spec else "string")
        out.append({"name": name, "title": spec.get("title") or name, "type": kind, "enum": spec.get("enum"),
                    "minimum": spec.get("minimum"), "maximum": spec.get("maximum"), "default": spec.get("default")})
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


def parse(schema: Mapping, form: Mapping[str, str]) -> dict:
    """The settings a form names, converted to the schema's types and validated against it. An empty field
    leaves the setting unset (the plugin's default applies)."""
    by_name = {f["name"]: f for f in fields(schema)}
    settings = {}
    for name, field in by_name.items():
        text = str(form.get(name, "") or "").strip()
        if len(text) > 2000:
            raise _invalid(field["title"], "長すぎます。")
        if text == "" and field["type"] != "boolean":
            continue
        settings[name] = _convert(field, text)
    validator = jsonschema.Draft202012Validator(dict(schema))
    errors = sorted(validator.iter_errors(settings), key=lambda e: list(e.path))
    if errors:
        raise DomainError("invalid_device_setting", _message(errors[0], by_name))
    return settings


def update(session: Session, device: Device, schema: Mapping, form: Mapping[str, str]) -> dict:
    """Store a device's new settings (in the caller's scope: the Device rule refuses another prime's site)."""
    device.settings = parse(schema, form) or None
    session.flush()
    return device.settings or {}
