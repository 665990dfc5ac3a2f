"""The device plugins in this repository use only the public plugin API: a plugin's package and its tests import
nothing of ``portal`` but :mod:`portal.devices` (the names of its ``__all__``) and the contract test kit
:mod:`portal.devices.testing`, so a refactoring of the core cannot break them (issue 10)."""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import portal.devices

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = {"portal.devices", "portal.devices.testing"}  # the API and the contract test kit
API = set(portal.devices.__all__) | {"testing"}  # what ``from portal.devices import x`` may name


def imports_in(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import of a ``portal`` module in a syntax tree, at any depth, and in a string
    constant that is a script (a test's server process). ``from portal.devices import x`` with x not in the
    API counts as importing portal.devices.x: the core's own device modules may live under portal.devices."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "portal"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "portal":
            if node.module == "portal":  # from portal import x: x is a module of the core
                found += [(node.lineno, f"portal.{a.name}") for a in node.names]
            elif node.module == "portal.devices":
                found += [(node.lineno, "portal.devices" if a.name in API else f"portal.devices.{a.name}")
                          for a in node.names]
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "import" in node.value:
            try:
                script = ast.parse(textwrap.dedent(node.value))
            except SyntaxError:
                continue
            found += [(node.lineno, module) for _line, module in imports_in(script)]
    return found


def portal_imports(path: Path) -> list[tuple[int, str]]:
    return imports_in(ast.parse(path.read_text(), str(path)))


def plugin_files(*, tests: bool) -> list[Path]:
    return sorted(p for p in ROOT.glob("plugins/*/**/*.py")
                  if ".egg-info" not in str(p) and (p.relative_to(ROOT).parts[2] == "tests") == tests)


def offending(files: list[Path]) -> list[str]:
    return [f"{p.relative_to(ROOT)}:{line}: {module}" for p in files for line, module in portal_imports(p)
            if module not in PUBLIC]


def test_plugin_packages_import_only_the_public_api():
    files = plugin_files(tests=False)
    assert len(files) > 20  # the four plugins' packages were found
    bad = offending(files)
    assert not bad, "plugins may import only portal.devices:\n" + "\n".join(bad)


def test_plugin_tests_import_only_the_public_api_and_the_kit():
    files = plugin_files(tests=True)
    assert len(files) > 20 and any(p.name == "conftest.py" for p in files)  # tests, conftests and helpers
    bad = offending(files)
    assert not bad, "plugin tests may import only portal.devices and portal.devices.testing:\n" + "\n".join(bad)


def test_the_check_catches_an_internal_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from portal.models import Worker\n    from portal import ingest\n"
                   "from portal.devices import hookimpl, testing\n"
                   "from portal.devices import credentials\n"
                   "import portal.devices.testing\n"
                   'SCRIPT = """\n    import sys\n    from portal.app.db import db\n"""\n')
    assert sorted(m for _l, m in portal_imports(bad) if m not in PUBLIC) == [
        "portal.app.db", "portal.devices.credentials", "portal.ingest", "portal.models"]


def test_every_public_name_is_there():
    for name in portal.devices.__all__:
        assert getattr(portal.devices, name) is not None, name


def test_role_names_are_the_cores():
    from portal.people import scoping

    for name in ("ROLE_ADMIN", "ROLE_EMPLOYER", "ROLE_SITE_MANAGER", "ROLE_WORKER"):
        assert getattr(portal.devices, name) == getattr(scoping, name)
