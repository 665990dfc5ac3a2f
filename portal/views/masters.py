"""Master-data screens and REST APIs: code tables, employers, workers and their items, sites, the
subcontract structure and the site roster. Each registration names the roles that may use it."""
from __future__ import annotations

from flask_appbuilder.models.sqla.filters import FilterEqual  # noqa: F401  (used by tests of filters)
from wtforms import DateField
from wtforms.validators import NumberRange, Optional

from portal.models import (
    Affiliation,
    Employer,
    Qualification,
    Site,
    SiteManagerAssignment,
    SiteWorkerRegistration,
    StructureLink,
    Trade,
    Worker,
    WorkerAward,
    WorkerInsurance,
    WorkerPersonal,
    WorkerQualification,
    WorkerTrade,
)
from portal.scoping import ROLE_EMPLOYER as E, ROLE_SITE_MANAGER as M, ROLE_WORKER as W
from portal.security import READ, WRITE
from portal.views.base import CcusId, add, add_api, model_api, model_view

MASTER = "マスタ"
WORKERS = "技能者"
SITES = "現場・施工体制"

TradeView = model_view(
    Trade, list_columns=["major_code", "major_name", "minor_code", "minor_name", "evaluation_field"],
    search_columns=["major_code", "major_name", "minor_code", "minor_name", "evaluation_field"],
    order_columns=["major_code", "minor_code"], base_order=("major_code", "asc"),
)
QualificationView = model_view(
    Qualification, list_columns=["code", "name", "category"], search_columns=["code", "name", "category"],
    base_order=("code", "asc"),
)

EMPLOYER_COLUMNS = ["employer_id", "name", "name_kana", "corporate_type", "corporate_number", "postal_code",
                    "address", "phone", "representative", "license_number", "capital_yen",
                    "kentaikyo_contract_number", "health_insurance_office_no", "pension_office_no",
                    "employment_insurance_office_no", "registered_on"]
EmployerView = model_view(
    Employer, list_columns=["employer_id", "name", "corporate_type", "address", "phone"],
    show_columns=EMPLOYER_COLUMNS, add_columns=EMPLOYER_COLUMNS, edit_columns=EMPLOYER_COLUMNS,
    search_columns=["employer_id", "name", "name_kana", "corporate_type", "address"],
    validators_columns={"employer_id": [CcusId("employer", Employer, "employer_id")]},
)

WORKER_COLUMNS = ["worker_id", "name", "name_kana", "name_roman", "common_name", "level", "level_since",
                  "registration_type", "identity_document", "card_expires_on", "registered_on", "updated_on"]
WorkerView = model_view(
    Worker, list_columns=["worker_id", "name", "name_kana", "level_label", "registration_type", "trade_names"],
    show_columns=WORKER_COLUMNS + ["trades", "qualifications"], add_columns=WORKER_COLUMNS,
    edit_columns=WORKER_COLUMNS[1:], search_columns=["worker_id", "name", "name_kana", "level", "registration_type"],
    validators_columns={"worker_id": [CcusId("worker", Worker, "worker_id")], "level": [NumberRange(1, 4, "技能レベルは1〜4です。")]},
)
PERSONAL_COLUMNS = ["worker", "birth_date", "sex", "blood_type", "postal_code", "address", "phone_home",
                    "phone_mobile", "fax", "email", "emergency_address", "emergency_phone", "emergency_name",
                    "nationality", "education", "health_check_major", "health_check_minor", "health_check_date"]
WorkerPersonalView = model_view(
    WorkerPersonal, list_columns=["worker", "sex", "address", "phone_mobile"], show_columns=PERSONAL_COLUMNS,
    add_columns=PERSONAL_COLUMNS, edit_columns=PERSONAL_COLUMNS[2:],  # the date of birth cannot be changed
    search_columns=["worker", "sex", "nationality"],  # no address or phone filters: they are secrets
)
INSURANCE_COLUMNS = ["worker", "health_status", "health_type", "health_exemption_reason", "pension_status",
                     "pension_type", "pension_exemption_reason", "employment_status", "employment_number_last4",
                     "employment_exemption_reason", "kentaikyo", "kentaikyo_number", "chutaikyo", "rousai_special"]
WorkerInsuranceView = model_view(
    WorkerInsurance, list_columns=["worker", "health_status", "pension_status", "employment_status", "kentaikyo"],
    show_columns=INSURANCE_COLUMNS, add_columns=INSURANCE_COLUMNS, edit_columns=INSURANCE_COLUMNS[1:],
    search_columns=["worker", "health_status", "pension_status", "employment_status", "kentaikyo"],
)
WorkerTradeView = model_view(
    WorkerTrade, list_columns=["worker", "trade", "position", "experience_years"],
    add_columns=["worker", "trade", "position", "experience_years"], search_columns=["worker", "trade"],
    validators_columns={"position": [NumberRange(1, 4, "職種は1人4つまでです（1〜4）。")]},
)
WorkerQualificationView = model_view(
    WorkerQualification, list_columns=["worker", "qualification", "obtained_on", "proof_attached"],
    add_columns=["worker", "qualification", "obtained_on", "certificate_number", "proof_attached"],
    search_columns=["worker", "qualification", "obtained_on"],
)
WorkerAwardView = model_view(WorkerAward, list_columns=["worker", "name", "awarded_on"],
                             add_columns=["worker", "name", "awarded_on"], search_columns=["worker", "name"])
AffiliationView = model_view(
    Affiliation, list_columns=["worker", "employer", "status", "is_primary", "started_on", "ended_on"],
    add_columns=["worker", "employer", "status", "is_primary", "started_on", "ended_on"],
    edit_columns=["status", "is_primary", "ended_on"], search_columns=["worker", "employer", "status", "is_primary"],
)

