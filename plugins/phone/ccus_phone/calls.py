"""A call to the site's number, as an entry or exit: who called (From → worker through the enrolled numbers),
which way (a toggle, like Odoo's attendance kiosk), and what to say back. Plain functions over the
portal's public plugin API.

The toggle: a call after the worker's entry on this site (within ``max_shift_hours``, so a night shift past
midnight still ends with an exit) records an exit; any other call records an entry. The core decides whether
the day counts; this module only says what the worker did.
"""
from __future__ import annotations

import dataclasses
import datetime

from ccus_phone.numbers import is_withheld, normalise_number
from portal.devices import (DeviceRef, DomainError, WorkerRef, check_security_code, find_worker, last_event,
                            recorded_event, worker_by_code)

DEVICE_TYPE = "phone"
METHOD = "電話"
DEFAULT_MAX_SHIFT_HOURS = 16

SETTINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "numbers": {"type": "array", "items": {"type": "string"}, "default": [],
                    "title": "この現場の着信番号（To）。空なら確認しない"},
        "max_shift_hours": {"type": "integer", "minimum": 1, "maximum": 24, "default": DEFAULT_MAX_SHIFT_HOURS,
                            "title": "入場からこの時間内の発信を退場とする（時間）"},
        # ccus_phone.signature: the provider's webhook signature
        "signature": {"type": "string", "enum": ["twilio", "none"], "default": "twilio",
                      "title": "署名の方式（none は機器キーのみで受け付け、非推奨）"},
        "auth_token": {"type": "string", "pattern": "^[0-9a-fA-F]{32}$", "writeOnly": True,
                       "title": "電話事業者のAuth Token（32桁の16進数、署名の検証に使用）"},
        "keypad": {"type": "boolean", "default": False,
                   "title": "登録のない電話・共用電話では技能者IDと本人確認番号をプッシュボタンで入力させる"},
        "webhook_url": {"type": "string", "pattern": "^https?://[^\\s@]+$", "maxLength": 500,
                        "title": "電話事業者に設定したURL（プロキシでURLが変わるとき。認証情報は含めない）"},
    },
}

SAY = {
    "entry": "入場を記録しました。",
    "exit": "退場を記録しました。",
    "keypad": "登録のない電話からの発信です。",
    "ask_id": "技能者IDの14桁を押して、最後にシャープを押してください。",
    "ask_pin": "本人確認番号の4桁を押してください。",
    "bad_id": "技能者IDが正しくありません。",
    "wrong_pin": "技能者IDまたは本人確認番号が違うか、誤入力が続いたため一時的に使えません。",
    "unknown": "この電話番号は登録されていません。所属の事業者に電話番号の登録を依頼してください。",
    "withheld": "電話番号が通知されていません。番号を通知して、おかけ直しください。",
    "rejected": "記録できませんでした。現場の管理者に連絡してください。",
}


@dataclasses.dataclass(frozen=True)
class Call:
    """What one webhook request says: the provider's call id (the event's idempotency key), caller, called."""

    call_id: str
    caller: str
    called: str
    at: datetime.datetime


@dataclasses.dataclass(frozen=True)
class Answer:
    outcome: str  # entry / exit / unknown / withheld / rejected
    message: str  # said to the caller
    result: str  # the core's result for the event: accepted / duplicate / rejected
    event: dict


def check_called_number(device, called: str) -> None:
    """A device configured with its numbers answers only calls to them (a webhook URL copied to another
    number's configuration must not record that site's calls here)."""
    numbers = device.setting("numbers") or []
    if not numbers:
        return
    try:
        called = normalise_number(called)
    except DomainError:
        called = None
    if called not in {normalise_number(n) for n in numbers}:
        raise DomainError("wrong_number", "この番号への着信は、このデバイスでは受け付けていません。", 403)


def caller_worker(caller: str) -> WorkerRef | None:
    try:
        number = normalise_number(caller)
    except DomainError:
        return None
    return find_worker(DEVICE_TYPE, number)


def toggled_kind(device: DeviceRef, worker: WorkerRef, at: datetime.datetime) -> str:
    """exit if the worker's last event on this site, within max_shift_hours before ``at``, is an entry."""
    hours = int(device.setting("max_shift_hours") or DEFAULT_MAX_SHIFT_HOURS)
    last = last_event(device, worker, since=at - datetime.timedelta(hours=hours), until=at)
    return "exit" if last is not None and last.kind == "entry" else "entry"


def _event(device: DeviceRef, call: Call) -> dict:
    return {"event_id": call.call_id, "site_id": device.site.site_id, "time": call.at.isoformat(),
            "method": METHOD, "extras": {"call_id": call.call_id}}


def event_for(device: DeviceRef, call: Call) -> tuple[str, dict]:
    """(outcome, the core event) for a call. A replayed call id keeps the kind it was first recorded with."""
    worker = None if is_withheld(call.caller) else caller_worker(call.caller)
    if worker is None:
        # kept as a not-counted event: the caller's number goes to the core only as a credential (stored hashed)
        outcome = "withheld" if is_withheld(call.caller) else "unknown"
        return outcome, {**_event(device, call), "kind": "entry", "credential": str(call.caller or "withheld")}
    return worker_event(device, call, worker)


def worker_event(device: DeviceRef, call: Call, worker: WorkerRef, **extras) -> tuple[str, dict]:
    """(entry or exit, the core event) of a call that named ``worker`` (by the caller's number or the keypad)."""
    earlier = recorded_event(device, call.call_id)
    kind = earlier.kind if earlier is not None else toggled_kind(device, worker, call.at)
    event = _event(device, call)
    event["extras"].update(extras)
    return kind, {**event, "kind": kind, "worker_id": worker.worker_id}


def keypad_enabled(device: DeviceRef) -> bool:
    return device.setting("keypad") is True


def keypad_worker(worker_code: str, pin: str) -> WorkerRef | None:
    """The worker a shared phone's caller named by 技能者ID and 本人確認番号 (DTMF), or None. Wrong codes count
    towards the code's lock (4 digits must not be guessable by calling again and again)."""
    worker = worker_by_code(worker_code)
    if worker is None or not check_security_code(worker, pin):
        return None
    return worker


def confirmation(device: DeviceRef, kind: str, worker_code: str) -> str:
    """What the caller hears after a recorded entry or exit: name, site and which way, in Japanese."""
    worker = worker_by_code(worker_code)
    return f"{worker.name if worker is not None else ''}さん、{device.site.name}の{SAY[kind]}"


def answer_xml(message: str) -> str:
    """A TwiML-style answer: most CPaaS providers (Twilio, Plivo, SignalWire, Telnyx TeXML) read this form."""
    from xml.sax.saxutils import escape

    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<Response><Say language="ja-JP">{escape(message)}</Say><Hangup/></Response>')


def gather_xml(message: str, action: str, digits: int) -> str:
    """Ask for digits on the keypad (TwiML <Gather>): the provider posts them as ``Digits`` to ``action``, a
    URL relative to this webhook's, signed like every request."""
    from xml.sax.saxutils import escape, quoteattr

    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<Response><Gather input="dtmf" numDigits="{digits}" finishOnKey="#" timeout="10" '
            f'action={quoteattr(action)} method="POST"><Say language="ja-JP">{escape(message)}</Say></Gather>'
            f'<Say language="ja-JP">{escape(SAY["rejected"])}</Say><Hangup/></Response>')
