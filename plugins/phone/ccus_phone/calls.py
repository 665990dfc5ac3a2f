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
from portal.devices import DeviceRef, DomainError, WorkerRef, find_worker, last_event, recorded_event

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
    },
}

SAY = {
    "entry": "入場を記録しました。",
    "exit": "退場を記録しました。",
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


def event_for(device: DeviceRef, call: Call) -> tuple[str, dict]:
    """(outcome, the core event) for a call. A replayed call id keeps the kind it was first recorded with."""
    worker = None if is_withheld(call.caller) else caller_worker(call.caller)
    event = {"event_id": call.call_id, "site_id": device.site.site_id, "time": call.at.isoformat(),
             "method": METHOD, "extras": {"call_id": call.call_id}}
    if worker is None:
        # kept as a not-counted event: the caller's number goes to the core only as a credential (stored hashed)
        outcome = "withheld" if is_withheld(call.caller) else "unknown"
        return outcome, {**event, "kind": "entry", "credential": str(call.caller or "withheld")}
    earlier = recorded_event(device, call.call_id)
    kind = earlier.kind if earlier is not None else toggled_kind(device, worker, call.at)
    return kind, {**event, "kind": kind, "worker_id": worker.worker_id}


def answer_xml(message: str) -> str:
    """A TwiML-style answer: most CPaaS providers (Twilio, Plivo, SignalWire, Telnyx TeXML) read this form."""
    from xml.sax.saxutils import escape

    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<Response><Say language="ja-JP">{escape(message)}</Say><Hangup/></Response>')
