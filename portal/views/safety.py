"""Screens and REST APIs of the safety-document data (portal.models.safety), on the screens of the company that
owns it: its 建設業許可, its contract and persons per site, and its workers' 作業員名簿 items. The row scope
decides what each login lists and may change (portal.models.safety's rules); the dropdowns offer only what the
login may write (its own company, its participating sites, its own workers)."""
from __future__ import annotations

from flask_appbuilder.models.sqla.filters import FilterInFunction
from flask_babel import lazy_gettext
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import NumberRange, Optional

from portal.people import audit
from portal.app.db import db
from portal.models import Employer, Site
from portal.models.safety import (
    FOREIGN_STATUSES,
    LICENSE_AUTHORITIES,
    LICENSE_KINDS,
    LICENSE_TRADES,
    STAFF_ROLES,
    ConstructionLicense,
    SiteContract,
    SiteStaff,
    WorkerForeignStatus,
    WorkerSafetyRecord,
)
from portal.people.scoping import ROLE_EMPLOYER as E, ROLE_SITE_MANAGER as M, ROLE_WORKER as W, current_scope
from portal.people.security import READ, WRITE
from portal.views.base import add, add_api, model_api, model_view
from portal.views.masters import item_worker_choices

SAFETY = "安全書類"

# The 作業員名簿 items are a worker's personal data: every view and change goes to its trail (portal.people.audit).
audit.WHAT_LABELS.update({"WorkerSafetyRecord": "作業員名簿の記載事項", "WorkerForeignStatus": "外国人技能実習生・特定技能"})
for _model in (WorkerSafetyRecord, WorkerForeignStatus):
    audit.watch(_model)


def _choices(label: str, values) -> dict:
    return {"add": SelectField(lazy_gettext(label), choices=[(v, v) for v in values]),
            "edit": SelectField(lazy_gettext(label), choices=[(v, v) for v in values])}


def _select_fields(**fields) -> dict:
    return {"add_form_extra_fields": {k: v["add"] for k, v in fields.items()},
            "edit_form_extra_fields": {k: v["edit"] for k, v in fields.items()}}


def _own_employer():
    scope = current_scope(db.session)
    return select(Employer.id) if scope.is_all else [scope.employer_id]


def _own_sites():
    scope = current_scope(db.session)
    return select(Site.id) if scope.is_all else list(scope.participating_site_ids)


OWN_COMPANY = {"employer": [["id", FilterInFunction, _own_employer]]}
OWN_SITE = {**OWN_COMPANY, "site": [["id", FilterInFunction, _own_sites]]}

LICENSE_COLUMNS = ["employer", "trade", "authority", "kind", "number", "granted_on"]
ConstructionLicenseView = model_view(
    ConstructionLicense, list_columns=LICENSE_COLUMNS, show_columns=LICENSE_COLUMNS, add_columns=LICENSE_COLUMNS,
    edit_columns=LICENSE_COLUMNS[1:], search_columns=["employer", "trade", "authority", "kind"],
    label_columns={"trade": "許可業種", "kind": "特定・一般の別"},
    add_form_query_rel_fields=OWN_COMPANY,
    **_select_fields(trade=_choices("許可業種", LICENSE_TRADES), authority=_choices("大臣・知事", LICENSE_AUTHORITIES),
                     kind=_choices("特定・一般", LICENSE_KINDS)),
)
CONTRACT_COLUMNS = ["site", "employer", "orderer_name", "contracted_on", "period_start", "period_end", "work_content",
                    "specialty_work", "amount", "general_building", "public_work", "handed_over_on"]
SiteContractView = model_view(
    SiteContract, list_columns=CONTRACT_COLUMNS[:6], show_columns=CONTRACT_COLUMNS, add_columns=CONTRACT_COLUMNS,
    edit_columns=CONTRACT_COLUMNS[2:], search_columns=["site", "employer"], add_form_query_rel_fields=OWN_SITE,
)
STAFF_COLUMNS = ["site", "employer", "role", "person_name", "full_time", "qualification", "work_scope"]
SiteStaffView = model_view(
    SiteStaff, list_columns=STAFF_COLUMNS[:6], show_columns=STAFF_COLUMNS, add_columns=STAFF_COLUMNS,
    edit_columns=STAFF_COLUMNS[2:], search_columns=["site", "employer", "role"], add_form_query_rel_fields=OWN_SITE,
    label_columns={"qualification": "資格内容", "work_scope": "担当工事内容・権限及び意見申出方法"},
    **_select_fields(role=_choices("役割", STAFF_ROLES)),
)
BP = [Optional(), NumberRange(40, 300, "血圧は40〜300の数値で入力してください。")]
RECORD_COLUMNS = ["worker", "hired_on", "blood_pressure_high", "blood_pressure_low", "special_check_kind",
                  "special_check_on", "hire_education_on", "foreman_education_on", "special_education",
                  "skill_training", "licenses"]
WorkerSafetyRecordView = model_view(
    WorkerSafetyRecord, **item_worker_choices(WorkerSafetyRecord), list_columns=RECORD_COLUMNS[:4],
    show_columns=RECORD_COLUMNS, add_columns=RECORD_COLUMNS, edit_columns=RECORD_COLUMNS[1:],
    search_columns=["worker"],  # no filters on health data: not searchable
    validators_columns={"blood_pressure_high": BP, "blood_pressure_low": BP},
)
WorkerForeignStatusView = model_view(
    WorkerForeignStatus, **item_worker_choices(WorkerForeignStatus), list_columns=["worker", "status"],
    add_columns=["worker", "status"], edit_columns=["status"], search_columns=["worker"],
    label_columns={"status": "外国人の区分"},
    **_select_fields(status=_choices("外国人の区分", FOREIGN_STATUSES)),
)

SCREENS = [
    (ConstructionLicenseView, "建設業許可", SAFETY, {E: WRITE, M: READ}),
    (SiteContractView, "現場の契約（工期・契約日・注文者）", SAFETY, {E: WRITE, M: WRITE}),
    (SiteStaffView, "現場の技術者・責任者", SAFETY, {E: WRITE, M: WRITE}),
    (WorkerSafetyRecordView, "作業員名簿の記載事項", SAFETY, {E: WRITE, M: READ, W: READ}),
    (WorkerForeignStatusView, "外国人技能実習生・特定技能", SAFETY, {E: WRITE, W: READ}),
]
APIS = [
    (model_api(ConstructionLicense, "construction-licenses", like=ConstructionLicenseView), {E: WRITE, M: READ}),
    (model_api(SiteContract, "site-contracts", like=SiteContractView), {E: WRITE, M: WRITE}),
    (model_api(SiteStaff, "site-staff", like=SiteStaffView), {E: WRITE, M: WRITE}),
    (model_api(WorkerSafetyRecord, "worker-safety-records", like=WorkerSafetyRecordView), {E: WRITE, M: READ, W: READ}),
]


def register(appbuilder) -> None:
    for view, title, category, grants in SCREENS:
        add(appbuilder, view, title, category, grants)
    for api, grants in APIS:
        add_api(appbuilder, api, grants)
