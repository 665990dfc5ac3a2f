"""The face plugin passes the device plugin contract (portal.devices.testing). It resolves no credentials
(its route names the worker it recognised), so the kit sends worker IDs where it needs a known worker."""
from __future__ import annotations

import ccus_face
from portal.devices.testing import DevicePluginContract


class TestFaceContract(DevicePluginContract):
    plugin = ccus_face
    routes = [("POST", "/api/v1/face/events")]
