"""帳票出力: the report menu per role, each report on screen with its filters, and its CSV / Excel / PDF as a
background job (progress bar polled from a small JSON endpoint, then the download link).

Every route checks the guide's table for the viewer's role (reports.allowed): the menu, the screen, the
export, and a job's page, status, download and retry (a job id of another user is 403 as well: the row-level
rule shows a user only its own jobs). Errors are Japanese pages with their status (403, 404, 400), never a
redirect that hides the refusal."""
from __future__ import annotations

import itertools
from pathlib import Path

from flask import current_app, g, jsonify, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import select

import reports
from portal.people import audit
from portal.output import jobs, work_calendar
from portal.app.clock import tokyo_today
from portal.app.db import db
from portal.app.errors import DomainError
from portal.models import ReportJob
from portal.models.jobs import DONE, FAILED, STATUS_LABELS
from portal.people.scoping import ROLE_EMPLOYER as E, ROLE_SITE_MANAGER as M, ROLE_WORKER as W, current_scope
from portal.views.base import add
from reports.base import FILTERS, FORMATS, parse_params

SCREEN_ROWS = 200  # rows shown on screen; the files carry all
JOB_HIDDEN = "このジョブは表示できません（ご自身が依頼したジョブのみ表示できます）。"


def _viewer():
    session = db.session
    return jobs.viewer_for(session, g.user, current_scope(session))


def _refused(view, e: DomainError, as_json: bool = False):
    """The refusal with its status and Japanese message (JSON for the status endpoint)."""
    if as_json:
        return jsonify(e.to_dict()), e.status
    return view.render_template("reports/error.html", title="帳票出力", message=e.message), e.status


def _report_for(report_id: str, viewer, fmt: str | None = None):
    report = reports.get(report_id)
    reports.allowed(report, viewer, fmt)
    return report


# Reports of one worker that only the worker itself or its 所属事業主 produce (the guide's table): an employer
# picks among its own workers, not every worker its sites show it.
OWN_WORKERS_ONLY = frozenset({"1-1"})


def _choices(session, scope, report):
    """Filter choices the viewer may pick for ``report``: its sites, employers in its scope, visible workers (its
    own workers where only the 所属事業主 may produce the report)."""
    employers = work_calendar.visible_employers(session)
    if not scope.is_all:
        employers = [e for e in employers if e.id in scope.employer_ids]
    among = scope.own_worker_ids if report.id in OWN_WORKERS_ONLY and scope.kind == "employer" else None
    return {"site": work_calendar.visible_sites(session), "employer": employers,
            "worker": work_calendar.visible_workers(session, among=among) if scope.kind != "worker" else []}


def _defaults(viewer, choices, report) -> dict:
    """The likely choice: this month, the user's first site, its own company, itself (or the first worker). For
    the administrator (no site or company of its own) a report of one site, company or worker (its only filter)
    opens on the first one, so that the menu's link shows a report, not a request to choose."""
    found = {"month": f"{tokyo_today():%Y-%m}",
             "site": choices["site"][0].id if viewer.role == M and choices["site"] else None,
             "employer": viewer.employer_id if viewer.role == E else None,
             "worker": viewer.worker_id or (choices["worker"][0].id if choices["worker"] else None)}
    only = report.filters[0] if len(report.filters) == 1 else None
    if viewer.scope.is_all and only and found.get(only) is None and choices.get(only):
        found[only] = choices[only][0].id
    return found


