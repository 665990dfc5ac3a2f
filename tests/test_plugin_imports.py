"""The device plugins in this repository use only the public plugin API: a plugin's package imports nothing of
``portal`` but :mod:`portal.devices`, so a refactoring of the core cannot break it (issue 10)."""
from __future__ import annotations

import ast
from pathlib import Path

import portal.devices

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = {"portal.devices", "portal.devices.testing"}  # the API and the contract test kit


def portal_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of a ``portal`` module in a Python file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "portal"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "portal":
            if node.module == "portal":  # from portal import x: x is a module of the core
                found += [(node.lineno, f"portal.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def plugin_files(*, tests: bool) -> list[Path]:
    return sorted(p for p in ROOT.glob("plugins/*/**/*.py")
                  if ".egg-info" not in str(p) and (p.relative_to(ROOT).parts[2] == "tests") == tests)


def test_plugin_packages_import_only_the_public_api():
    files = plugin_files(tests=False)
    assert len(files) > 20  # the four plugins' packages were found
    offending = [f"{p.relative_to(ROOT)}:{line}: {module}" for p in files for line, module in portal_imports(p)
                 if module not in PUBLIC]
    assert not offending, "plugins may import only portal.devices:\n" + "\n".join(offending)


def test_the_check_catches_an_internal_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from portal.models import Worker\n    from portal import ingest\n"
                   "from portal.devices import hookimpl\n")
    assert [m for _l, m in portal_imports(bad) if m not in PUBLIC] == ["portal.models", "portal.ingest"]


def test_every_public_name_is_there():
    for name in portal.devices.__all__:
        assert getattr(portal.devices, name) is not None, name


def test_role_names_are_the_cores():
    from portal import scoping

    for name in ("ROLE_ADMIN", "ROLE_EMPLOYER", "ROLE_SITE_MANAGER", "ROLE_WORKER"):
        assert getattr(portal.devices, name) == getattr(scoping, name)
