"""The card reader's side in the portal (entry point ``cardreader`` in the ``ccus.devices`` group): the device
type, resolving a card UID to its worker, and the card enrolment screen (ICカードの登録)."""
from __future__ import annotations

from ccus_cardreader import DEVICE_TYPE
from portal.devices import DeviceType, hookimpl

LABEL = "ICカードリーダー"
MARK = "IC"


@hookimpl
def ccus_device_types():
    return [DeviceType(code=DEVICE_TYPE, label=LABEL, mark=MARK, settings_schema={
        "type": "object",
        "properties": {"kind": {"enum": ["entry", "exit", "work"], "default": "entry",
                                "title": "タッチの意味（入場・退場・就業履歴のみ）"}},
    })]


@hookimpl
def ccus_resolve_worker(device, credential):
    if device.device_type != DEVICE_TYPE:
        return None
    from ccus_cardreader.cards import worker_of_card

    return worker_of_card(credential)


@hookimpl
def ccus_register_routes(app):
    from ccus_cardreader.screens import CardEnrolmentView

    CardEnrolmentView.register(app, icon="fa-id-card")
