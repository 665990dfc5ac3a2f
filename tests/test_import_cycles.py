"""No two modules of the portal or its plugins import each other, at module level or inside functions (issue 10:
histories ↔ ingest_pg, ingest ↔ ingest_pg, devices ↔ core_devices, the QR kiosk ↔ its plugin module were such
circles). ``from package import submodule`` counts as importing the submodule only."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def modules() -> dict[str, Path]:
    found = {}
    for path in [*ROOT.glob("portal/**/*.py"), *ROOT.glob("plugins/*/ccus_*/*.py")]:
        parts = list(path.relative_to(ROOT).parts)
        parts = parts[2:] if parts[0] == "plugins" else parts
        found[".".join(parts)[:-3].removesuffix(".__init__")] = path
    return found


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in mods]
                targets = subs + ([node.module] if len(subs) < len(node.names) else [])
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in mods and t != name}
    return graph


def test_no_two_modules_import_each_other():
    graph = import_graph()
    assert {"portal.history.histories", "portal.ingest.pg", "portal.devices", "ccus_qr.kiosk"} <= set(graph)
    pairs = sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if a in graph[b]})
    assert pairs == [], pairs


def test_the_named_circles_are_gone():
    graph = import_graph()
    for a, b in [("portal.history.histories", "portal.ingest.pg"), ("portal.ingest", "portal.ingest.pg"),
                 ("portal.devices.contract", "portal.devices.core"), ("ccus_qr.kiosk", "ccus_qr.plugin")]:
        assert not (b in graph[a] and a in graph[b]), (a, b)
    assert "portal.devices.host" not in graph["portal.devices"] | graph["portal.devices.contract"]


# The stages of the data path by their modules (tools/relayout.py puts each stage in a package of its own: a
# name here covers the modules under it). Events flow device → ingest → history → output; ingest calls history
# to derive the rows and output reads them, never the other way round.
INGEST = ("portal.ingest", "portal.ingest.pg", "portal.ingest.batch_json")
HISTORY = ("portal.history.histories", "portal.history.shifts", "portal.history.roster_changes", "portal.history.corrections", "portal.history.day_locks")
OUTPUT = ("portal.output.site_board", "portal.output.work_calendar", "portal.output.evaluation", "portal.output.jobs", "portal.output.dashboards",
          "portal.output.display", "portal.output.day_notes")


def in_stage(module: str, stage: tuple[str, ...]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in stage)


def test_the_data_path_is_imported_one_way_only():
    graph = import_graph()
    backwards = {(a, b) for a in graph for b in graph[a] if
                 (in_stage(a, HISTORY) and (in_stage(b, INGEST) or in_stage(b, OUTPUT)))
                 or (in_stage(a, OUTPUT) and in_stage(b, INGEST))
                 or (in_stage(a, INGEST) and in_stage(b, OUTPUT))}
    assert sum(in_stage(m, HISTORY) for m in graph) >= 5 and sum(in_stage(m, OUTPUT) for m in graph) >= 7
    assert backwards == set(), sorted(backwards)
