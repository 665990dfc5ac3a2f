"""Monthly history screens and the site board: the worker's calendar (report 2-3) with its summary figures and
level progress, the employer's monthly list of its workers (report 2-4), and the prime contractor's live site
board. The rows come from portal.output.work_calendar, portal.output.evaluation and portal.output.site_board, through the scoped
session: each role sees only its scope."""
from __future__ import annotations

import datetime

from flask import flash, g, jsonify, request
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name

from portal.app import clock
from portal.history import corrections
from portal.output import day_notes, evaluation, site_board, work_calendar
from portal.history.corrections import actor_of, today_in_tokyo
from portal.app.db import db
from portal.app.errors import DomainError
from portal.people.scoping import ROLE_EMPLOYER as E, ROLE_SITE_MANAGER as M, ROLE_WORKER as W, current_scope
from portal.views.base import add

HISTORY = "就業履歴"


def month_arg(value: str | None) -> tuple[int, int]:
    """``YYYY-MM`` from the query (default: this month in Tokyo); a bad value is reported and replaced."""
    today = today_in_tokyo()
    if value:
        try:
            year, month = (int(p) for p in value.split("-"))
            work_calendar.month_bounds(year, month)
            return year, month
        except (ValueError, DomainError):
            flash(f"年月はYYYY-MMの形式で指定してください（入力値: {value}）。今月を表示します。", "warning")
    return today.year, today.month


def int_arg(name: str) -> int | None:
    try:
        return int(request.args.get(name) or 0) or None
    except ValueError:
        return None


def _day_arg(first: datetime.date, last: datetime.date) -> datetime.date | None:
    """``day=YYYY-MM-DD`` in the month shown: the day whose trail to show (None: the whole month)."""
    try:
        day = datetime.date.fromisoformat(request.args.get("day") or "")
    except ValueError:
        return None
    return day if first <= day <= last else None


def _trail_days(first: datetime.date, last: datetime.date) -> tuple[datetime.date, datetime.date]:
    day = _day_arg(first, last)
    return (day, day) if day else (first, last)


def _previous(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _shift(year: int, month: int, delta: int) -> str:
    n = year * 12 + month - 1 + delta
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


class WorkCalendarView(BaseView):
    """就業履歴 月別カレンダー (2-3), 就業日数・就業履歴数・非計上の件数, and progress toward the next level."""

    route_base = "/work-calendar"
    default_view = "month"

    @expose("/")
    @has_access
    def month(self):
        session = db.session
        actor = actor_of(g.user)
        year, month = month_arg(request.args.get("ym"))
        picked = int_arg("worker")
        workers = [] if actor.kind == "worker" else work_calendar.visible_workers(session, selected=picked)
        worker_id = actor.worker_id if actor.kind == "worker" else (picked or (workers[0].id if workers else None))
        data = work_calendar.worker_month(session, worker_id, year, month) if worker_id else None
        if data is not None and not data.rows and not request.args.get("ym"):  # the 1st: last month, not an empty page
            last_month = work_calendar.worker_month(session, worker_id, *_previous(year, month))
            if last_month is not None and last_month.rows:
                data, (year, month) = last_month, _previous(year, month)
        first, last = work_calendar.month_bounds(year, month)
        notes = day_notes.notes(session, worker_id, first, last) if data else []
        return self.render_template(
            "ccus/work_calendar.html", title="就業履歴 月別カレンダー", data=data, workers=workers,
            worker_id=worker_id, ym=f"{year:04d}-{month:02d}", prev=_shift(year, month, -1), next=_shift(year, month, 1),
            summary=work_calendar.worker_summary(session, worker_id) if data else None,
            month_summary=work_calendar.worker_summary(session, worker_id, since=first, until=last) if data else None,
            progress=evaluation.progress(session, worker_id) if data else [], columns=work_calendar.COLUMNS,
            can_request=actor.kind in ("worker", "employer"),
            trail=work_calendar.trail(session, worker_id, *_trail_days(first, last)) if data else [],
            trail_day=_day_arg(first, last),
            day_notes=notes, day_links=day_notes.cell_anchors(notes),
            correctable=corrections.correctable_days(session, actor, worker_id, {n.work_date for n in notes},
                                                     today_in_tokyo()) if notes else set(),
            missing=day_notes.missing_for_evaluation(session, worker_id) if data else [],
        )


    @expose("/workers")
    @has_access
    @permission_name("month")
    def workers(self):
        """The worker dropdowns' search as you type: workers of the viewer's scope matching ``q`` (JSON)."""
        found = work_calendar.visible_workers(db.session, request.args.get("q", ""))
        return jsonify([{"id": w.id, "label": str(w)} for w in found])


class EmployerMonthView(BaseView):
    """就業履歴一覧（月別カレンダー）(2-4): an employer's workers' histories of one month, optionally at one site."""

    route_base = "/employer-month"
    default_view = "month"

    @expose("/")
    @has_access
    def month(self):
        session = db.session
        scope = current_scope(session)
        year, month = month_arg(request.args.get("ym"))
        site_id = int_arg("site")
        employer_id = scope.employer_id if scope.kind == "employer" and not scope.site_manager else int_arg("employer")
        rows = work_calendar.employer_month(session, year, month, employer_id=employer_id, site_id=site_id)
        return self.render_template(
            "ccus/employer_month.html", title="就業履歴一覧（月別カレンダー）", rows=rows,
            days=work_calendar.month_days(year, month), ym=f"{year:04d}-{month:02d}", prev=_shift(year, month, -1),
            next=_shift(year, month, 1), sites=work_calendar.visible_sites(session), site_id=site_id,
            employers=work_calendar.visible_employers(session) if scope.is_all else [], employer_id=employer_id,
            totals={k: sum(r.counts[k] for r in rows) for k in work_calendar.COLUMNS}, columns=work_calendar.COLUMNS,
        )


class SiteBoardView(BaseView):
    """現場ボード: the prime contractor's live view of one site."""

    route_base = "/site-board"
    default_view = "board"

    @expose("/")
    @has_access
    def board(self):
        session = db.session
        scope = current_scope(session)
        sites = site_board.prime_sites(session, None if scope.is_all else scope.prime_site_ids)
        site_id = int_arg("site") or (sites[0].id if sites else None)
        now = clock.now()  # the one clock (a test moves it)
        data = site_board.board(session, site_id, now) if site_id and site_id in {s.id for s in sites} else None
        if site_id and data is None and sites:
            flash("この現場のボードは表示できません（元請として登録された現場のみ表示できます）。", "warning")
        return self.render_template("ccus/site_board.html", title="現場ボード", sites=sites, site_id=site_id, data=data,
                                    now=now.astimezone(site_board.TOKYO), fix_link=day_notes.fix_link,
                                    induction_fix=lambda item: site_board.induction_fix(scope, item))


SCREENS = [
    (WorkCalendarView, "就業履歴カレンダー", HISTORY, {E: "can_month", M: "can_month", W: "can_month"}),
    (EmployerMonthView, "月別就業履歴一覧", HISTORY, {E: "can_month", M: "can_month"}),
    (SiteBoardView, "現場ボード", HISTORY, {E: "can_board", M: "can_board"}),
]


def register(appbuilder) -> None:
    for view, title, category, grants in SCREENS:
        add(appbuilder, view, title, category, grants, icon="fa-calendar")
