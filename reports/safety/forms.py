"""The safety forms as background jobs (portal.output.jobs, the 帳票's own machinery): each form is a
:class:`reports.base.Report` with a ``produce`` step instead of rows, so that a job of it is stored, run (thread or
Celery), followed, downloaded, retried and purged exactly like a 帳票's, on the same screens (ReportsView's job
pages find it through :func:`reports.get`). The 帳票 menu does not list them: they are offered on the 安全書類
menu (portal.views.safety_forms), per site and company.

A job's parameters are the form's own (``site``, ``employer``, ``changed_on`` / ``held_on``), checked when the job
is requested (:func:`check`: the viewer rule, cheaply, so that a refusal is a 403 on the request) and again when it
runs (the build checks under the scope of that moment).
"""
from __future__ import annotations

import dataclasses
import datetime
import os
import secrets
from pathlib import Path
from typing import Callable

from portal.app.errors import DomainError
from portal.app.i18n import translate
from reports.base import OWN_EMPLOYER, PRIME, UPPER, Report
from reports.safety import headings, induction, insurance, ledger, notice, notice_files, roster, roster_files, sheet, tree, tree_files
from reports.safety.rules import check_company

PARTIES = (PRIME, UPPER, OWN_EMPLOYER)
LANGUAGES = headings.LANGUAGES


@dataclasses.dataclass(frozen=True)
class Params:
    site: int
    employer: int | None
    day: datetime.date  # the form's date (作成日 / 提出日)
    on: datetime.date | None  # 変更届's 変更年月日 / 第7号's 実施日
    lang: str = "ja"  # the requesting user's language: the file's headings (reports.safety.headings)

    def to_dict(self) -> dict:
        return {"site": self.site, "employer": self.employer, "day": self.day.isoformat(),
                "on": self.on.isoformat() if self.on else None, "lang": self.lang}


def _key(raw: dict, name: str, label: str, required: bool) -> int | None:
    value = raw.get(name)
    if value in (None, ""):
        if required:
            raise DomainError("invalid_parameter", f"{label}を指定してください。", 400)
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 0 < number < 2**31:
        raise DomainError("invalid_parameter", f"{label}の指定が正しくありません（入力値: {value}）。", 400)
    return number


