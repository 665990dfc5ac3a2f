"""CCUS identifiers: 技能者ID, 事業者ID and 現場ID are all 14-digit numbers (domain.md §1.1).

No check-digit algorithm is public, so we check the form only. Every place an ID enters (forms, API, CLI,
imports) calls :func:`validate_ccus_id`, which raises :class:`portal.app.errors.DomainError` with a Japanese
message and a stable code.
"""
from __future__ import annotations

import re

from portal.app.errors import DomainError

_ID = re.compile(r"[0-9]{14}")  # ASCII digits only: \d would let any script's digits in (٩٣٨٤…)

KIND_LABELS = {"worker": "技能者ID", "employer": "事業者ID", "site": "現場ID", "device": "デバイスID"}


def validate_ccus_id(value, kind: str) -> str:
    """Return the ID as a 14-character string, or raise DomainError('invalid_<kind>_id')."""
    label = KIND_LABELS[kind]
    text = "" if value is None else str(value).strip()
    # Full-width digits are common in Japanese input; accept them as the digits they are.
    text = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not _ID.fullmatch(text):
        raise DomainError(f"invalid_{kind}_id", f"{label}は14桁の数字で入力してください（入力値: {value!r}）。")
    return text
