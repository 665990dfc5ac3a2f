"""The hook contract of device plugins (pluggy project ``ccus``, entry-point group ``ccus.devices``).

A device plugin translates what a device sees (a card UID, a face, a phone call, a QR payload) into a core
event; the core alone stores events and derives work history. The hook docstrings are the documentation a vendor
reads (a meta-test checks every hook has one); plugins import these names from :mod:`portal.devices`.

- callers pass arguments by keyword; arguments are added, never removed or renamed;
- an implementation may accept only the arguments it needs (pluggy's opt-in arguments);
- ``ccus_resolve_worker`` is the only firstresult hook: one credential names one worker.

Installed is not enabled: which device types a site uses is data (a Device row bound to the site).
This module imports nothing of the core: the core's plugin host (portal.devices.host) imports it.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import pluggy

PROJECT = "ccus"
ENTRY_POINT_GROUP = "ccus.devices"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclasses.dataclass(frozen=True)
class DeviceType:
    """What a plugin declares about one device type.

    code: stable machine name stored on Device rows and events (``cardreader``, ``face`` …).
    label: Japanese label shown on screens.
    mark: the mark it leaves in a monthly calendar (IC, 顔, 電話, QR …).
    settings_schema: JSON schema of the per-device settings an administrator may set (the 機器の設定 screen
    validates against it).
    direct_worker_ids: whether a device of this type may name workers by 技能者ID when it posts to the core's
    POST /api/v1/events (API 1.0). False for a type whose key sits where anyone can read it (a QR kiosk): its
    key then posts only credentials its plugin resolves. Whatever this says, a device's key posts only events of
    its own type (method) for its own site; the plugin's own routes, which check who is there, are not limited.
    """

    code: str
    label: str
    mark: str
    settings_schema: dict[str, Any] = dataclasses.field(default_factory=dict)
    direct_worker_ids: bool = True


class DeviceSpec:
    """Hook specifications. Implement them with ``@hookimpl`` in a module named by an entry point in the
    ``ccus.devices`` group."""

    @hookspec
    def ccus_device_types(self) -> list[DeviceType]:
        """Return the device types this plugin provides (a list of :class:`DeviceType`).

        Called once at start-up; the codes must be unique across installed plugins (a clash is logged and the
        later plugin's type skipped)."""

    @hookspec
    def ccus_register_routes(self, app) -> None:
        """Register the blueprints a device needs on ``app`` (a telephony webhook, a kiosk page, an
        enrolment screen). Device routes authenticate devices by their API key, never by a browser login."""

    @hookspec(firstresult=True)
    def ccus_resolve_worker(self, device, credential: str, session):
        """Return the 14-digit worker ID (str) that ``credential`` belongs to, or None if this plugin does
        not know it.

        ``device`` is a :class:`portal.devices.DeviceRef` of the device the event came from (its ``device_type``
        tells which plugin should answer; ignore credentials of other types). ``session`` is the core's session
        of the batch (since API 1.0 a plugin needs it only to pass it on; :func:`portal.devices.find_worker`
        does the lookup). A credential no plugin resolves is still stored, as a not-counted event; a plugin
        that raises here is logged and treated as not knowing the credential.

        To refuse a credential (forged, expired, revoked, replayed, not alive …) return
        :class:`portal.devices.Refused` ``(code)`` or raise :class:`portal.devices.CredentialRefused` ``(code)``:
        the event is kept for the audit as refused, never counted, and the device is answered ``rejected`` with
        the code (portal.devices.refusals.REASONS lists the stable codes)."""

    @hookspec
    def ccus_event_recorded(self, event) -> None:
        """Called after the core stored an event (notifications, temperature logs) with a
        :class:`portal.devices.EventRef`. Should not raise: the core wraps each implementation so one failing
        plugin cannot block the others."""


def device_types(pm: pluggy.PluginManager) -> dict[str, DeviceType]:
    """All installed device types by code; the first registration of a code wins. A plugin whose
    ccus_device_types raises is logged and provides no type (it cannot take the portal down)."""
    import logging

    log = logging.getLogger("portal.devices")
    found: dict[str, DeviceType] = {}
    for impl in pm.hook.ccus_device_types.get_hookimpls():  # registration order: the first plugin wins
        try:
            types = impl.function()
        except Exception:  # noqa: BLE001
            log.exception("ccus_device_types of %s failed", impl.plugin_name)
            continue
        for t in types or []:
            if t.code in found:
                log.warning("device type %s declared twice; keeping the first", t.code)
                continue
            found[t.code] = t
    return found
