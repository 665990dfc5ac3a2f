"""直接入力・事後補正 screens: the request form (worker or employer's 事業者責任者), 現場ID付与, and the list where
the prime contractor approves or rejects one by one or in bulk (FAB actions), with how many wait and for how
long. Every rule is portal.history.corrections'; these screens only collect input and show the outcome."""
from __future__ import annotations

import datetime

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.actions import action
from sqlalchemy import select

from portal.history import corrections
from portal.output import day_notes
from portal.app import errors
from portal.app.db import db
from portal.app.errors import DomainError
from portal.models import Trade
from portal.models.corrections import REASONS, STATUS_PENDING, WorkCorrection
from portal.models.structure import POSITIONS
from portal.people.scoping import ROLE_EMPLOYER as E, ROLE_SITE_MANAGER as M, ROLE_WORKER as W, current_scope
from portal.people.security import READ
from portal.views.base import add, model_view
from portal.output.work_calendar import visible_workers

HISTORY = "就業履歴"
DECIDE = READ + "|approve|reject"

_CorrectionBase = model_view(
    WorkCorrection, class_name="_CorrectionBase",
    list_columns=["work_date", "worker", "site_label", "employer", "kind_label", "reason_label", "position", "status",
                  "requested_by_label", "requested_at", "decision_note"],
    show_columns=["status", "kind_label", "work_date", "worker", "employer", "site_label", "trade", "position",
                  "work_content", "hazardous_work", "reason_label", "note", "requested_by_label", "requested_at",
                  "decided_by_name", "decided_at", "decision_note", "trail_text"],
    search_columns=["status", "site", "work_month", "employer", "worker", "work_date", "kind", "reason"],
    order_columns=["work_date", "requested_at", "status"], base_order=("work_date", "asc"),
    base_permissions=["can_list", "can_show"],
    label_columns={"site_label": "現場", "kind_label": "区分", "reason_label": "理由", "note": "理由の詳細",
                   "requested_by_label": "申請者", "requested_at": "申請日時", "decided_by_name": "承認・否認者",
                   "decided_at": "承認・否認日時", "decision_note": "否認の理由・承認の備考", "trail_text": "履歴（証跡）",
                   "work_month": "就業年月(YYYY-MM)", "kind": "区分", "reason": "理由", "status": "承認状況",
                   "employer": "所属事業者"},
    list_template="ccus/corrections_list.html",
)


class WorkCorrectionView(_CorrectionBase):
    """直接入力・事後補正の一覧と承認. Actions: 承認 / 否認 (one or many); a row the user cannot see reaches an
    action as None and is reported, never acted on."""

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs["waiting"] = corrections.waiting(db.session)
            kwargs["actions"] = self.offered_actions()  # the 否認の理由 field with them
        return super().render_template(template, **kwargs)

    # 承認 / 否認 are offered only to who may decide (the site's prime, its assigned 現場管理者): on the list to a
    # principal that decides on some site (and action_post refuses the others), on a request's page only when it
    # may decide that request now
    action_refusal = corrections.NOT_PRIME

    def offered_actions(self) -> dict:
        return self.actions if corrections.decides_somewhere(current_scope(db.session)) else {}

    def _get_show_widget(self, pk, item, *args, **kwargs):
        widgets = super()._get_show_widget(pk, item, *args, **kwargs)
        if not corrections.may_decide(db.session, corrections.actor_of(g.user), item):
            widgets["show"].template_args["actions"] = {}
        return widgets

    def _decide(self, items, approve_them: bool):
        items = items if isinstance(items, list) else [items]
        actor = corrections.actor_of(g.user)
        note = request.form.get("decision_note", "").strip()[:500] or None  # 否認の理由 (required), 承認の備考
        if not approve_them and note is None:
            flash("否認するときは、一覧の上の「否認の理由」に理由を入力してから選んでください（申請者に表示されます）。", "danger")
            return redirect(self.get_redirect())
        done, problems = corrections.decide_many(db.session, actor, [i.id if i is not None else None for i in items],
                                                 approve_them=approve_them, note=note)
        db.session.commit()
        if done:
            flash(f"{done}件を{'承認' if approve_them else '否認'}しました。", "success")
        for message in problems:
            flash(message, "warning")
        return redirect(self.get_redirect())

    @action("approve", "承認", "選択した申請を承認します。よろしいですか？", "fa-check")
    def approve(self, items):
        return self._decide(items, True)

    @action("reject", "否認", "選択した申請を否認します。よろしいですか？", "fa-times")
    def reject(self, items):
        return self._decide(items, False)


def _int(value) -> int | None:
    try:
        return int(value or 0) or None
    except (TypeError, ValueError):
        return None


def _form_values(form) -> dict:
    return {k: form.get(k, "") for k in ("worker_id", "work_date", "site_code", "site_name", "trade_id", "position",
                                         "work_content", "reason", "note")} | {"hazardous_work": bool(form.get("hazardous_work"))}


