"""ccus-phone: call-in registration (電話発信) for ccus-portal.

A worker dials the site's number; the telephony provider posts its webhook (form fields From, To, CallSid) to
``POST /api/v1/phone/calls``, authenticated by the phone device's API key (see ccus_phone.webhook). The caller's
number, enrolled per worker by the employer (発信電話番号の登録, /phone/enrolment/, stored only as a keyed hash),
names the worker; the first call records an entry, the next an exit; the answer is said in Japanese. A caller
nobody enrolled is recorded too, as a not-counted event, and told the number is not registered.
"""
from __future__ import annotations

from portal.devices import DeviceType, hookimpl

from ccus_phone.calls import DEVICE_TYPE, SETTINGS_SCHEMA

LABEL = "電話発信"
MARK = "電話"


@hookimpl
def ccus_device_types():
    return [DeviceType(code=DEVICE_TYPE, label=LABEL, mark=MARK, settings_schema=SETTINGS_SCHEMA)]


@hookimpl
def ccus_register_routes(app):
    from ccus_phone import webhook
    from ccus_phone.enrolment import PhoneEnrolmentView

    PhoneEnrolmentView.register(app, icon="fa-phone")
    webhook.register(app)


@hookimpl
def ccus_resolve_worker(device, credential):
    """A phone device posting through the ingest API may name the worker by the caller's number."""
    if device is None or device.device_type != DEVICE_TYPE:
        return None
    from ccus_phone.calls import caller_worker

    worker = caller_worker(credential)
    return worker.worker_id if worker else None
