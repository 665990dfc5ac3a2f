"""Move portal's top-level modules into the packages of the data path (docs/architecture.md) and rewrite every
reference to them, repo-wide. Idempotent: a second run finds nothing to move and nothing to rewrite, so it can be
run again on a tree that has other changes (after merging branches written against the old layout).

    python3 tools/relayout.py            # move and rewrite; prints what it did and how long it took
    python3 tools/relayout.py --check    # only report: exit 1 if something is still to move or to rewrite

What it rewrites, in every file git knows (tracked or new, not ignored) but this script and bench/results/:
``from portal import a, b`` statements (split per new package, ``as`` keeps the old local name where a module
was renamed), dotted names (``portal.ingest_pg`` in imports, strings, monkeypatch targets, logger names,
entry points, docs), file paths (``portal/ingest_pg.py``), and the few ``__file__``-relative paths of moved
modules. It needs only Python 3.11 and git (no project import: it runs on a broken tree too).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# old module (portal/<old>.py) -> new module path under portal/ (without .py). A module that becomes the package
# of the same name goes to <name>/__init__ (its dotted name does not change).
MOVES: dict[str, str] = {
    # app/: the application's infrastructure (create_app itself stays in portal/__init__.py)
    "config": "app/config", "db": "app/db", "errors": "app/errors", "http_headers": "app/http_headers",
    "i18n": "app/i18n", "clock": "app/clock", "ids": "app/ids", "migrate": "app/migrate", "wsgi": "app/wsgi",
    "cli": "app/cli", "cli_devices": "app/cli_devices", "cli_reports": "app/cli_reports",
    "list_guards": "app/list_guards", "api_spec": "app/api_spec",
    # people/: who may do what: roles, scope, disclosure, accounts, the structure of employers and sites
    "security": "people/security", "scoping": "people/scoping", "rules": "people/rules",
    "validation": "people/validation", "passwords": "people/passwords", "password_policy": "people/password_policy",
    "login_limits": "people/login_limits", "audit": "people/audit", "disclosure": "people/disclosure",
    "structure": "people/structure", "worker_requests": "people/worker_requests", "codes": "people/codes",
    "glossary": "people/glossary", "offers": "people/offers", "safety_data": "people/safety_data",
    # devices/: the public plugin API (already there) and the core's side of devices
    "plugin_host": "devices/host", "core_devices": "devices/core", "device_admin": "devices/keys",
    "device_settings": "devices/settings", "posting_rules": "devices/posting", "credentials": "devices/credentials",
    "enrolment": "devices/enrolment", "refusals": "devices/refusals",
    # ingest/: the one write path (the package itself) and its parts
    "ingest": "ingest/__init__", "ingest_pg": "ingest/pg", "batch_json": "ingest/batch_json",
    # history/: 就業履歴 derived from the events, and everything that changes it
    "histories": "history/histories", "shifts": "history/shifts", "roster_changes": "history/roster_changes",
    "corrections": "history/corrections", "day_locks": "history/day_locks",
    # output/: what screens and reports show (views/ and reports/ use them)
    "site_board": "output/site_board", "work_calendar": "output/work_calendar", "evaluation": "output/evaluation",
    "jobs": "output/jobs", "dashboards": "output/dashboards", "display": "output/display",
    "day_notes": "output/day_notes",
    # demo/: the demo data (the package itself), its events, the shared pytest fixtures
    "demo": "demo/__init__", "histories_demo": "demo/histories", "testing": "demo/testing",
}

PACKAGES: dict[str, str] = {  # docstrings of the new packages' __init__.py
    "app": "The application's infrastructure: configuration, database handle, errors, HTTP headers, translations, "
           "clock, identifiers,\nmigrations, the WSGI server and the ``ccus`` command (create_app itself is "
           "``portal.create_app``).",
    "people": "Who may do what: roles and security, row-level scope and its rules, disclosure, passwords and "
              "login limits, the\naudit trail, the structure of employers and sites, workers' requests, code "
              "tables and the glossary.",
    "history": "就業履歴: one row per worker, site and work day derived from the stored events "
               "(``histories``), and what changes\nit: shifts across midnight, roster changes, corrections, "
               "the per worker-day locks.",
    "output": "What the screens and reports show: the site board, the monthly calendar and why a day does not "
              "count (``day_notes``),\n能力評価, the dashboards, report jobs, how a value reads on a screen "
              "(``display``).",
}

# __file__-relative paths of moved modules: one directory deeper now (exact texts: a second run finds none).
PATH_FIXES: dict[str, list[tuple[str, str]]] = {
    "app/i18n": [('Path(__file__).parent / "translations"', 'Path(__file__).parent.parent / "translations"')],
    "app/migrate": [('Path(__file__).resolve().parent.parent / "migrations"',
                     'Path(__file__).resolve().parent.parent.parent / "migrations"')],
    "demo/testing": [('Path(__file__).resolve().parent.parent / "test-artifacts"',
                      'Path(__file__).resolve().parent.parent.parent / "test-artifacts"')],
}

SKIP = ("tools/relayout.py", "bench/results/")
TEXT_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".ini", ".txt", ".sh", ".html", ".jinja", ".j2", ".mako", ".yml",
                 ".yaml", ".json", ".in", ""}


def dotted(new: str) -> str:
    return "portal." + new.removesuffix("/__init__").replace("/", ".")


# old dotted name -> new dotted name (modules that become their own package keep their name: not listed)
RENAMES = {f"portal.{old}": dotted(new) for old, new in MOVES.items() if dotted(new) != f"portal.{old}"}
DOTTED = re.compile(r"(?<![\w.\-])portal\.(" + "|".join(sorted((k[7:] for k in RENAMES), key=len, reverse=True))
                    + r")(?!\w)")
PATHS = re.compile(r"(?<![\w.\-])portal/(" + "|".join(sorted(MOVES, key=len, reverse=True)) + r")\.py(?!\w)")
FROM_PORTAL = re.compile(r"^(?P<indent>[ \t]*)from portal import (?P<names>\([^)]*\)|[^\n#()]*[^\s#()])"
                         r"(?P<comment>[ \t]*#[^\n]*)?$", re.M)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def rewrite_from_portal(match: re.Match) -> str:
    """``from portal import a, b as c`` → one statement per package the names now live in."""
    names = match["names"].strip("()")
    items = [n.split("#")[0].strip() for n in re.split(r",|\n", names)]
    groups: dict[str, list[str]] = {}
    for item in filter(None, (i.strip() for i in items)):
        name, _, alias = (p.strip() for p in item.partition(" as "))
        new = MOVES.get(name)
        if new is None or dotted(new) == f"portal.{name}":  # not moved, or moved into its own package
            groups.setdefault("portal", []).append(item)
            continue
        package, _, module = dotted(new).rpartition(".")
        local = alias or name
        groups.setdefault(package, []).append(module if module == local else f"{module} as {local}")
    if list(groups) == ["portal"]:
        return match[0]
    indent, comment = match["indent"], match["comment"] or ""
    lines = [f"{indent}from {package} import {', '.join(items)}" for package, items in groups.items()]
    lines[0] += comment
    return "\n".join(lines)


def rewrite(text: str) -> str:
    text = FROM_PORTAL.sub(rewrite_from_portal, text)
    text = DOTTED.sub(lambda m: RENAMES[f"portal.{m[1]}"], text)
    return PATHS.sub(lambda m: f"portal/{MOVES[m[1]]}.py", text)


def files() -> list[Path]:
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    return [ROOT / p for p in sorted(set(listed)) if p and not p.startswith(SKIP)
            and Path(p).suffix in TEXT_SUFFIXES and (ROOT / p).is_file()]


def moves_to_do() -> list[tuple[Path, Path]]:
    todo = []
    for old, new in MOVES.items():
        source, target = ROOT / "portal" / f"{old}.py", ROOT / "portal" / f"{new}.py"
        if source.exists() and target.exists():
            sys.exit(f"both {source.relative_to(ROOT)} and {target.relative_to(ROOT)} exist: merge the old file's "
                     "changes into the new one by hand (git diff), delete the old one, then run this again")
        if source.exists():
            todo.append((source, target))
    return todo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report what is left to do")
    check = parser.parse_args().check
    started = time.monotonic()
    todo = moves_to_do()
    packages = [ROOT / "portal" / p / "__init__.py" for p in PACKAGES if not (ROOT / "portal" / p / "__init__.py").exists()]
    if not check:
        for init in packages:
            init.parent.mkdir(exist_ok=True)
            init.write_text(f'"""{PACKAGES[init.parent.name]}"""\n')
            git("add", str(init))
        for source, target in todo:
            target.parent.mkdir(exist_ok=True)
            if git("ls-files", str(source)).strip():
                git("mv", str(source), str(target))
            else:  # a new, untracked module
                source.rename(target)
        for new, fixes in PATH_FIXES.items():
            path = ROOT / "portal" / f"{new}.py"
            if path.exists():
                text = path.read_text()
                for before, after in fixes:
                    text = text.replace(before, after)
                path.write_text(text)
    changed = []
    for path in files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        new = rewrite(text)
        if new != text:
            changed.append(path.relative_to(ROOT))
            if not check:
                path.write_text(new)
    left = sorted(p.stem for p in (ROOT / "portal").glob("*.py") if p.stem != "__init__" and p.stem not in MOVES)
    verb = "to move" if check else "moved"
    print(f"{len(todo)} modules {verb}, {len(packages)} packages {'to create' if check else 'created'}, "
          f"{len(changed)} files {'to rewrite' if check else 'rewritten'} in {time.monotonic() - started:.1f} s")
    for path in changed:
        print(f"  {path}")
    if left:
        print("modules of portal/ this script does not place (add them to MOVES, or leave them):", ", ".join(left))
    return 1 if check and (todo or packages or changed) else 0


if __name__ == "__main__":
    sys.exit(main())
