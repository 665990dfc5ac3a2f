"""The worker's own portal, numbered as the seed's menus (310 閲覧 … 400 退会), in Japanese and usable on a
phone; and the screens where the other side handles the worker's applications (the employer approves change
requests, the operator issues reissued cards).

Every query here runs through the worker's row scope; the only reads outside it are reviewed: the employer
search (public registry fields only, like the national 登録事業者検索) and the 閲覧記録 (portal.people.audit.viewer_log:
the companies that looked at the worker's data and when, from its own audit rows)."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_login import current_user, logout_user
from sqlalchemy import or_, select
from werkzeug.security import check_password_hash

from portal.people import audit, worker_requests
from portal.app.errors import DomainError
from portal.models import (
    Affiliation,
    Employer,
    SiteWorkerRegistration,
    Worker,
    WorkHistory,
)
from portal.models.applications import CHANGE_KINDS, PENDING, REISSUE_REASONS, CardReissueRequest, ChangeRequest
from portal.people.scoping import ALL, current_scope, using_scope

MENU = [
    ("310", "閲覧", [("10", "技能者情報", "WorkerPortalView.information"), ("20", "就業履歴", "WorkerPortalView.histories"),
                    ("30", "所属事業者情報", "WorkerPortalView.employers"),
                    ("40", "施工体制登録情報", "WorkerPortalView.registrations"),
                    ("50", "事業者の検索", "WorkerPortalView.employer_search"),
                    ("60", "申請情報の検索", "WorkerPortalView.applications")]),
    ("320", "就業履歴", [("", "就業履歴・カレンダー", "WorkerPortalView.history_menu")]),
    ("340", "施工体制登録", [("", "施工体制登録の確認", "WorkerPortalView.structure")]),
    ("350", "変更", [("10", "変更申請", "WorkerPortalView.change")]),
    ("360", "カード再発行", [("", "カード再発行の申請", "WorkerPortalView.reissue")]),
    ("380", "開示設定", [("10", "技能者", "DisclosureView.list")]),
    ("390", "閲覧記録", [("", "わたしの情報を見た事業者", "WorkerPortalView.viewers")]),
    ("400", "退会", [("", "退会の手続き", "WorkerPortalView.withdraw")]),
]
FIELD_TYPES = {"obtained_on": "date", "email": "email", "phone_home": "tel", "phone_mobile": "tel", "fax": "tel",
               "emergency_phone": "tel"}


def calendar_endpoint() -> str | None:
    """The monthly calendar another module provides, if any (found by endpoint name, no URL arguments)."""
    for rule in current_app.url_map.iter_rules():
        if "calendar" in rule.endpoint.lower() and not rule.arguments and "GET" in rule.methods \
                and not rule.rule.startswith("/api/"):
            return rule.endpoint
    return None


class WorkerPortalView(BaseView):
    """技能者メニュー. Permission: can_menu (one permission: every page shows only the worker's own rows)."""

    route_base = "/worker"
    default_view = "menu"
    method_permission_name = {name: "menu" for name in (
        "menu", "information", "histories", "employers", "registrations", "employer_search", "applications",
        "history_menu", "structure", "change", "file_change", "withdraw_change", "reissue", "file_reissue",
        "viewers", "withdraw", "confirm_withdraw")}

    def _page(self, template, title, **kw):
        return self.render_template(f"worker_portal/{template}.html", title=title, menu=MENU, **kw)

    def _me(self):
        scope = current_scope(self.appbuilder.session)
        if scope.kind != "worker":
            raise DomainError("worker_only", "技能者メニューは技能者本人のログインで利用します。", 403)
        return scope, self.appbuilder.session.get(Worker, scope.worker_id)

    @expose("/")
    @has_access
    def menu(self):
        scope, me = self._me()
        return self._page("menu", "技能者メニュー", me=me)

    @expose("/310/10")
    @has_access
    def information(self):
        _scope, me = self._me()
        return redirect(url_for("WorkerInformationView.show", worker_code=me.worker_id))

    @expose("/310/20")
    @has_access
    def histories(self):
        _scope, me = self._me()
        rows = self.appbuilder.session.execute(select(WorkHistory).where(WorkHistory.worker_id == me.id)
                                               .order_by(WorkHistory.work_date.desc()).limit(100)).scalars().all()
        return self._page("histories", "310_閲覧 → 20_就業履歴", rows=rows, calendar=calendar_endpoint())

    @expose("/320")
    @has_access
    def history_menu(self):
        endpoint = calendar_endpoint()
        return redirect(url_for(endpoint) if endpoint else url_for(".histories"))

    @expose("/310/30")
    @has_access
    def employers(self):
        _scope, me = self._me()
        rows = self.appbuilder.session.execute(select(Affiliation, Employer).join(
            Employer, Employer.id == Affiliation.employer_id).where(Affiliation.worker_id == me.id).order_by(
            Affiliation.status, Affiliation.started_on.desc())).all()
        return self._page("employers", "310_閲覧 → 30_所属事業者情報", rows=rows)

    def _registrations(self, me):
        return self.appbuilder.session.execute(
            select(SiteWorkerRegistration).where(SiteWorkerRegistration.worker_id == me.id)
            .order_by(SiteWorkerRegistration.start_date.desc())).scalars().all()

    @expose("/310/40")
    @has_access
    def registrations(self):
        _scope, me = self._me()
        return self._page("registrations", "310_閲覧 → 40_施工体制登録情報", rows=self._registrations(me))

    @expose("/340")
    @has_access
    def structure(self):
        _scope, me = self._me()
        return self._page("registrations", "340_施工体制登録", rows=self._registrations(me), explain=True)

    @expose("/310/50")
    @has_access
    def employer_search(self):
        q = (request.args.get("q") or "").strip()
        rows = []
        if q:
            t = Employer.__table__  # public registry fields only (事業者ID, 名称, フリガナ, 法人・個人区分)
            like = f"%{q}%"
            rows = self.appbuilder.session.execute(
                select(t.c.employer_id, t.c.name, t.c.name_kana, t.c.corporate_type).where(
                    or_(t.c.employer_id == q, t.c.name.like(like), t.c.name_kana.like(like)))
                .order_by(t.c.employer_id).limit(50)).all()
        return self._page("employer_search", "310_閲覧 → 50_事業者の検索", q=q, rows=rows)

    @expose("/310/60")
    @has_access
    def applications(self):
        _scope, me = self._me()
        session = self.appbuilder.session
        changes = session.execute(select(ChangeRequest).where(ChangeRequest.worker_id == me.id)
                                  .order_by(ChangeRequest.filed_at.desc())).scalars().all()
        reissues = session.execute(select(CardReissueRequest).where(CardReissueRequest.worker_id == me.id)
                                   .order_by(CardReissueRequest.filed_at.desc())).scalars().all()
        return self._page("applications", "310_閲覧 → 60_申請情報の検索", changes=changes, reissues=reissues,
                          pending=PENDING)

    @expose("/350", methods=["GET"])
    @has_access
    def change(self):
        self._me()
        kind = request.args.get("kind", "address")
        kind = kind if kind in CHANGE_KINDS else "address"
        return self._page("change", "350_変更 → 10_変更申請", kinds=CHANGE_KINDS, kind=kind,
                          fields=worker_requests.FIELDS[kind], types=FIELD_TYPES)

    @expose("/350", methods=["POST"])
    @has_access
    def file_change(self):
        scope, _me = self._me()
        kind = request.form.get("kind", "")
        values = {k: v for k, v in request.form.items() if k not in ("kind", "csrf_token")}
        worker_requests.file_change(self.appbuilder.session, scope, kind, values)
        self.appbuilder.session.commit()
        flash("変更申請を受け付けました。所属事業者の承認後に反映されます。", "success")
        return redirect(url_for(".applications"))

    @expose("/350/<int:request_id>/withdraw", methods=["POST"])
    @has_access
    def withdraw_change(self, request_id):
        scope, _me = self._me()
        worker_requests.withdraw_request(self.appbuilder.session, scope, request_id)
        self.appbuilder.session.commit()
        flash("申請を取り下げました。", "success")
        return redirect(url_for(".applications"))

    @expose("/360", methods=["GET"])
    @has_access
    def reissue(self):
        self._me()
        return self._page("reissue", "360_カード再発行", reasons=REISSUE_REASONS)

    @expose("/360", methods=["POST"])
    @has_access
    def file_reissue(self):
        scope, _me = self._me()
        worker_requests.request_reissue(self.appbuilder.session, scope, request.form.get("reason", ""),
                                        request.form.get("note"))
        self.appbuilder.session.commit()
        flash("カード再発行の申請を受け付けました。", "success")
        return redirect(url_for(".applications"))

    @expose("/390")
    @has_access
    def viewers(self):
        _scope, me = self._me()
        return self._page("viewers", "390_閲覧記録", rows=audit.viewer_log(self.appbuilder.session, me.id))

    @expose("/400", methods=["GET"])
    @has_access
    def withdraw(self):
        self._me()
        return self._page("withdraw", "400_退会", terms=worker_requests.WITHDRAWAL_TERMS)

    @expose("/400", methods=["POST"])
    @has_access
    def confirm_withdraw(self):
        _scope, me = self._me()
        if request.form.get("agree") != "yes":
            raise DomainError("withdrawal_not_confirmed", "退会時のデータの取扱いを確認し、同意してください。")
        if not check_password_hash(current_user.password or "", request.form.get("password", "")):
            raise DomainError("wrong_password", "パスワードが正しくありません。")
        worker_requests.withdraw(self.appbuilder.session, me.id)
        self.appbuilder.session.commit()
        logout_user()
        flash("退会しました。ご利用ありがとうございました。", "info")
        return redirect(self.appbuilder.get_url_for_login)


class ChangeRequestApprovalView(BaseView):
    """変更申請の承認: the employer asked to approve (the 所属事業者, or the new one for 転職); administrators all.
    Permissions can_list, can_edit."""

    route_base = "/change-requests"
    default_view = "list"

    @expose("/")
    @has_access
    def list(self):
        session = self.appbuilder.session
        rows = session.execute(select(ChangeRequest).order_by(ChangeRequest.status != PENDING,
                                                              ChangeRequest.filed_at.desc()).limit(200)).scalars().all()
        return self.render_template("worker_portal/approvals.html", title="技能者の変更申請", rows=rows, pending=PENDING,
                                    kinds=CHANGE_KINDS, fields=worker_requests.FIELDS)

    @expose("/<int:request_id>", methods=["POST"])
    @has_access
    def edit(self, request_id):
        session = self.appbuilder.session
        approve = request.form.get("decision") == "approve"
        worker_requests.decide(session, current_scope(session), request_id, approve, current_user.username,
                               request.form.get("reason"))
        session.commit()
        flash("承認しました。技能者情報に反映しました。" if approve else "却下しました。", "success")
        return redirect(url_for(".list"))


class CardReissueAdminView(BaseView):
    """カード再発行申請 (運営): the administrator marks a request 発行済. Permissions can_list, can_edit."""

    route_base = "/card-reissue"
    default_view = "list"

    @expose("/")
    @has_access
    def list(self):
        rows = self.appbuilder.session.execute(select(CardReissueRequest).order_by(
            CardReissueRequest.status != PENDING, CardReissueRequest.filed_at.desc()).limit(200)).scalars().all()
        return self.render_template("worker_portal/reissues.html", title="カード再発行申請", rows=rows, pending=PENDING)

    @expose("/<int:request_id>", methods=["POST"])
    @has_access
    def edit(self, request_id):
        session = self.appbuilder.session
        with using_scope(session, ALL):
            worker_requests.mark_issued(session, request_id)
            session.commit()
        flash("発行済にしました。", "success")
        return redirect(url_for(".list"))


def register(appbuilder) -> None:
    from portal.people.scoping import ROLE_EMPLOYER as E, ROLE_WORKER as W
    from portal.views.base import add

    add(appbuilder, WorkerPortalView, "技能者メニュー", "技能者メニュー", {W: "can_menu"}, icon="fa-hard-hat")
    add(appbuilder, ChangeRequestApprovalView, "技能者の変更申請", "技能者", {E: "can_list|can_edit"}, icon="fa-check")
    add(appbuilder, CardReissueAdminView, "カード再発行申請", "管理", {}, icon="fa-id-card")
