"""安全書類の出力 (the forms of reports.safety) on screen: a menu of the viewer's sites and the companies of its
branch, and the files themselves. Every request is checked on the server (reports.safety.rules) whatever the
menu offered; the workers shown are written to the audit trail (export)."""
from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

from flask import after_this_request, current_app, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import func, select

from portal.people import audit
from portal.output import jobs
from portal.app.clock import tokyo_today
from portal.app.db import db
from portal.app.errors import DomainError
from portal.models import Employer, Site, SiteWorkerRegistration, StructureLink
from portal.models.safety import APPROVED, RETURN_REASONS, SUBMITTED, SiteContract
from portal.people.scoping import ROLE_EMPLOYER as E, ROLE_SITE_MANAGER as M, current_scope
from portal.views.base import add
from reports.base import MEDIA_TYPES
from reports.safety import (REVISION, forms, induction, insurance, ledger, notice, notice_files, roster, roster_files, sheet,
                            submission, thresholds, tree, tree_files)
from reports.safety.rules import branch_of

FORMATS = [("xlsx", "Excel"), ("pdf", "PDF")]


def _viewer():
    return jobs.viewer_for(db.session, g.user, current_scope(db.session))


def _lang() -> str:
    """The user's language (FAB's language switch), for the forms' headings."""
    from flask_babel import get_locale

    lang = str(get_locale() or "ja").split("_")[0]
    return lang if lang in forms.LANGUAGES else "ja"


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
            duty = None
            if scope.is_all or site.id in scope.prime_site_ids:  # the prime's duty and the retention, its own facts
                prime_contract = session.execute(select(SiteContract).where(
                    SiteContract.site_id == site.id, SiteContract.employer_id == site.prime_employer_id)).scalar_one_or_none()
                duty = (thresholds.ledger_required(session, scope, site.id, tokyo_today()),
                        thresholds.keep_until(prime_contract.handed_over_on if prime_contract else None))
            listed.append((site, companies, ledger_ok, lineups, inductions, _submissions(session, viewer, site, companies),
                           duty))
        return self.render_template("safety/menu.html", title="安全書類", sites=listed, formats=FORMATS,
                                    revision=REVISION, reasons=RETURN_REASONS,
                                    submittable=submission.FORMS)

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
        return _send(forms.localized(made, _lang()), writers[fmt], fmt, f"{name(made)}.{fmt}")

    @expose("/roster/<int:site_id>/<int:employer_id>.<fmt>")
    @has_access
    def roster(self, site_id, employer_id, fmt):
        """作業員名簿: AZ6-b (the merged form, by default) or ``?variant=AZ6-a`` (without the 社会保険 columns)."""
        variant = request.args.get("variant") or "AZ6-b"
        writers = {"AZ6-b": roster_files.WRITERS, "AZ6-a": roster_files.WRITERS_A}.get(variant)
        if writers is None:
            return self._refused(DomainError("invalid_variant", f"様式の指定が正しくありません（AZ6-a・AZ6-b、入力値: {variant}）。", 400))

        def build(session, viewer):
            return _exported(roster.build(session, viewer, site_id, employer_id, tokyo_today()), roster.TITLE,
                             site_id, employer_id)

        return self._produce(writers, fmt, build,
                             lambda m: f"作業員名簿_{m.site_code}_{m.company_code}_{m.day:%Y%m%d}" + ("_AZ6-a" if variant == "AZ6-a" else ""))

    @expose("/tree/<int:site_id>.<fmt>")
    @has_access
    def tree(self, site_id, fmt):
        """AZ2 施工体系図; ``?version=submitted``: drawn from the approved 再下請負通知書, not today's data."""
        version = request.args.get("version") or "current"
        if version not in ("current", "submitted"):
            return self._refused(DomainError("invalid_version", f"版の指定が正しくありません（入力値: {version}）。", 400))
        return self._produce(tree_files.WRITERS, fmt, lambda session, viewer: tree.build(
            session, viewer, site_id, tokyo_today(), submitted=version == "submitted"),
            lambda m: f"施工体系図_{m.site_code}_{m.day:%Y%m%d}" + ("_提出版" if m.version else ""))

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

    @expose("/jobs/<form_id>", methods=["POST"])
    @has_access
    def job(self, form_id):
        """A form made in the background (a 名簿 of a thousand workers): the job is checked and stored here, then
        followed, downloaded and retried on the 帳票's job pages (ReportsView.job)."""
        session = db.session
        raw = {k: request.form.get(k) for k in ("site", "employer", "on")}
        try:
            job = forms.request_job(session, g.user, form_id, request.form.get("format", ""), raw, current_app.config,
                                    request.remote_addr, _lang())
        except DomainError as e:
            session.rollback()
            return self._refused(e)
        jobs.dispatch(current_app._get_current_object(), job.id)
        return redirect(url_for("ReportsView.job", job_id=job.id), 303)

    @expose("/submissions/<int:site_id>/<int:employer_id>/<form>/submit", methods=["POST"])
    @has_access
    def submit(self, site_id, employer_id, form):
        """提出 (or the prime's 代行) of a company's 通知書 / 名簿 to its upper company."""
        return self._step(lambda session, viewer: submission.submit(session, viewer, site_id, employer_id, form),
                          "提出しました。")

    @expose("/submissions/<int:submission_id>/decide", methods=["POST"])
    @has_access
    def decide(self, submission_id):
        """承認, or 差戻し with a reason (``decision=approve`` / ``return``, ``reason``, ``note``)."""
        decision = request.form.get("decision")
        if decision not in ("approve", "return"):
            return self._refused(DomainError("invalid_decision", "承認か差戻しを選んでください。", 400))
        return self._step(lambda session, viewer: submission.decide(
            session, viewer, submission_id, decision == "approve", request.form.get("reason"), request.form.get("note")),
            "承認しました。" if decision == "approve" else "差し戻しました。")

    def _step(self, act, done: str):
        session = db.session
        try:
            act(session, _viewer())
        except DomainError as e:
            session.rollback()
            return self._refused(e)
        flash(done, "success")
        return redirect(url_for("SafetyFormsView.menu"), 303)


def _submissions(session, viewer, site, companies) -> dict:
    """Per company on the menu: for each submittable form its row, what the viewer may do with it, and a pending
    変更届 (an approved form whose data changed since)."""
    scope = viewer.scope
    rows = submission.rows_of(session, scope, site.id)
    prime = scope.kind == "employer" and site.id in scope.prime_site_ids
    found = {}
    for company in companies:
        for form in submission.FORMS:
            row = rows.get((company.id, form))
            may_submit = company.id != site.prime_employer_id and (prime or company.id == scope.employer_id) and (
                row is None or row.status != SUBMITTED)
            may_decide = row is not None and row.status == SUBMITTED and company.id != scope.employer_id and (
                prime or row.upper_employer_id == scope.employer_id)
            pending = submission.pending_change(session, row) if row is not None and row.status == APPROVED else []
            found[(company.id, form)] = {"row": row, "submit": may_submit, "decide": may_decide, "pending": pending}
    return found


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


PERMISSIONS = "can_menu|can_roster|can_tree|can_notice|can_ledger|can_engineers|can_lineup|can_insurance|can_induction|can_job|can_submit|can_decide"


def register(appbuilder) -> None:
    add(appbuilder, SafetyFormsView, "安全書類の出力", "安全書類", {E: PERMISSIONS, M: PERMISSIONS}, icon="fa-print")
