"""Reproducible installs: constraints.txt pins every package the suite runs with (dev.sh installs with it), and
its pins satisfy the ranges every pyproject.toml of the repository declares (so that the lock can be refreshed
with ./dev.sh lock without leaving the ranges)."""
from __future__ import annotations

import os
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.once  # no database: the PostgreSQL pass of ./dev.sh test leaves it out

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"


def _pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = version
    return pins


def _own_projects() -> dict[str, dict]:
    found = {}
    for path in [ROOT / "pyproject.toml", *sorted(ROOT.glob("plugins/*/pyproject.toml"))]:
        project = tomllib.loads(path.read_text())["project"]
        found[canonicalize_name(project["name"])] = project
    return found


def _requirements():
    for name, project in _own_projects().items():
        yield from ((name, Requirement(r)) for r in project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            yield from ((name, Requirement(r)) for r in extra)


def test_every_declared_dependency_is_pinned_inside_its_range():
    pins, own = _pins(), set(_own_projects())
    problems = []
    for project, req in _requirements():
        name = canonicalize_name(req.name)
        if name in own:
            continue
        if name not in pins:
            problems.append(f"{project}: {req} is not in constraints.txt")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{project}: {req} does not admit the pinned {pins[name]}")
    assert problems == []


@pytest.mark.skipif(bool(os.environ.get("CCUS_UNLOCKED")), reason="./dev.sh test-latest runs unpinned on purpose")
def test_the_environment_is_the_lock():
    """What the tests run with is what constraints.txt says: nothing unpinned, nothing at another version."""
    pins, own = _pins(), set(_own_projects())
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    differ = {n: (v, pins.get(n)) for n, v in installed.items() if n not in own and pins.get(n) != v}
    assert differ == {}, "installed version vs constraints.txt (./dev.sh lock refreshes the lock)"


def test_the_pin_check_sees_a_version_outside_the_range():
    assert not Requirement("marshmallow>=3.20,<4").specifier.contains("4.0.0")
    assert "marshmallow" in _pins() and _pins()["marshmallow"].startswith("3.")
