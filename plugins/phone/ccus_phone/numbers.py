"""Phone numbers: one form (E.164, ``+819012345678``) for what an employer types and what a telephony provider
sends as ``From``/``To``, so that the keyed hash of an enrolled number matches the caller's."""
from __future__ import annotations

import re

from portal.devices import DomainError

COUNTRY_CODE = "81"  # a number typed with a leading 0 is a Japanese one
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－（）　", "0123456789+-() ")
_SEPARATORS = re.compile(r"[\s\-().]")
# What providers send in From when the caller withholds the number (非通知): Twilio, Vonage, Plivo, SIP.
WITHHELD = {"", "anonymous", "restricted", "unknown", "private", "unavailable", "+266696687"}


def is_withheld(value) -> bool:
    return str(value or "").strip().lower() in WITHHELD


def normalise_number(value) -> str:
    """``+<country><number>`` from a number as typed (090-1234-5678, ０９０…, +81 90 …), or DomainError."""
    text = _SEPARATORS.sub("", str(value or "").translate(_FULL_WIDTH))
    if text.startswith("+"):
        digits = text[1:]
    elif text.startswith("010"):  # Japan's international prefix typed out
        digits = text[3:]
    elif text.startswith("0") and not text.startswith("00"):
        digits = COUNTRY_CODE + text[1:]
    else:
        digits = ""
    if not digits.isdigit() or not 10 <= len(digits) <= 15:
        raise DomainError("invalid_phone_number",
                          f"電話番号の形式が正しくありません（例: 090-1234-5678、+81 90 1234 5678。入力値: {value!r}）。")
    return "+" + digits


def masked(number: str) -> str:
    """What screens show of an enrolled number: its last four digits only (the number itself is not stored)."""
    return f"末尾{number[-4:]}"
