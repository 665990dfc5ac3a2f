"""3-1 事業者情報 (技能者、所属事業主、元請、上位下請): one company's registered information (the registered-
employer directory is public in CCUS, so any company the viewer's scope shows; default: the viewer's own, a
worker's current employer). The directory is ID, name and address; the rest (EmployerDetail: insurance office
numbers, 建退共 contract number, representative …) only the company itself and administrators read (the row
scope), so another viewer gets those lines as 非開示."""
from __future__ import annotations

from sqlalchemy import select

from portal.people import disclosure
from portal.app.errors import DomainError
from portal.models import Employer
from reports import register
from reports.base import OWN_EMPLOYER, PRIME, UPPER, WORKER, Output, Params, Report, Viewer
from reports.pairs import record_output


def build(session, viewer: Viewer, params: Params) -> Output:
    employer_id = params.employer or viewer.employer_id
    if employer_id is None and viewer.worker_id is not None:
        employer_id = min(disclosure.current_employer_ids(session, viewer.worker_id), default=None)
    if employer_id is None:
        raise DomainError("employer_required", "事業者を選んでください。")
    if not viewer.scope.is_all and employer_id not in viewer.scope.employer_ids:
        raise DomainError("employer_not_visible", "この事業者の情報は出力できません。", 404)
    e = session.execute(select(Employer).where(Employer.id == employer_id)).scalar_one_or_none()
    if e is None:
        raise DomainError("employer_not_visible", "この事業者の情報は出力できません。", 404)
    d = e.detail  # None unless the viewer is the company itself or an administrator (row scope)

    def detail(column: str):
        return getattr(d, column) if d is not None else "非開示"

    return record_output([
        ("事業者ID", e.employer_id), ("事業者名", e.name), ("事業者名フリガナ", e.name_kana), ("法人・個人", e.corporate_type),
        ("法人番号", detail("corporate_number")), ("郵便番号", e.postal_code), ("所在地", e.address),
        ("電話番号", detail("phone")), ("登録責任者", detail("representative")),
        ("建設業許可番号", detail("license_number")), ("資本金(円)", detail("capital_yen")),
        ("建退共 共済契約者番号", detail("kentaikyo_contract_number")),
        ("健康保険 事業所整理記号", detail("health_insurance_office_no")),
        ("厚生年金 事業所整理記号", detail("pension_office_no")),
        ("雇用保険 事業所番号", detail("employment_insurance_office_no")),
        ("登録日", detail("registered_on"))], subtitle=f"{e.name}（{e.employer_id}）")


REPORT = register(Report(id="3-1", title="事業者情報", parties=(WORKER, OWN_EMPLOYER, PRIME, UPPER),
                         filters=("employer",), build=build))
