"""The QR plugin passes the device plugin contract (portal.devices.testing): a gate scanner posts the worker's
signed QR as the credential; the kiosk's token route authenticates by device key."""
from __future__ import annotations

from ccus_qr import plugin, tokens
from portal.devices.testing import DevicePluginContract


class TestQrContract(DevicePluginContract):
    plugin = plugin
    routes = [("GET", "/api/v1/qr/site-token")]

    def known_credential(self, world):
        return tokens.sign_worker(tokens.qr_key(world.app.config), world.worker.worker_id)
