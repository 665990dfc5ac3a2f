"""A new device plugin written from docs/plugins.md's example alone, pip-installed into this environment (no
network: --no-index --no-build-isolation --no-deps), is loaded by the portal, records its events through its own
route, and passes the contract kit in its own folder (issue 10)."""
from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```\w+ file=(\S+)\n(.*?)^```", re.M | re.S)


def example_files() -> dict[str, str]:
    """The files of the documentation's example: its fenced blocks marked ``file=<path>``."""
    return {path: text for path, text in BLOCK.findall((ROOT / "docs" / "plugins.md").read_text())}


def pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def badge_plugin(tmp_path):
    """The example written into a folder and installed; uninstalled afterwards (the environment is shared)."""
    folder = tmp_path / "ccus-badge"
    files = example_files()
    assert {"pyproject.toml", "ccus_badge/__init__.py", "tests/conftest.py"} <= set(files)
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    done = pip("install", "--no-index", "--no-build-isolation", "--no-deps", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    importlib.invalidate_caches()
    try:
        yield folder
    finally:
        pip("uninstall", "-y", "ccus-badge")
        sys.modules.pop("ccus_badge", None)
        importlib.invalidate_caches()


def test_the_documented_example_installs_loads_and_records(badge_plugin, demo_app, tmp_path):
    from portal.devices.testing import enrol, events_of, register_device, rostered_worker
    from portal.demo.testing import make_app

    app = make_app(demo_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "instance-badge")  # loads entry points
    app.logins = demo_app.logins
    pm = app.extensions["ccus_plugins"]
    plugin = pm.get_plugin("badge")
    assert plugin is not None and Path(plugin.__file__).parent.parent != badge_plugin  # the installed copy
    from portal.devices import device_types

    assert device_types(pm)["badge"].label == "社員証リーダー"
    site, worker = rostered_worker(app)
    device, key = register_device(app, site, "badge")
    enrol(app, worker, "badge", secret="B-0009")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {key}"}
    r = client.post("/api/v1/badge/reads", json={"badge": "b-0009", "read_id": "r-9"}, headers=auth)
    assert r.status_code == 200 and r.get_json()["result"] == "accepted", r.get_data(as_text=True)
    again = client.post("/api/v1/badge/reads", json={"badge": "b-0009", "read_id": "r-9"}, headers=auth)
    assert again.get_json()["result"] == "duplicate"
    stranger = client.post("/api/v1/badge/reads", json={"badge": "nobody", "read_id": "r-10"}, headers=auth)
    assert stranger.get_json()["result"] == "accepted"
    assert client.post("/api/v1/badge/reads", json={"badge": "b-0009", "read_id": "r-11"}).status_code == 401
    events = events_of(app, device)
    assert [(e.device_event_id, e.worker_id, e.method) for e in events] == [
        ("r-9", worker.worker_id, "証"), ("r-10", None, "証")]


def test_the_example_passes_the_contract_kit_in_its_own_folder(badge_plugin):
    """The vendor's view: pytest in the plugin's folder, with only the kit (no conftest of this repository)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "CCUS_TEST_DEMO_WORKERS": "12"}
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                          cwd=badge_plugin, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"\b7 passed\b", done.stdout), done.stdout[-2000:]
