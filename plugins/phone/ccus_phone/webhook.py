"""The telephony webhook: ``POST /api/v1/phone/calls``, form-encoded as common CPaaS providers send it
(Twilio, SignalWire, Telnyx TeXML: ``From``, ``To``, ``CallSid``; Plivo: ``CallUUID``).

Authentication: the phone device's own API key (devices are not users), as the password of HTTP Basic auth
(``https://phone:<device key>@portal.example/api/v1/phone/calls`` in the provider's console: providers send the
URL's user-info as an ``Authorization: Basic`` header, so the key never appears in access logs), or as
``Authorization: Bearer <device key>``. The key names the device, hence the site; a device whose settings list
its ``numbers`` also refuses calls to another number (To), so a URL copied to the wrong number records nothing.
Revoking the device (or issuing a new key) disables the URL. Replays of one CallSid record the call once.
The answer confirms name, site and entry or exit in Japanese. With the device setting ``keypad``, a caller whose
number is unknown or withheld (a shared phone) is asked for the 技能者ID and the 本人確認番号 by DTMF
(``?step=id``, then ``?step=pin&worker=…``; nothing is stored before the code is right).
The key alone is not enough: the provider's signature is verified too (ccus_phone.signature) before anything
is stored.
"""
from __future__ import annotations

import base64
import datetime

from flask import Blueprint, Response, request

from ccus_phone import calls, signature
from portal.devices import DomainError, add_device_blueprint, authenticate, bearer_key, record_events

blueprint = Blueprint("ccus_phone", __name__, url_prefix="/api/v1/phone")


def device_key() -> str | None:
    """The device key from ``Authorization``: Bearer, or Basic with the key as password (any user name)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return bearer_key(header)
    try:
        return base64.b64decode(value.strip(), validate=True).decode().partition(":")[2] or None
    except (ValueError, UnicodeDecodeError):
        return None


@blueprint.post("/calls")
def call():
    device = authenticate(device_key(), device_type=calls.DEVICE_TYPE,
                          message="この機器の種類では電話の着信を受け付けできません。")
    form = request.form
    signature.verify(device.settings, request.url, form, request.headers.get(signature.HEADER))
    call_id = (form.get("CallSid") or form.get("CallUUID") or "").strip()
    if not call_id:
        raise DomainError("missing_call_id", "CallSid（通話ID）がありません。", 400)
    calls.check_called_number(device, form.get("To", ""))
    received = calls.Call(call_id=call_id[:100], caller=form.get("From", ""), called=form.get("To", ""),
                          at=datetime.datetime.now(datetime.timezone.utc))
    step, digits = request.args.get("step"), "".join(form.get("Digits", "").split()).rstrip("#")
    if step == "pin" and calls.keypad_enabled(device):
        worker = calls.keypad_worker(request.args.get("worker", ""), digits)
        if worker is None:
            return _xml(calls.answer_xml(calls.SAY["wrong_pin"]))
        outcome, event = calls.worker_event(device, received, worker, keypad=True)
    elif step == "id" and calls.keypad_enabled(device):
        if not (len(digits) == 14 and digits.isascii() and digits.isdigit()):
            return _xml(calls.gather_xml(calls.SAY["bad_id"] + calls.SAY["ask_id"], "calls?step=id", 14))
        return _xml(calls.gather_xml(calls.SAY["ask_pin"], f"calls?step=pin&worker={digits}", 4))
    else:
        outcome, event = calls.event_for(device, received)
        if outcome in ("unknown", "withheld") and calls.keypad_enabled(device):
            return _xml(calls.gather_xml(calls.SAY["keypad"] + calls.SAY["ask_id"], "calls?step=id", 14))
    [result] = record_events(device, [event], now=received.at)
    if result["result"] not in ("accepted", "duplicate"):
        message = calls.SAY["rejected"]
    elif outcome in ("entry", "exit"):
        message = calls.confirmation(device, outcome, event["worker_id"])
    else:
        message = calls.SAY[outcome]
    return _xml(calls.answer_xml(message))


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def register(app) -> None:
    add_device_blueprint(app, blueprint)  # a provider's POST carries no CSRF token; the device key guards it
