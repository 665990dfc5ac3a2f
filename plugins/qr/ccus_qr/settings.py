"""The QR device's settings and their bounds (a module of its own: the kiosk and the plugin both read them, and
neither imports the other)."""
from __future__ import annotations

from ccus_qr import tokens

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