class ReportsView(BaseView):
    route_base = "/reports"
    default_view = "menu"

    @expose("/")
    @has_access
    def menu(self):
        viewer = _viewer()
        jobs.purge_expired(db.session)
        mine = db.session.execute(select(ReportJob).order_by(ReportJob.id.desc()).limit(20)).scalars().all()
        return self.render_template("reports/menu.html", title="帳票出力", reports=reports.for_role(viewer.role),
                                    jobs=mine, formats=FORMATS)

    @expose("/<report_id>/")
    @has_access
    def show(self, report_id):
        session = db.session
        try:
            viewer = _viewer()
            report = _report_for(report_id, viewer, "screen")
            choices = _choices(session, viewer.scope, report)
            defaults = _defaults(viewer, choices, report)
            raw = {k: request.args.get(k, defaults.get(k)) for k in report.filters}
            params = parse_params(raw, tokyo_today())
            output = report.build(session, viewer, params)
            rows = [[_cell(v) for v in row] for row in itertools.islice(output.rows, SCREEN_ROWS)]
        except DomainError as e:
            session.rollback()
            return _refused(self, e)
        for worker_id in output.workers:  # the trail: this viewer saw these workers in this report
            audit.touched(worker_id, f"帳票 {report.id} {report.title}", report.id, note=f"帳票 {report.id} {report.title}（画面）")
        return self.render_template("reports/report.html", title=f"{report.id} {report.title}", report=report,
                                    output=output, rows=rows, more=output.total > len(rows), params=params,
                                    raw=raw, choices={k: v for k, v in choices.items() if k in report.filters},
                                    filters=FILTERS, formats=FORMATS)

    @expose("/<report_id>/export", methods=["POST"])
    @has_access
    def export(self, report_id):
        session = db.session
        fmt = request.form.get("format", "")
        try:
            report = _report_for(report_id, _viewer(), fmt)
            raw = {k: request.form.get(k) for k in report.filters}
            job = jobs.create(session, g.user, report.id, fmt, raw, current_app.config, request.remote_addr)
        except DomainError as e:
            session.rollback()
            return _refused(self, e)
        jobs.dispatch(current_app._get_current_object(), job.id)
        return redirect(url_for(".job", job_id=job.id), 303)

    def _job(self, job_id: int):
        job = db.session.execute(select(ReportJob).where(ReportJob.id == job_id)).scalar_one_or_none()
        if job is None:  # another user's job is hidden by the row rule: refused, not "not found"
            raise DomainError("job_not_allowed", JOB_HIDDEN, 403)
        report = _report_for(job.report_id, _viewer())
        if jobs.interrupted(job):
            jobs.mark_interrupted(db.session, job)
        return job, report

    @expose("/jobs/<int:job_id>")
    @has_access
    def job(self, job_id):
        try:
            job, report = self._job(job_id)
        except DomainError as e:
            return _refused(self, e)
        return self.render_template("reports/job.html", title=f"{report.id} {report.title}", job=job, report=report,
                                    status=_status(job), formats=FORMATS)

    @expose("/jobs/<int:job_id>/status")
    @has_access
    def status(self, job_id):
        try:
            job, _report = self._job(job_id)
        except DomainError as e:
            return _refused(self, e, as_json=True)
        return jsonify(_status(job))

    @expose("/jobs/<int:job_id>/download")
    @has_access
    def download(self, job_id):
        try:
            job, _report = self._job(job_id)
            if job.status != DONE or not job.file_path or not Path(job.file_path).exists():
                raise DomainError("file_not_available", "ファイルはありません（作成中、失敗、または保存期間（7日）を過ぎて削除されました）。",
                                  410 if job.status != DONE or job.file_path is None else 404)
        except DomainError as e:
            return _refused(self, e)
        return send_file(job.file_path, mimetype=reports.base.MEDIA_TYPES[job.format], as_attachment=True,
                         download_name=job.file_name)

    @expose("/jobs/<int:job_id>/retry", methods=["POST"])
    @has_access
    def retry(self, job_id):
        try:
            job, _report = self._job(job_id)
            jobs.retry(db.session, job)
        except DomainError as e:
            db.session.rollback()
            return _refused(self, e)
        jobs.dispatch(current_app._get_current_object(), job.id)
        return redirect(url_for(".job", job_id=job.id), 303)


def _cell(value):
    from reports.writers import text_of

    return text_of(value)


def _status(job: ReportJob) -> dict:
    total = job.rows_total or 0
    return {"id": job.id, "status": job.status, "label": STATUS_LABELS.get(job.status, job.status),
            "rows_done": job.rows_done, "rows_total": job.rows_total,
            "percent": 100 if job.status == DONE else (int(job.rows_done * 100 / total) if total else 0),
            "error": job.error, "expires_at": job.expires_at.isoformat() if job.expires_at else None,
            "download": url_for("ReportsView.download", job_id=job.id) if job.status == DONE else None,
            "retry": url_for("ReportsView.retry", job_id=job.id) if job.status == FAILED else None}


PERMISSIONS = "can_menu|can_show|can_export|can_job|can_status|can_download|can_retry"


def register(appbuilder) -> None:
    add(appbuilder, ReportsView, "帳票出力", "帳票", {E: PERMISSIONS, M: PERMISSIONS, W: PERMISSIONS}, icon="fa-print")

    def purge_schedule():  # the web process's purge thread, unless Celery's beat purges (portal.output.jobs)
        jobs.ensure_purger(current_app._get_current_object())

    current_app.before_request(purge_schedule)