def _day(value, label: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise DomainError("invalid_date", f"{label}はYYYY-MM-DDの形式で指定してください（入力値: {value}）。", 400) from None


@dataclasses.dataclass(frozen=True)
class Form:
    id: str  # CCUS's form number: AZ1 … AZ7, 第7号 as "No7"
    title: str
    per_company: bool  # the form is of one company of the site (else of the site: the viewer's branch)
    build: Callable  # build(session, viewer, Params) → the form's data
    writers: dict  # fmt → writer(path, made, done)
    total: Callable  # made → how many units the progress counts (workers, companies)
    on_label: str | None = None  # the label of ``on`` when the form takes one
    cheap_check: bool = False  # True: build is cheap (company data only) and is the check; else check_company

    def params(self, raw: dict, today: datetime.date, lang: str = "ja") -> Params:
        return Params(site=_key(raw, "site", "現場", True),
                      employer=_key(raw, "employer", "会社", True) if self.per_company else None,
                      day=today, on=_day(raw.get("on"), self.on_label) if self.on_label else None,
                      lang=lang if lang in LANGUAGES else "ja")

    def check(self, session, viewer, p: Params) -> None:
        if self.cheap_check:
            self.build(session, viewer, p)
        else:
            check_company(viewer.scope, p.site, p.employer, self.title)

    def produce(self, session, viewer, job, folder: Path, done: Callable[[int], None], begin: Callable[[int], None]):
        """Build and write the file of ``job`` (a ReportJob), telling ``begin`` how many units there are and
        ``done`` how many are written; returns (path, file name, units, worker pks shown)."""
        if job.format not in self.writers:
            raise DomainError("unknown_format", f"出力形式「{job.format}」はありません（Excel・PDFから選んでください）。", 400)
        raw = job.params or {}
        p = Params(site=raw["site"], employer=raw.get("employer"), day=datetime.date.fromisoformat(raw["day"]),
                   on=datetime.date.fromisoformat(raw["on"]) if raw.get("on") else None, lang=raw.get("lang") or "ja")
        made = localized(self.build(session, viewer, p), p.lang)
        begin(self.total(made))
        path = folder / f"safety_{self.id}_{job.id}_{secrets.token_hex(4)}.{job.format}"
        self.writers[job.format](path, made, done)
        return path, f"{self.title}_{p.day:%Y%m%d}.{job.format}", self.total(made), set(getattr(made, "worker_pks", set()))


def localized(made, lang: str):
    """The form with its headings in ``lang`` (reports.safety.headings; Japanese: as made)."""
    return made if lang == "ja" else headings.localized(made, lambda msgid: translate(msgid, lang))


def request_job(session, user, form_id: str, fmt: str, raw: dict, config, remote_addr: str | None = None,
                lang: str = "ja"):
    """Check and store a job of a safety form for ``user`` (portal.output.jobs.dispatch then runs it); ``lang``
    is the user's language, kept with the parameters for the file's headings."""
    from portal.output import jobs
    from portal.app.clock import now, tokyo_today
    from portal.models.jobs import QUEUED, ReportJob

    form = FORMS.get(form_id)
    if form is None:
        raise DomainError("unknown_form", f"安全書類「{form_id}」はありません。", 404)
    if fmt not in form.writers:
        raise DomainError("unknown_format", f"出力形式「{fmt}」はありません（Excel・PDFから選んでください）。", 400)
    viewer = jobs.viewer_for(session, user)
    p = form.params(raw, tokyo_today(), lang)
    form.check(session, viewer, p)
    at = now()
    job = ReportJob(owner_user_id=user.id, report_id=form.id, format=fmt, params=p.to_dict(), status=QUEUED,
                    runner="celery" if config.get("CCUS_CELERY_BROKER") else f"thread:{os.getpid()}",
                    requested_from=remote_addr, created_at=at, expires_at=at + jobs.retention(config))
    session.add(job)
    session.commit()
    return job


FORMS = {f.id: f for f in [
    Form("AZ1", ledger.TITLE, False, lambda s, v, p: ledger.build(s, v, p.site, p.day), notice_files.WRITERS,
         lambda m: len(m.sheets), cheap_check=True),
    Form("AZ2", tree.TITLE, False, lambda s, v, p: tree.build(s, v, p.site, p.day), tree_files.WRITERS,
         lambda m: len(m.boxes), cheap_check=True),
    Form("AZ3", ledger.ENGINEERS_TITLE, False, lambda s, v, p: ledger.engineers(s, v, p.site, p.day), sheet.WRITERS,
         lambda m: len(m.rows), cheap_check=True),
    Form("AZ4", tree.LINEUP_TITLE, True, lambda s, v, p: tree.build(s, v, p.site, p.day, root_id=p.employer),
         tree_files.WRITERS, lambda m: len(m.boxes), cheap_check=True),
    Form("AZ5", notice.TITLE, True, lambda s, v, p: notice.build(s, v, p.site, p.employer, p.day, p.on),
         notice_files.WRITERS, lambda m: max(1, len(m.sheets)), on_label="変更年月日"),
    Form("AZ6", roster.TITLE, True, lambda s, v, p: roster.build(s, v, p.site, p.employer, p.day), roster_files.WRITERS,
         lambda m: len(m.workers)),
    Form("AZ7", insurance.TITLE, True, lambda s, v, p: insurance.build(s, v, p.site, p.employer, p.day), sheet.WRITERS,
         lambda m: len(m.rows)),
    Form("No7", induction.TITLE, True, lambda s, v, p: induction.build(s, v, p.site, p.employer, p.on or p.day, p.day),
         sheet.WRITERS, lambda m: len(m.rows), on_label="実施日"),
]}


def _unused_build(session, viewer, params):  # noqa: ARG001  a safety job produces its file (Report.produce)
    raise DomainError("form_without_rows", "安全書類は一覧表示できません。", 400)


REPORTS = {f.id: Report(id=f.id, title=f.title, parties=PARTIES, filters=(), build=_unused_build, produce=f.produce,
                        note="安全書類（全建統一様式）") for f in FORMS.values()}