class CorrectionRequestView(BaseView):
    """直接入力・事後補正の申請 (worker menu 320_就業履歴 → 10_入力), and 現場ID付与 for requests made before the site
    was registered."""

    route_base = "/corrections"
    default_view = "new"

    def _page(self, values: dict, history=None, status: int = 200):
        session = db.session
        actor = corrections.actor_of(g.user)
        mine = session.execute(select(WorkCorrection).where(
            WorkCorrection.status == STATUS_PENDING, WorkCorrection.site_id.is_(None)).order_by(WorkCorrection.work_date)).scalars().all()
        today = corrections.today_in_tokyo()
        picked = values.get("worker_id")
        workers = visible_workers(session, selected=int(picked) if str(picked or "").isdigit() else None) \
            if actor.kind != "worker" else []
        if actor.kind == "employer":  # a worker who left: its days with this employer are still this employer's
            workers = [*workers, *corrections.former_workers(session, actor.employer_id, today)]
        trades = session.execute(select(Trade).order_by(Trade.major_code, Trade.minor_code)).scalars().all()
        return self.render_template(
            "ccus/correction_form.html", title="直接入力・事後補正の申請", values=values, history=history,
            workers=workers, is_worker=actor.kind == "worker", trades=trades, positions=POSITIONS, reasons=REASONS,
            unattached=mine, today=today, earliest=(today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1),
            sites=day_notes.site_choices(session, actor.worker_id if actor.kind == "worker" else _int(values.get("worker_id")),
                                         today),
        ), status

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        if request.method == "GET":
            return self._page({"worker_id": request.args.get("worker", ""), "reason": "card_forgotten",
                               "work_date": request.args.get("date", "")})
        values = _form_values(request.form)
        actor = corrections.actor_of(g.user)
        try:
            worker_id = actor.worker_id if actor.kind == "worker" else int(values["worker_id"] or 0)
            c = corrections.request_direct_input(
                db.session, actor, worker_id=worker_id, work_date=values["work_date"], reason=values["reason"],
                site_code=values["site_code"], site_name=values["site_name"], trade_id=values["trade_id"] or None,
                position=values["position"], work_content=values["work_content"],
                hazardous_work=values["hazardous_work"], note=values["note"])
            db.session.commit()
        except (DomainError, ValueError) as e:
            db.session.rollback()
            flash(e.message if isinstance(e, DomainError) else "技能者を選択してください。", "danger")
            return self._page(values, status=422)
        flash(f"{c.work_date:%Y年%m月%d日}の直接入力を申請しました。元請事業者の承認後に計上されます"
              f"（承認期限: {corrections.deadline(c.work_date):%Y年%m月%d日}）。", "success")
        return redirect(url_for("WorkCorrectionView.show", pk=c.id))

    @expose("/fix/<int:history_id>", methods=["GET", "POST"])
    @has_access
    def fix(self, history_id: int):
        try:  # a day the user may not correct (another's, or closed) gets the refusal page, never the form
            history, _employer = corrections.correctable(db.session, corrections.actor_of(g.user), history_id,
                                                         corrections.today_in_tokyo())
        except DomainError as e:
            db.session.rollback()
            return errors.error_response(404 if e.status == 404 else 403, e.code, e.message)
        if request.method == "GET":
            return self._page({"trade_id": history.trade_id or "", "position": history.position or "",
                               "work_content": history.work_content or "", "hazardous_work": history.hazardous_work,
                               "reason": "change_details"}, history=history)
        values = _form_values(request.form)
        try:
            c = corrections.request_correction(
                db.session, corrections.actor_of(g.user), history_id=history_id, reason=values["reason"],
                trade_id=values["trade_id"] or None, position=values["position"], work_content=values["work_content"],
                hazardous_work=values["hazardous_work"], note=values["note"])
            db.session.commit()
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "danger")
            return self._page(values, history=history, status=422)
        flash("事後補正を申請しました。元請事業者の承認後に反映されます。", "success")
        return redirect(url_for("WorkCorrectionView.show", pk=c.id))

    @expose("/attach/<int:pk>", methods=["POST"])
    @has_access
    def attach(self, pk: int):
        try:
            corrections.attach_site_id(db.session, corrections.actor_of(g.user), pk, request.form.get("site_code", ""))
            db.session.commit()
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "danger")
            return redirect(url_for("CorrectionRequestView.new"))
        flash("現場IDを付与しました。元請事業者の承認を待っています。", "success")
        return redirect(url_for("WorkCorrectionView.show", pk=pk))


SCREENS = [
    (WorkCorrectionView, "直接入力・事後補正の承認", HISTORY, {E: DECIDE, M: DECIDE, W: READ}),
    (CorrectionRequestView, "直接入力・事後補正の申請", HISTORY, {E: "can_new|can_fix|can_attach", W: "can_new|can_fix|can_attach"}),
]


def register(appbuilder) -> None:
    for view, title, category, grants in SCREENS:
        add(appbuilder, view, title, category, grants, icon="fa-pencil-square-o")
