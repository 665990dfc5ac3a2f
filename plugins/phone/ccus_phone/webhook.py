"""The telephony webhook: ``POST /api/v1/phone/calls``, form-encoded as common CPaaS providers send it
(Twilio, SignalWire, Telnyx TeXML: ``From``, ``To``, ``CallSid``; Plivo: ``CallUUID``).

Authentication: the phone device's own API key (devices are not users), as the password of HTTP Basic auth
(``https://phone:<device key>@portal.example/api/v1/phone/calls`` in the provider's console: providers send the
URL's user-info as an ``Authorization: Basic`` header, so the key never appears in access logs), or as
``Authorization: Bearer <device key>``. The key names the device, hence the site; a device whose settings list
its ``numbers`` also refuses calls to another number (To), so a URL copied to the wrong number records nothing.
Revoking the device (or issuing a new key) disables the URL. Replays of one CallSid record the call once.
"""
from __future__ import annotations

import base64
import datetime

from flask import Blueprint, Response, request

from ccus_phone import calls
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
    call_id = (form.get("CallSid") or form.get("CallUUID") or "").strip()
    if not call_id:
        raise DomainError("missing_call_id", "CallSid（通話ID）がありません。", 400)
    calls.check_called_number(device, form.get("To", ""))
    received = calls.Call(call_id=call_id[:100], caller=form.get("From", ""), called=form.get("To", ""),
                          at=datetime.datetime.now(datetime.timezone.utc))
    outcome, event = calls.event_for(device, received)
    [result] = record_events(device, [event], now=received.at)
    message = calls.SAY[outcome if result["result"] in ("accepted", "duplicate") else "rejected"]
    return Response(calls.answer_xml(message), mimetype="text/xml")


def register(app) -> None:
    add_device_blueprint(app, blueprint)  # a provider's POST carries no CSRF token; the device key guards it