SITE_COLUMNS = ["site_id", "name", "prime_employer", "order_type", "accumulation_start", "accumulation_end",
                "hazardous_substances", "approved", "location", "client_name", "contract_form", "contract_start",
                "contract_end", "work_category", "work_content", "site_agent"]
SiteView = model_view(
    Site, list_columns=["site_id", "name", "prime_employer", "work_category", "accumulation_start", "accumulation_end", "approved"],
    show_columns=SITE_COLUMNS, add_columns=SITE_COLUMNS, edit_columns=SITE_COLUMNS[1:],
    search_columns=["site_id", "name", "prime_employer", "work_category", "order_type", "approved"],
    validators_columns={"site_id": [CcusId("site", Site, "site_id")]},
    label_columns={"work_content": "工事内容"},
)
SiteManagerAssignmentView = model_view(SiteManagerAssignment, list_columns=["site", "user"],
                                       add_columns=["site", "user"], search_columns=["site"])
StructureLinkView = model_view(
    StructureLink, list_columns=["site", "upper_employer", "lower_employer", "tier", "status", "approved_at"],
    add_columns=["site", "upper_employer", "lower_employer", "tier", "work_scope", "contract_amount_yen"],
    edit_columns=["status", "work_scope", "contract_amount_yen"],
    search_columns=["site", "upper_employer", "lower_employer", "tier", "status"],
)
ROSTER_COLUMNS = ["site", "worker", "employer", "trade", "position", "work_content", "hazardous_work",
                  "start_date", "end_date", "entry_education_on"]
def _tokyo_today():
    from portal.clock import tokyo_today

    return tokyo_today()


# 適用開始日: an edit of trade, role, work content or hazardous work is a new fact from this day (portal.roster_changes);
# the REST API's edits take effect today
SiteWorkerRegistrationView = model_view(
    SiteWorkerRegistration, list_columns=["site", "worker", "employer", "trade", "position", "start_date", "end_date"],
    show_columns=ROSTER_COLUMNS, add_columns=ROSTER_COLUMNS, edit_columns=ROSTER_COLUMNS[3:] + ["effective_from"],
    search_columns=["site", "worker", "employer", "trade", "position", "start_date"],
    edit_form_extra_fields={"effective_from": DateField(
        "適用開始日", default=_tokyo_today, validators=[Optional()],
        description="職種・立場・作業内容・有害業務の変更をこの日から適用します（本日以降。過去の就業日は事後補正で申請）。")},
)

SCREENS = [
    # (view, title, category, grants)
    (TradeView, "職種コード", MASTER, {E: READ, M: READ}),
    (QualificationView, "資格コード", MASTER, {E: READ, M: READ}),
    (EmployerView, "事業者", MASTER, {E: "can_list|can_show|can_edit", M: READ, W: READ}),
    (WorkerView, "技能者情報", WORKERS, {E: "can_list|can_show|can_edit", M: READ, W: READ}),
    (WorkerPersonalView, "本人情報", WORKERS, {E: "can_list|can_show|can_edit|can_add", W: READ}),
    (WorkerInsuranceView, "社会保険", WORKERS, {E: WRITE, M: READ, W: READ}),
    (WorkerTradeView, "保有職種", WORKERS, {E: WRITE, M: READ, W: READ}),
    (WorkerQualificationView, "保有資格", WORKERS, {E: WRITE, M: READ, W: READ}),
    (WorkerAwardView, "表彰", WORKERS, {E: WRITE, M: READ, W: READ}),
    (AffiliationView, "所属", WORKERS, {E: "can_list|can_show|can_edit", W: READ}),
    (SiteView, "現場", SITES, {E: WRITE, M: "can_list|can_show|can_edit", W: READ}),
    (SiteManagerAssignmentView, "現場管理者の割当", SITES, {E: WRITE}),
    (StructureLinkView, "施工体制", SITES, {E: WRITE, M: WRITE}),
    (SiteWorkerRegistrationView, "作業員名簿", SITES, {E: WRITE, M: READ, W: READ}),
]

APIS = [
    (model_api(Employer, "employers", like=EmployerView), {E: READ, M: READ, W: READ}),
    (model_api(Worker, "workers", like=WorkerView,
               list_columns=["id", "worker_id", "name", "name_kana", "level", "registration_type"]),
     {E: READ + "|can_put", M: READ, W: READ}),
    (model_api(WorkerPersonal, "worker-personal", like=WorkerPersonalView), {E: READ + "|can_put", W: READ}),
    (model_api(WorkerInsurance, "worker-insurance", like=WorkerInsuranceView), {E: WRITE, M: READ, W: READ}),
    (model_api(Affiliation, "affiliations", like=AffiliationView), {E: READ + "|can_put", W: READ}),
    (model_api(Site, "sites", like=SiteView), {E: WRITE, M: READ, W: READ}),
    (model_api(StructureLink, "structure-links", like=StructureLinkView), {E: WRITE, M: WRITE}),
    (model_api(SiteWorkerRegistration, "site-workers", like=SiteWorkerRegistrationView,
               edit_columns=ROSTER_COLUMNS[3:]), {E: WRITE, M: READ, W: READ}),
    (model_api(Trade, "trades", like=TradeView), {E: READ, M: READ, W: READ}),
    (model_api(Qualification, "qualifications", like=QualificationView), {E: READ, M: READ, W: READ}),
]


def register(appbuilder) -> None:
    for view, title, category, grants in SCREENS:
        add(appbuilder, view, title, category, grants)
    for api, grants in APIS:
        add_api(appbuilder, api, grants)
