"""The core's side of the device plugin contract: loading the installed plugins into one app's plugin manager and
calling their hooks so that a failing plugin is logged and skipped, never takes the portal down.

Plugins never import this module (they import :mod:`portal.devices`); it imports the contract and the core's own
``api`` device type, so neither of those imports it back.
"""
from __future__ import annotations

import logging
from importlib.metadata import entry_points

import pluggy

from portal.devices import core as core_devices
from portal.devices.refusals import CredentialRefused
from portal.devices.contract import ENTRY_POINT_GROUP, PROJECT, DeviceSpec, device_types

log = logging.getLogger("portal.devices")  # the name operators filter on since the first release

__all__ = ["make_plugin_manager", "device_types", "register_routes", "resolve_worker", "notify_event_recorded",
           "installed_plugins"]


def make_plugin_manager(load_entry_points: bool = True, plugins: list | None = None) -> pluggy.PluginManager:
    """Build a plugin manager for one app. Never at import time: plugins loaded at import leak into tests."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(DeviceSpec)
    pm.register(core_devices, name="ccus.core")  # the core's own device type, a plugin of the same contract
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


def _call(impl, **kwargs):
    return impl.function(**{name: kwargs[name] for name in impl.argnames})


def register_routes(pm: pluggy.PluginManager, app) -> None:
    """Let each plugin register its routes; a plugin that fails here is logged and unregistered, so a broken
    plugin never takes the portal down."""
    for impl in pm.hook.ccus_register_routes.get_hookimpls():
        try:
            _call(impl, app=app)
        except Exception:  # noqa: BLE001
            log.exception("device plugin %s failed to register its routes; disabled", impl.plugin_name)
            pm.unregister(name=impl.plugin_name)


def resolve_worker(pm: pluggy.PluginManager, device, credential: str, session):
    """The first answer of ``ccus_resolve_worker`` (pluggy's order: last registered first); an implementation
    that raises is logged and counts as not knowing the credential, so one plugin cannot refuse a batch. A
    deliberate refusal (CredentialRefused) is the plugin's answer, returned as its Refused."""
    for impl in pm.hook.ccus_resolve_worker.get_hookimpls()[::-1]:
        try:
            found = _call(impl, device=device, credential=credential, session=session)
        except CredentialRefused as e:
            return e.refusal
        except Exception:  # noqa: BLE001
            log.exception("ccus_resolve_worker of %s failed", impl.plugin_name)
            continue
        if found is not None:
            return found
    return None


def notify_event_recorded(pm: pluggy.PluginManager, event) -> None:
    """Call ccus_event_recorded on each plugin separately: one raising implementation must not abort the
    call for the others."""
    for impl in pm.hook.ccus_event_recorded.get_hookimpls():
        try:
            _call(impl, event=event)
        except Exception:  # noqa: BLE001
            log.exception("ccus_event_recorded of %s failed", impl.plugin_name)


def installed_plugins(pm: pluggy.PluginManager) -> list[dict]:
    """Each registered plugin with its distribution's name and version and the device types it provides (the
    administrator's page of installed plugins)."""
    dists = {ep.name: ep.dist for ep in entry_points(group=ENTRY_POINT_GROUP)}
    rows = []
    for name, plugin in pm.list_name_plugin():
        dist = dists.get(name)
        impls = [i for i in pm.hook.ccus_device_types.get_hookimpls() if i.plugin is plugin]
        types = [t.code for impl in impls for t in (impl.function() or [])]
        rows.append({"name": name, "distribution": dist.metadata["Name"] if dist else "ccus-portal",
                     "version": dist.version if dist else None, "device_types": types})
    return rows
