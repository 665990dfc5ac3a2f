"""Meta-tests of the device contract: the in-repo plugins load through their entry points, every hook is
documented, a broken plugin is logged and skipped, a misspelled hook fails at start-up."""
from __future__ import annotations

import inspect
import logging
import sys
import tomllib
from pathlib import Path

import pluggy
import pytest

from portal import devices
from portal.devices import host as plugin_host

ROOT = Path(__file__).resolve().parent.parent


def in_repo_plugins() -> dict[str, str]:
    """Entry point name → module, from every plugins/*/pyproject.toml."""
    found = {}
    for pyproject in sorted(ROOT.glob("plugins/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        found.update(project.get("entry-points", {}).get(devices.ENTRY_POINT_GROUP, {}))
    return found


def test_every_in_repo_plugin_loads_through_its_entry_point(caplog):
    expected = in_repo_plugins()
    assert {"cardreader", "qr"} <= set(expected)
    with caplog.at_level(logging.ERROR, logger="portal.devices"):
        pm = plugin_host.make_plugin_manager()
    assert not caplog.records, [r.getMessage() for r in caplog.records]  # nothing was skipped
    pm.check_pending()
    for name, module in expected.items():
        plugin = pm.get_plugin(name)
        assert plugin is not None, f"plugin {name} ({module}) is not installed: pip install -e plugins/…"
        assert plugin.__name__ == module
    codes = devices.device_types(pm)
    assert {"api", "cardreader", "qr"} <= set(codes)
    assert all(t.label and t.mark and not t.label.isascii() or t.code == "api" for t in codes.values())


def hookspecs() -> list:
    return [f for name, f in inspect.getmembers(devices.DeviceSpec, inspect.isfunction) if name.startswith("ccus_")]


def test_every_hook_is_documented():
    specs = hookspecs()
    assert {f.__name__ for f in specs} >= {"ccus_device_types", "ccus_register_routes", "ccus_resolve_worker",
                                           "ccus_event_recorded"}
    for f in specs:
        doc = inspect.getdoc(f) or ""
        assert len(doc) > 40, f"{f.__name__} needs a docstring: its docstring is the contract a vendor reads"
        for arg in list(inspect.signature(f).parameters)[1:]:
            assert arg in doc, f"{f.__name__}: argument {arg!r} is not described"
    pm = plugin_host.make_plugin_manager(load_entry_points=False)
    assert {name for name in dir(pm.hook) if name.startswith("ccus_")} == {f.__name__ for f in specs}


@pytest.fixture
def broken_distribution(tmp_path, monkeypatch):
    """A real installed distribution (a .dist-info on sys.path) whose entry point module raises on import."""
    (tmp_path / "ccus_broken_plugin.py").write_text("raise RuntimeError('this plugin is broken')\n")
    info = tmp_path / "ccus_broken_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ccus-broken-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{devices.ENTRY_POINT_GROUP}]\nbroken = ccus_broken_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "broken"
    sys.modules.pop("ccus_broken_plugin", None)


def test_a_broken_plugin_is_logged_and_skipped(broken_distribution, caplog):
    from importlib.metadata import entry_points

    assert broken_distribution in {ep.name for ep in entry_points(group=devices.ENTRY_POINT_GROUP)}
    with caplog.at_level(logging.ERROR, logger="portal.devices"):
        pm = plugin_host.make_plugin_manager()
    [record] = [r for r in caplog.records if "broken" in r.getMessage()]
    assert "skipped" in record.getMessage() and "this plugin is broken" in record.exc_text
    assert pm.get_plugin(broken_distribution) is None
    assert {"cardreader", "qr"} <= set(devices.device_types(pm))  # the others still load


def test_a_broken_plugin_does_not_take_the_portal_down(broken_distribution, app):
    assert "cardreader" in devices.device_types(app.extensions["ccus_plugins"])


class Misspelled:
    @devices.hookimpl
    def ccus_resolve_wroker(self, device, credential):  # a typo: would silently never be called
        return "30154216388821"


def test_a_misspelled_hook_fails_at_start_up():
    with pytest.raises(pluggy.PluginValidationError, match="ccus_resolve_wroker"):
        plugin_host.make_plugin_manager(load_entry_points=False, plugins=[Misspelled()])
