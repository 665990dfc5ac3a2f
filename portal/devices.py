"""The entry/exit device contract (pluggy project ``ccus``, entry-point group ``ccus.devices``).

A device plugin translates what a device sees (a card UID, a face, a phone call, a QR payload) into a core
event; the core alone stores events and derives work history (portal.ingest). This module is the contract:
its hook docstrings are the documentation a vendor reads, and a meta-test checks every hook has one.

Stability rules (a plugin written today must still load next year):
- callers pass arguments by keyword; arguments are added, never removed or renamed;
- an implementation may accept only the arguments it needs (pluggy's opt-in arguments);
- ``ccus_resolve_worker`` is the only firstresult hook: one credential names one worker.

Installed is not enabled: which device types a site uses is data (a Device row bound to the site).
"""
from __future__ import annotations

import dataclasses
import logging
from importlib.metadata import entry_points
from typing import Any

import pluggy

PROJECT = "ccus"
ENTRY_POINT_GROUP = "ccus.devices"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DeviceType:
    """What a plugin declares about one device type.

    code: stable machine name stored on Device rows and events (``cardreader``, ``face`` …).
    label: Japanese label shown on screens.
    mark: the mark it leaves in a monthly calendar (IC, 顔, 電話, QR …).
    settings_schema: JSON schema of the per-device settings an administrator may set.
    """

    code: str
    label: str
    mark: str
    settings_schema: dict[str, Any] = dataclasses.field(default_factory=dict)


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

        ``device`` is the Device row the event came from (its ``device_type`` tells which plugin should
        answer; ignore credentials of other types). ``session`` is a SQLAlchemy session already scoped to the
        device's site. A credential no plugin resolves is still stored, as a not-counted event.

        To refuse a credential (forged, expired, revoked, replayed, not alive …) return
        ``portal.refusals.Refused(code)`` or raise ``portal.refusals.CredentialRefused(code)``: the event is kept
        for the audit as refused, never counted, and the device is answered ``rejected`` with the code."""

    @hookspec
    def ccus_event_recorded(self, event) -> None:
        """Called after the core stored an event (notifications, temperature logs). Must not raise:
        the core wraps each implementation so one failing plugin cannot block the others."""


def make_plugin_manager(load_entry_points: bool = True, plugins: list | None = None) -> pluggy.PluginManager:
    """Build a plugin manager for one app. Never at import time: plugins loaded at import leak into tests."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(DeviceSpec)
    from portal import core_devices  # the core's own device type `api`, written as a plugin of the same contract

    pm.register(core_devices, name="ccus.core")
    if load_entry_points:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:  # one broken plugin is logged and skipped, never takes the portal down
                pm.register(ep.load(), name=ep.name)
            except Exception:  # noqa: BLE001
                log.exception("device plugin %s failed to load; skipped", ep.name)
    for plugin in plugins or []:
        pm.register(plugin)
    pm.check_pending()  # a misspelled hook name fails at start-up instead of doing nothing
    return pm


def device_types(pm: pluggy.PluginManager) -> dict[str, DeviceType]:
    """All installed device types by code; the first registration of a code wins."""
    found: dict[str, DeviceType] = {}
    for types in reversed(pm.hook.ccus_device_types()):  # pluggy calls last-registered first
        for t in types or []:
            if t.code in found:
                log.warning("device type %s declared twice; keeping the first", t.code)
                continue
            found[t.code] = t
    return found


def register_routes(pm: pluggy.PluginManager, app) -> None:
    """Let each plugin register its routes; a plugin that fails here is logged and unregistered, so a broken
    plugin never takes the portal down."""
    for impl in pm.hook.ccus_register_routes.get_hookimpls():
        try:
            impl.function(**{name: {"app": app}[name] for name in impl.argnames})
        except Exception:  # noqa: BLE001
            log.exception("device plugin %s failed to register its routes; disabled", impl.plugin_name)
            pm.unregister(name=impl.plugin_name)


def notify_event_recorded(pm: pluggy.PluginManager, event) -> None:
    """Call ccus_event_recorded on each plugin separately: one raising implementation must not abort the
    call for the others."""
    for impl in pm.hook.ccus_event_recorded.get_hookimpls():
        try:
            impl.function(**{name: {"event": event}[name] for name in impl.argnames})
        except Exception:  # noqa: BLE001
            log.exception("ccus_event_recorded of %s failed", impl.plugin_name)
