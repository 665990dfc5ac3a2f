"""安全書類の出力 (the forms of reports.safety) on screen: a menu of the viewer's sites and the companies of its
branch, and the files themselves. Every request is checked on the server (reports.safety.rules) whatever the
menu offered; the workers shown are written to the audit trail (export)."""
from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

from flask import after_this_request, g, request, send_file
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import select

from portal import audit, jobs
from portal.clock import tokyo_today
from portal.db import db
from portal.errors import DomainError
from portal.models import Employer, Site
from portal.scoping import ROLE_EMPLOYER as E, ROLE_SITE_MANAGER as M, current_scope
from portal.views.base import add
from reports.base import MEDIA_TYPES
from reports.safety import REVISION, notice, notice_files, roster, roster_files, tree, tree_files
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
            listed.append((site, companies))
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
            made = roster.build(session, viewer, site_id, employer_id, tokyo_today())
            for worker_id in made.worker_pks:  # the trail: these workers' items left in a file
                audit.touched(worker_id, f"安全書類 {roster.TITLE}", f"{site_id}-{employer_id}", action=audit.EXPORT)
            return made

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


def _date(value):
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise DomainError("invalid_date", f"変更年月日はYYYY-MM-DDの形式で指定してください（入力値: {value}）。", 400) from None


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


PERMISSIONS = "can_menu|can_roster|can_tree|can_notice"


def register(appbuilder) -> None:
    add(appbuilder, SafetyFormsView, "安全書類の出力", "安全書類", {E: PERMISSIONS, M: PERMISSIONS}, icon="fa-print")
