"""The phone plugin passes the device plugin contract (portal.devices.testing)."""
from __future__ import annotations

import ccus_phone
from ccus_phone.numbers import normalise_number
from portal.devices.testing import DevicePluginContract, enrol


class TestPhoneContract(DevicePluginContract):
    plugin = ccus_phone
    routes = [("POST", "/api/v1/phone/calls")]

    def known_credential(self, world):
        enrol(world.app, world.worker, "phone", secret=normalise_number("090-1234-5678"), label="末尾5678")
        return "+819012345678"  # as a provider sends the caller's number

    def route_request(self, world, method, path):
        return {"data": {"CallSid": "CAcontract0001", "From": "+819012345678", "To": "+81312340000"}}
