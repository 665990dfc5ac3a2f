"""The 技能者情報 screen (like the seed's 310_閲覧 → 10_技能者情報) that any allowed viewer can open, with its
CSV, and the 開示設定 screens: the worker's 380_開示設定 and the employer's 830_開示設定 → 10_所属技能者.

Both show only what portal.people.disclosure allows: the screen and the CSV are built from
``disclosure.worker_information`` and from nothing else."""
from __future__ import annotations

import datetime
import io

from flask import Response, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import select

from portal.people import audit, disclosure
from portal.app.errors import DomainError
from portal.app.ids import validate_ccus_id
from portal.models import Affiliation, Worker
from portal.models.disclosure import CONSENTABLE, ITEM_BY_CODE, ITEMS, NEVER_ITEMS
from portal.people.scoping import current_scope

NO_INFORMATION = "表示できる技能者情報がありません（技能者IDが正しいか、開示されているかをご確認ください）。"


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "あり" if value else "なし"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.strftime("%Y/%m/%d")
    return str(value)


FIELD_LABELS = {
    "name": "技能者氏名", "name_kana": "技能者氏名フリガナ", "name_roman": "Name", "common_name": "通称名",
    "level_label": "技能レベル", "level_since": "レベル取得日", "postal_code": "郵便番号", "address": "現住所",
    "phone_home": "電話番号(自宅)", "phone_mobile": "電話番号(携帯)", "fax": "FAX",
    "emergency_address": "緊急連絡先住所", "emergency_phone": "緊急連絡先電話番号", "emergency_name": "緊急連絡先氏名",
    "health_status": "健康保険", "health_type": "健康保険種類", "health_exemption_reason": "健康保険 適用除外理由",
    "pension_status": "年金保険", "pension_type": "年金保険種類", "pension_exemption_reason": "年金保険 適用除外理由",
    "employment_status": "雇用保険", "employment_number_last4": "雇用保険 被保険者番号(下4桁)",
    "employment_exemption_reason": "雇用保険 適用除外理由", "kentaikyo": "建設業退職金共済制度",
    "kentaikyo_number": "建退共 被共済者番号", "chutaikyo": "中小企業退職金共済制度",
    "health_check_major": "健康診断(大分類)", "health_check_minor": "健康診断(小分類)", "health_check_date": "受診日",
    "days": "就業日数", "histories": "就業履歴数", "not_counted_site_unapproved": "非計上の就業履歴数(元請現場未承認)",
    "not_counted_site_unregistered": "非計上の就業履歴数(元請現場未登録)", "registration_type": "登録区分",
    "registered_on": "初回登録日", "updated_on": "更新日", "card_expires_on": "カード有効期限",
}


def _lines(code: str, value) -> list[tuple[str, str]]:
    """One item's value as (label, text) lines, in the seed screen's wording."""
    label = ITEM_BY_CODE[code].label
    if code == "level":
        return [("技能レベル", f"{value['level_label']}　{_text(value['level_since'])}〜")]
    if code == "age":
        return [("年齢", f"{value}歳" if value is not None else "—")]
    if code in ("current_employer", "past_employers"):
        rows = [(e["name"] + ("（主たる事業者）" if e.get("is_primary") else ""),
                 e["employer_id"] + (f"　{_text(e.get('started_on'))}〜{_text(e.get('ended_on'))}" if code == "past_employers" else ""))
                for e in value]
        return rows or [(label, "—")]
    if code in ("qualifications", "master_technician"):
        rows = [(q.get("category") or "登録基幹技能者", f"{q['name']}（{_text(q['obtained_on'])}）") for q in value]
        return rows or [(label, "—")]
    if code == "awards":
        return [("表彰", f"{a['name']}（{_text(a['awarded_on'])}）") for a in value] or [(label, "—")]
    if code == "trades":
        return [("職種(大分類-小分類)", "、".join(value) or "—")]
    if code == "photo":
        return [(label, "未登録")]
    if isinstance(value, dict):
        return [(FIELD_LABELS.get(k, k), _text(v)) for k, v in value.items()]
    if code == "identity_document":
        return [(label, "あり" if value else "なし")]
    return [(label, _text(value))]


def display(info: dict) -> list[dict]:
    """The sections of the screen: every item in the seed's order, shown or marked 非開示."""
    sections = []
    for item in ITEMS:
        if item.code in info["items"]:
            sections.append({"code": item.code, "label": item.label, "shown": True,
                             "lines": _lines(item.code, info["items"][item.code])})
        else:
            sections.append({"code": item.code, "label": item.label, "shown": False, "lines": []})
    return sections


def information_for(session, worker_code: str) -> dict | None:
    """Validate the ID, ask portal.people.disclosure what this viewer may see, note it in the audit trail."""
    code = validate_ccus_id(worker_code, "worker")
    pk = disclosure.find_worker_pk(session, code)
    if pk is None:
        return None
    info = disclosure.worker_information(session, current_scope(session), pk)
    if info is not None:
        audit.touched(pk, "技能者情報", code, note="表示項目: " + ",".join(info["items"]))
    return info


