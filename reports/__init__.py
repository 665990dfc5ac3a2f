"""帳票 (the national system's forms 1-1 … 4-2): one module per report, a registry, shared writers.

A report module builds a :class:`reports.base.Report` (id, Japanese title, the parties of the guide's table
that may produce it, its filters, a ``build`` function that yields rows for a viewer) and calls
:func:`register`. Adding a report is one module appended to :data:`MODULES`.

Who may produce what is the guide's third column (reports.base.PARTY_ROLES maps its parties to roles); the
server checks it for every format and every job (:func:`allowed`). What a viewer gets is decided by its scope:
``build`` runs under ``using_scope(session, viewer.scope)``.
"""
from __future__ import annotations

import importlib

from portal.app.errors import DomainError
from reports.base import FORMATS, Report, Viewer, not_allowed  # noqa: F401

REGISTRY: dict[str, Report] = {}
MODULES = ["reports.form_1_1", "reports.form_1_2", "reports.form_1_3", "reports.form_1_4", "reports.form_2_1",
           "reports.form_2_2", "reports.form_2_3", "reports.form_2_4", "reports.form_3_1", "reports.form_3_2",
           "reports.form_3_3", "reports.form_4_1", "reports.form_4_2"]


def register(report: Report) -> Report:
    REGISTRY[report.id] = report
    return report


def load() -> dict[str, Report]:
    for name in MODULES:
        importlib.import_module(name)
    return REGISTRY


def get(report_id: str) -> Report:
    load()
    report = REGISTRY.get(report_id)
    if report is None:  # a 安全書類 (its jobs run on the same machinery; not on the 帳票 menu)
        from reports.safety.forms import REPORTS

        report = REPORTS.get(report_id)
    if report is None:
        raise DomainError("unknown_report", f"帳票NO「{report_id}」はありません。", 404)
    return report


def for_role(role: str) -> list[Report]:
    """The reports a role may produce, in the guide's order."""
    return [r for r in load().values() if r.allows(role)]


def allowed(report: Report, viewer: Viewer, fmt: str | None = None) -> None:
    """Raise 403 (Japanese message) unless the viewer's role may produce ``report`` (in ``fmt``)."""
    if fmt is not None and fmt not in FORMATS and fmt != "screen":
        raise DomainError("unknown_format", f"出力形式「{fmt}」はありません（CSV・Excel・PDFから選んでください）。", 400)
    if not report.allows(viewer.role):
        raise not_allowed(report)
