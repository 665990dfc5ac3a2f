"""安全書類の出力 (the forms of reports.safety) on screen: a menu of the viewer's sites and the companies of its
branch, and the files themselves. Every request is checked on the server (reports.safety.rules) whatever the
menu offered; the workers shown are written to the audit trail (export)."""
from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

from flask import after_this_request, g, request, send_file
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import func, select

from portal import audit, jobs
from portal.clock import tokyo_today
from portal.db import db
from portal.errors import DomainError
from portal.models import Employer, Site, SiteWorkerRegistration, StructureLink
from portal.scoping import ROLE_EMPLOYER as E, ROLE_SITE_MANAGER as M, current_scope
from portal.views.base import add
from reports.base import MEDIA_TYPES
from reports.safety import REVISION, induction, insurance, ledger, notice, notice_files, roster, roster_files, sheet, tree, tree_files
from reports.safety.rules import branch_of

FORMATS = [("xlsx", "Excel"), ("pdf", "PDF")]


def _viewer():
    return jobs.viewer_for(db.session, g.user, current_scope(db.session))


class SafetyFormsView(BaseView):
    route_base = "/safety"
    default_view = "menu"

    def _refused(self, e: DomainError):
        return self.render_template("safety/error.html", title="安全書類", message=e.message), e.status

    @expose("/")
    @has_access
    def menu(self):
        viewer = _viewer()
        scope, session = viewer.scope, db.session
        sites = session.execute(select(Site).order_by(Site.id)).scalars().all()
        listed = []
        for site in sites:
            ids = branch_of(scope, site.id) if not scope.is_all else None
            if ids is not None and not ids:
                continue
            stmt = select(Employer).order_by(Employer.id)
            companies = session.execute(stmt.where(Employer.id.in_(ids)) if ids is not None else stmt).scalars().all()
            firsts = set(session.execute(select(StructureLink.lower_employer_id).where(
                StructureLink.site_id == site.id, StructureLink.status == "承認済", StructureLink.ended_on.is_(None),
                StructureLink.upper_employer_id == site.prime_employer_id)).scalars())
            ledger_ok = scope.is_all or site.id in scope.prime_site_ids or scope.employer_id in firsts
            lineups = [c for c in companies if c.id in firsts]
            # 第7号 is offered for each company's latest 受入教育実施日 on the site
            inductions = dict(session.execute(select(
                SiteWorkerRegistration.employer_id, func.max(SiteWorkerRegistration.entry_education_on)).where(
                SiteWorkerRegistration.site_id == site.id).group_by(SiteWorkerRegistration.employer_id)).all())
            listed.append((site, companies, ledger_ok, lineups, inductions))
        return self.render_template("safety/menu.html", title="安全書類", sites=listed, formats=FORMATS,
                                    revision=f"全建統一様式 {REVISION}")

    def _produce(self, writers: dict, fmt: str, build, name):
        """One form: the format checked, the form built for the viewer (refusals answered in Japanese with their
        status), the file sent under ``name(made)``."""
        session = db.session
        if fmt not in writers:
            return self._refused(DomainError("unknown_format", f"出力形式「{fmt}」はありません（Excel・PDFから選んでください）。", 400))
        try:
            made = build(session, _viewer())
        except DomainError as e:
            session.rollback()
            return self._refused(e)
        return _send(made, writers[fmt], fmt, f"{name(made)}.{fmt}")

    @expose("/roster/<int:site_id>/<int:employer_id>.<fmt>")
    @has_access
    def roster(self, site_id, employer_id, fmt):
        def build(session, viewer):
            return _exported(roster.build(session, viewer, site_id, employer_id, tokyo_today()), roster.TITLE,
                             site_id, employer_id)

        return self._produce(roster_files.WRITERS, fmt, build,
                             lambda m: f"作業員名簿_{m.site_code}_{m.company_code}_{m.day:%Y%m%d}")

    @expose("/tree/<int:site_id>.<fmt>")
    @has_access
    def tree(self, site_id, fmt):
        return self._produce(tree_files.WRITERS, fmt,
                             lambda session, viewer: tree.build(session, viewer, site_id, tokyo_today()),
                             lambda m: f"施工体系図_{m.site_code}_{m.day:%Y%m%d}")

    @expose("/notice/<int:site_id>/<int:employer_id>.<fmt>")
    @has_access
    def notice(self, site_id, employer_id, fmt):
        """再下請負通知書; ``?changed_on=YYYY-MM-DD`` makes it the 変更届 of that date."""
        return self._produce(notice_files.WRITERS, fmt, lambda session, viewer: notice.build(
            session, viewer, site_id, employer_id, tokyo_today(), _date(request.args.get("changed_on"))),
            lambda m: f"再下請負通知書_{m.site_code}_{m.day:%Y%m%d}")

    @expose("/ledger/<int:site_id>.<fmt>")
    @has_access
    def ledger(self, site_id, fmt):
        """AZ1 施工体制台帳 (第3号)."""
        return self._produce(notice_files.WRITERS, fmt,
                             lambda session, viewer: ledger.build(session, viewer, site_id, tokyo_today()),
                             lambda m: f"施工体制台帳_{m.site_code}_{m.day:%Y%m%d}")

    @expose("/engineers/<int:site_id>.<fmt>")
    @has_access
    def engineers(self, site_id, fmt):
        """AZ3 施工体制台帳（工事担当技術者）."""
        return self._produce(sheet.WRITERS, fmt,
                             lambda session, viewer: ledger.engineers(session, viewer, site_id, tokyo_today()),
                             lambda m: m.file_name)

    @expose("/lineup/<int:site_id>/<int:employer_id>.<fmt>")
    @has_access
    def lineup(self, site_id, employer_id, fmt):
        """AZ4 下請負業者編成表 (第1号-乙) of a first-tier company."""
        return self._produce(tree_files.WRITERS, fmt, lambda session, viewer: tree.build(
            session, viewer, site_id, tokyo_today(), root_id=employer_id),
            lambda m: f"下請負業者編成表_{m.site_code}_{m.boxes[0].code}_{m.day:%Y%m%d}")

    @expose("/insurance/<int:site_id>/<int:employer_id>.<fmt>")
    @has_access
    def insurance(self, site_id, employer_id, fmt):
        """AZ7 社会保険加入状況."""
        return self._produce(sheet.WRITERS, fmt, lambda session, viewer: _exported(
            insurance.build(session, viewer, site_id, employer_id, tokyo_today()), insurance.TITLE, site_id,
            employer_id), lambda m: m.file_name)

    @expose("/induction/<int:site_id>/<int:employer_id>.<fmt>")
    @has_access
    def induction(self, site_id, employer_id, fmt):
        """第7号 新規入場時等教育実施報告書; ``?held_on=YYYY-MM-DD`` (default today) is the day of the 教育."""
        return self._produce(sheet.WRITERS, fmt, lambda session, viewer: _exported(induction.build(
            session, viewer, site_id, employer_id, _date(request.args.get("held_on"), "実施日") or tokyo_today(),
            tokyo_today()), induction.TITLE, site_id, employer_id), lambda m: m.file_name)