class WorkerInformationView(BaseView):
    """技能者情報: search by 技能者ID; show; CSV. Permissions can_list (search), can_show, can_csv."""

    route_base = "/worker-information"
    default_view = "search"

    @expose("/", methods=["GET"])
    @has_access
    def search(self):
        scope = current_scope(self.appbuilder.session)
        if scope.kind == "worker":
            code = self.appbuilder.session.execute(select(Worker.worker_id).where(
                Worker.id == scope.worker_id)).scalar()
            return redirect(url_for(".show", worker_code=code))
        code = (request.args.get("worker_id") or "").strip()
        if code:
            return redirect(url_for(".show", worker_code=code))
        return self.render_template("disclosure/search.html", title="技能者情報")

    @expose("/<worker_code>", methods=["GET"])
    @has_access
    def show(self, worker_code):
        try:
            info = information_for(self.appbuilder.session, worker_code)
        except DomainError as e:
            flash(e.message, "danger")
            return redirect(url_for(".search"))
        if info is None:
            flash(NO_INFORMATION, "warning")
            return redirect(url_for(".search"))
        return self.render_template("disclosure/worker_information.html", title="技能者情報", info=info,
                                    sections=display(info))

    @expose("/<worker_code>/csv", methods=["GET"])
    @has_access
    def csv(self, worker_code):
        audit.mark_export("技能者情報 CSV")
        info = information_for(self.appbuilder.session, worker_code)
        if info is None:
            flash(NO_INFORMATION, "warning")
            return redirect(url_for(".search"))
        from reports.form_1_1 import information_lines
        from reports.writers import write_csv_rows

        out = io.StringIO()  # the portal's one CSV writer: formula-leading cells escaped (= + - @ tab CR)
        write_csv_rows(out, ["項目", "内容", "値"], information_lines(info))
        body = "\ufeff" + out.getvalue()
        return Response(body, mimetype="text/csv", headers={
            "Content-Disposition": f"attachment; filename=worker-information-{info['worker_id']}.csv"})


class DisclosureView(BaseView):
    """開示設定: 380 (the worker, its own items) and 830 → 10_所属技能者 (the employer, per current worker).
    Permissions can_list, can_show (the form), can_edit (save, 一括開示, 一括非開示)."""

    route_base = "/disclosure"
    default_view = "list"

    def _own_workers(self, scope):
        session = self.appbuilder.session
        return session.execute(select(Worker).join(Affiliation, Affiliation.worker_id == Worker.id).where(
            Affiliation.employer_id == scope.employer_id, Affiliation.status == "承認済").order_by(Worker.worker_id)
        ).scalars().all()

    @expose("/", methods=["GET"])
    @has_access
    def list(self):
        session = self.appbuilder.session
        scope = current_scope(session)
        if scope.kind == "worker":
            code = session.execute(select(Worker.worker_id).where(Worker.id == scope.worker_id)).scalar()
            return redirect(url_for(".show", worker_code=code))
        workers = self._own_workers(scope) if scope.kind == "employer" else []
        return self.render_template("disclosure/list.html", title="830_開示設定 → 10_所属技能者", workers=workers)

    def _worker(self, worker_code):
        """The worker whose settings this principal may set (itself, or a current worker of the employer)."""
        session = self.appbuilder.session
        code = validate_ccus_id(worker_code, "worker")
        scope = current_scope(session)
        pk = disclosure.find_worker_pk(session, code)
        allowed = pk is not None and ((scope.kind == "worker" and scope.worker_id == pk) or (
            scope.kind == "employer" and not scope.site_manager
            and scope.employer_id in disclosure.current_employer_ids(session, pk)))
        if not allowed:
            raise DomainError("not_allowed", "この技能者の開示設定を変更する権限がありません。", 403)
        return pk, code, scope

    @expose("/<worker_code>", methods=["GET"])
    @has_access
    def show(self, worker_code):
        pk, code, scope = self._worker(worker_code)
        session = self.appbuilder.session
        name = session.execute(select(Worker.name).where(Worker.id == pk)).scalar()
        side = 0 if scope.kind == "worker" else 1
        title = "380_開示設定 → 10_技能者" if scope.kind == "worker" else "830_開示設定 → 10_所属技能者"
        return self.render_template("disclosure/settings.html", title=title, code=code, name=name,
                                    settings=disclosure.settings(session, pk), items=CONSENTABLE, side=side,
                                    never=[ITEM_BY_CODE[c] for c in sorted(NEVER_ITEMS)])

    @expose("/<worker_code>", methods=["POST"])
    @has_access
    def edit(self, worker_code):
        pk, code, scope = self._worker(worker_code)
        session = self.appbuilder.session
        action = request.form.get("action", "save")
        if action == "disclose_all":
            choices = disclosure.all_items(True)
        elif action == "hide_all":
            choices = disclosure.all_items(False)
        else:
            chosen = set(request.form.getlist("item"))
            choices = {i.code: i.code in chosen for i in CONSENTABLE}
            unknown = chosen - set(choices)
            if unknown:
                raise DomainError("unknown_disclosure_item", f"開示項目が正しくありません（{', '.join(sorted(unknown))}）。")
        disclosure.set_consents(session, scope, pk, choices)
        session.commit()
        flash({"disclose_all": "すべての項目を開示に設定しました。", "hide_all": "すべての項目を非開示に設定しました。"}
              .get(action, "開示設定を保存しました。"), "success")
        return redirect(url_for(".show", worker_code=code))


def register(appbuilder) -> None:
    from portal.people.scoping import ROLE_EMPLOYER as E, ROLE_SITE_MANAGER as M, ROLE_WORKER as W
    from portal.views.base import add

    info = "can_search|can_show|can_csv"
    add(appbuilder, WorkerInformationView, "技能者情報の閲覧", "技能者", {E: info, M: info, W: info}, icon="fa-id-card")
    add(appbuilder, DisclosureView, "開示設定", "技能者", {E: "can_list|can_show|can_edit", W: "can_list|can_show|can_edit"},
        icon="fa-eye-slash")
