"""Master-data screens and REST APIs: code tables, employers, workers and their items, sites, the
subcontract structure and the site roster. Each registration names the roles that may use it."""
from __future__ import annotations

from flask_appbuilder.models.sqla.filters import FilterEqual, FilterInFunction  # noqa: F401  (FilterEqual: tests)
from flask_babel import lazy_gettext
from wtforms import DateField, SelectField
from wtforms.validators import NumberRange, Optional

from portal.models import (
    Affiliation,
    Employer,
    EmployerDetail,
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
from portal.models.employers import DETAIL_COLUMNS
from portal.models.workers import AFFILIATION_CHANGES, AFFILIATION_STATUSES
from portal.people.scoping import ROLE_EMPLOYER as E, ROLE_SITE_MANAGER as M, ROLE_WORKER as W, item_readers
from portal.history.shifts import MAX_SHIFT_HOURS_RANGE
from portal.people.security import READ, WRITE
from portal.views.base import CcusId, add, add_api, model_api, model_view, worker_choices
from portal.output.work_calendar import PICK_LIMIT

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



def item_worker_choices(model) -> dict:
    """The worker dropdowns of a worker's items: the search lists only the workers whose ``model`` rows the
    user reads (the row scope's item_readers), the add form only the user's own workers; never every worker
    the user knows by name (a worker who merely tapped at a gate)."""
    readers = worker_choices(lambda scope: item_readers(scope, model), limit=PICK_LIMIT)
    own = worker_choices(lambda scope: scope.own_worker_ids)
    return {"search_form_query_rel_fields": {"worker": [["id", FilterInFunction, readers]]},
            "add_form_query_rel_fields": {"worker": [["id", FilterInFunction, own]]}}


# The directory every login reads: name, ID and address (the rest is EmployerDetail, the employer's own).
EMPLOYER_COLUMNS = ["employer_id", "name", "name_kana", "corporate_type", "postal_code", "address"]
EmployerView = model_view(
    Employer, list_columns=["employer_id", "name", "corporate_type", "address"],
    show_columns=EMPLOYER_COLUMNS, add_columns=EMPLOYER_COLUMNS, edit_columns=EMPLOYER_COLUMNS[1:],
    search_columns=["employer_id", "name", "name_kana", "corporate_type", "address"],
    validators_columns={"employer_id": [CcusId("employer", Employer, "employer_id")]},
)
EmployerDetailView = model_view(
    EmployerDetail, list_columns=["employer", "representative", "phone", "kentaikyo_contract_number"],
    show_columns=["employer", *DETAIL_COLUMNS], add_columns=["employer", *DETAIL_COLUMNS],
    edit_columns=list(DETAIL_COLUMNS), search_columns=["employer"],  # no filters on the numbers: not searchable
    validators_columns={"capital_yen": [NumberRange(min=0, message="資本金は0以上で入力してください。")]},
)

WORKER_COLUMNS = ["worker_id", "name", "name_kana", "name_roman", "common_name", "level", "level_since",
                  "registration_type", "identity_document", "card_expires_on", "registered_on", "updated_on"]
# What evaluation and registration set (portal.people.scoping.REGISTRATION_FIELDS): the administrator's screen only.
REGISTRATION_COLUMNS = ["level", "level_since", "registration_type", "identity_document", "card_expires_on",
                        "registered_on", "updated_on"]
WORKER_VALIDATORS = {"worker_id": [CcusId("worker", Worker, "worker_id")],
                     "level": [NumberRange(1, 4, "技能レベルは1〜4です。")]}
WorkerView = model_view(
    Worker, list_columns=["worker_id", "name", "name_kana", "level_label", "registration_type", "trade_names"],
    show_columns=WORKER_COLUMNS + ["trades", "qualifications"], add_columns=WORKER_COLUMNS,
    edit_columns=["name", "name_kana", "name_roman", "common_name"],
    search_columns=["worker_id", "name", "name_kana", "level", "registration_type"],
    validators_columns=WORKER_VALIDATORS,
)
WorkerRegistrationView = model_view(
    Worker, class_name="WorkerRegistrationView", list_columns=["worker_id", "name", *REGISTRATION_COLUMNS[:5]],
    show_columns=["worker_id", "name", *REGISTRATION_COLUMNS], edit_columns=REGISTRATION_COLUMNS,
    search_columns=["worker_id", "name", "level", "registration_type", "card_expires_on"],
    validators_columns=WORKER_VALIDATORS, base_permissions=["can_list", "can_show", "can_edit"],
)
PERSONAL_COLUMNS = ["worker", "birth_date", "sex", "blood_type", "postal_code", "address", "phone_home",
                    "phone_mobile", "fax", "email", "emergency_address", "emergency_phone", "emergency_name",
                    "nationality", "education", "health_check_major", "health_check_minor", "health_check_date"]
WorkerPersonalView = model_view(
    WorkerPersonal, **item_worker_choices(WorkerPersonal), list_columns=["worker", "sex", "address", "phone_mobile"], show_columns=PERSONAL_COLUMNS,
    add_columns=PERSONAL_COLUMNS, edit_columns=PERSONAL_COLUMNS[2:],  # the date of birth cannot be changed
    search_columns=["worker", "sex", "nationality"],  # no address or phone filters: they are secrets
)
INSURANCE_COLUMNS = ["worker", "health_status", "health_type", "health_exemption_reason", "pension_status",
                     "pension_type", "pension_exemption_reason", "employment_status", "employment_number_last4",
                     "employment_exemption_reason", "kentaikyo", "kentaikyo_number", "chutaikyo", "rousai_special"]
WorkerInsuranceView = model_view(
    WorkerInsurance, **item_worker_choices(WorkerInsurance), list_columns=["worker", "health_status", "pension_status", "employment_status", "kentaikyo"],
    show_columns=INSURANCE_COLUMNS, add_columns=INSURANCE_COLUMNS, edit_columns=INSURANCE_COLUMNS[1:],
    search_columns=["worker", "health_status", "pension_status", "employment_status", "kentaikyo"],
)
WorkerTradeView = model_view(
    WorkerTrade, **item_worker_choices(WorkerTrade), list_columns=["worker", "trade", "position", "experience_years"],
    label_columns={"position": "順位"},  # the order of the worker's trades (1 = main), not a 立場 on a site
    add_columns=["worker", "trade", "position", "experience_years"], search_columns=["worker", "trade"],
    validators_columns={"position": [NumberRange(1, 4, "職種は1人4つまでです（1〜4）。")]},
)
WorkerQualificationView = model_view(
    WorkerQualification, **item_worker_choices(WorkerQualification), list_columns=["worker", "qualification", "obtained_on", "proof_attached"],
    add_columns=["worker", "qualification", "obtained_on", "certificate_number", "proof_attached"],
    search_columns=["worker", "qualification", "obtained_on"],
)
WorkerAwardView = model_view(WorkerAward, **item_worker_choices(WorkerAward), list_columns=["worker", "name", "awarded_on"],
                             add_columns=["worker", "name", "awarded_on"], search_columns=["worker", "name"])


def _affiliation_status_choices(self, form, pk):
    """The status select offers the changes allowed from the stored status (portal.people.validation checks them
    again on every flush, screens and REST alike)."""
    stored = self.datamodel.get(pk)
    if stored is not None:
        form.status.choices = [(stored.status, stored.status)] + [
            (after, after) for before, after in sorted(AFFILIATION_CHANGES) if before == stored.status]


AffiliationView = model_view(
    Affiliation, prefill_form=_affiliation_status_choices,
    edit_form_extra_fields={"status": SelectField(lazy_gettext("所属の状態"),
                                                  choices=[(s, s) for s in AFFILIATION_STATUSES])},
    add_form_extra_fields={"status": SelectField(lazy_gettext("所属の状態"),
                                                 choices=[(s, s) for s in AFFILIATION_STATUSES])},
    list_columns=["worker", "employer", "status", "is_primary", "started_on", "ended_on"],
    add_columns=["worker", "employer", "status", "is_primary", "started_on", "ended_on"],
    edit_columns=["status", "is_primary", "ended_on"], search_columns=["worker", "employer", "status", "is_primary"],
)

# shown under the field: what the setting does (portal.history.shifts)
MAX_SHIFT_HOURS_HELP = lazy_gettext("入場から退場までの最長時間(1〜23時間、既定16)。日付をまたぐ勤務(夜間工事)は、"
                                    "この時間内なら勤務を始めた日の就業履歴になります。")
SITE_COLUMNS = ["site_id", "name", "prime_employer", "order_type", "accumulation_start", "accumulation_end",
                "hazardous_substances", "approved", "location", "client_name", "contract_form", "contract_start",
                "contract_end", "work_category", "work_content", "site_agent", "max_shift_hours"]
SiteView = model_view(
    Site, list_columns=["site_id", "name", "prime_employer", "work_category", "accumulation_start", "accumulation_end", "approved"],
    show_columns=SITE_COLUMNS, add_columns=SITE_COLUMNS, edit_columns=SITE_COLUMNS[1:],
    search_columns=["site_id", "name", "prime_employer", "work_category", "order_type", "approved"],
    validators_columns={"site_id": [CcusId("site", Site, "site_id")],
                        "max_shift_hours": [Optional(), NumberRange(*MAX_SHIFT_HOURS_RANGE, "最長勤務時間は1〜23時間です。")]},
    label_columns={"work_content": "工事内容"},
    description_columns={"max_shift_hours": MAX_SHIFT_HOURS_HELP},
)
SiteManagerAssignmentView = model_view(SiteManagerAssignment, list_columns=["site", "user"],
                                       add_columns=["site", "user"], search_columns=["site"])
StructureLinkView = model_view(
    StructureLink, list_columns=["site", "upper_employer", "lower_employer", "tier", "status", "approved_at"],
    add_columns=["site", "upper_employer", "lower_employer", "tier", "work_scope", "contract_amount_yen"],
    edit_columns=["status", "work_scope", "contract_amount_yen"],
    search_columns=["site", "upper_employer", "lower_employer", "tier", "status"],
    validators_columns={"contract_amount_yen": [NumberRange(min=0, message="契約金額は0以上で入力してください。")]},
)
ROSTER_COLUMNS = ["site", "worker", "employer", "trade", "position", "work_content", "hazardous_work",
                  "start_date", "end_date", "entry_education_on"]
def _tokyo_today():
    from portal.app.clock import tokyo_today

    return tokyo_today()


# 適用開始日: an edit of trade, role, work content or hazardous work is a new fact from this day (portal.history.roster_changes);
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
    (EmployerDetailView, "事業者の登録内容", MASTER, {E: "can_list|can_show|can_edit|can_add", M: READ}),  # its own
    (WorkerView, "技能者情報", WORKERS, {E: "can_list|can_show|can_edit", M: READ, W: READ}),
    (WorkerRegistrationView, "技能者の登録情報", WORKERS, {}),  # the administrator's (and imports')
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
    (model_api(Employer, "employers", like=EmployerView, list_columns=["id", *EMPLOYER_COLUMNS],
               show_columns=["id", *EMPLOYER_COLUMNS]), {E: READ, M: READ, W: READ}),
    (model_api(EmployerDetail, "employer-details", like=EmployerDetailView), {E: READ + "|can_put|can_post", M: READ}),
    (model_api(Worker, "workers", like=WorkerView, edit_columns=WORKER_COLUMNS[1:],  # registration fields:
               list_columns=["id", "worker_id", "name", "name_kana", "level", "registration_type"]),  # admin only
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