def _exported(made, title: str, site_id: int, employer_id: int):
    """The trail: these workers' items left in a file."""
    for worker_id in made.worker_pks:
        audit.touched(worker_id, f"安全書類 {title}", f"{site_id}-{employer_id}", action=audit.EXPORT)
    return made


def _date(value, label: str = "変更年月日"):
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise DomainError("invalid_date", f"{label}はYYYY-MM-DDの形式で指定してください（入力値: {value}）。", 400) from None


def _send(made, writer, fmt: str, name: str):
    """Write the form to a temporary file, send it, remove it."""
    folder = Path(tempfile.mkdtemp(prefix="ccus-safety-"))
    path = folder / f"form.{fmt}"
    writer(path, made)

    @after_this_request
    def _remove(response):
        path.unlink(missing_ok=True)
        folder.rmdir()
        return response

    return send_file(path, mimetype=MEDIA_TYPES[fmt], as_attachment=True, download_name=name)


PERMISSIONS = "can_menu|can_roster|can_tree|can_notice|can_ledger|can_engineers|can_lineup|can_insurance|can_induction"


def register(appbuilder) -> None:
    add(appbuilder, SafetyFormsView, "安全書類の出力", "安全書類", {E: PERMISSIONS, M: PERMISSIONS}, icon="fa-print")
