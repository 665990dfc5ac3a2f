"""The card reader plugin passes the device plugin contract (portal.devices.testing)."""
from __future__ import annotations

from ccus_cardreader import plugin
from portal.devices.testing import DevicePluginContract, enrol

CARD = "04A1B2C3D4E5F6"


class TestCardReaderContract(DevicePluginContract):
    plugin = plugin
    routes = []  # a reader posts to the core's POST /api/v1/events (its agent's outbox)

    def known_credential(self, world):
        enrol(world.app, world.worker, "cardreader", secret=CARD, label="ICカード（末尾 E5F6）")
        return "04:a1:b2:c3:d4:e5:f6"  # as a reader may send it: the plugin normalises
