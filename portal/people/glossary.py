"""One glossary: the Japanese label of every domain column, used by every screen, export and report.
Japanese is the source language: on screens a label is the msgid of a lazy translation (English in
portal/translations), so the same label follows the user's language per request."""
from flask_babel import lazy_gettext

LABELS = {
    # employers
    "employer_id": "事業者ID", "name": "名称", "name_kana": "フリガナ", "corporate_type": "法人・個人区分",
    "corporate_number": "法人番号", "postal_code": "郵便番号", "address": "住所", "phone": "電話番号",
    "representative": "登録責任者", "license_number": "建設業許可番号", "capital_yen": "資本金(円)",
    "kentaikyo_contract_number": "建退共 共済契約者番号", "health_insurance_office_no": "健康保険 事業所整理記号",
    "pension_office_no": "厚生年金 事業所整理記号", "employment_insurance_office_no": "雇用保険 事業所番号",
    "registered_on": "初回登録日", "employer": "所属事業者",
    # workers
    "worker_id": "技能者ID", "worker": "技能者", "name_roman": "Name", "common_name": "通称名",
    "level": "技能レベル", "level_label": "技能レベル", "level_since": "レベル取得日", "registration_type": "登録区分",
    "identity_document": "本人確認書類", "card_expires_on": "カード有効期限", "updated_on": "更新日",
    "withdrawn_at": "退会日時", "birth_date": "生年月日", "sex": "性別", "blood_type": "血液型",
    "phone_home": "電話番号(自宅)", "phone_mobile": "電話番号(携帯)", "fax": "FAX", "email": "メールアドレス",
    "emergency_address": "緊急連絡先住所", "emergency_phone": "緊急連絡先電話番号", "emergency_name": "緊急連絡先氏名",
    "nationality": "国籍", "education": "学歴・指定学科", "health_check_major": "健康診断(大分類)",
    "health_check_minor": "健康診断(小分類)", "health_check_date": "健康診断日",
    "health_status": "健康保険", "health_type": "健康保険種類", "health_exemption_reason": "健康保険 適用除外理由",
    "pension_status": "年金保険", "pension_type": "年金保険種類", "pension_exemption_reason": "年金保険 適用除外理由",
    "employment_status": "雇用保険", "employment_number_last4": "雇用保険 被保険者番号(下4桁)",
    "employment_exemption_reason": "雇用保険 適用除外理由", "kentaikyo": "建退共加入", "kentaikyo_number": "建退共 被共済者番号",
    "chutaikyo": "中退共加入", "rousai_special": "労災保険特別加入", "trade": "職種", "trades": "職種", "trade_names": "職種",
    "position": "立場", "experience_years": "経験年数", "qualification": "資格", "qualifications": "保有資格",
    "obtained_on": "取得日", "expires_on": "有効期限", "certificate_number": "証明書番号", "proof_attached": "証明書類", "awarded_on": "表彰日",
    "status": "状態", "is_primary": "主たる所属事業者", "started_on": "開始日", "ended_on": "終了日",
    # codes
    "major_code": "大分類コード", "major_name": "大分類", "minor_code": "小分類コード", "minor_name": "小分類",
    "evaluation_field": "能力評価分野", "code": "コード", "category": "資格種類",
    # sites and structure
    "site_id": "現場ID", "site": "現場", "prime_employer": "元請事業者", "order_type": "発注区分",
    "accumulation_start": "就業履歴蓄積期間(開始)", "accumulation_end": "就業履歴蓄積期間(終了)",
    "hazardous_substances": "有害物質取扱いの有無", "approved": "元請承認", "location": "施工場所",
    "max_shift_hours": "最長勤務時間(夜間工事)",
    "client_name": "発注者名", "contract_form": "受注形態", "contract_start": "契約工期(開始)",
    "contract_end": "契約工期(終了)", "work_category": "工事区分", "work_content": "作業内容",
    "site_agent": "現場代理人", "upper_employer": "上位事業者", "lower_employer": "下位事業者", "tier": "階層(次)",
    "invited_at": "招待日時", "approved_at": "承認日時", "work_scope": "担当工事内容", "contract_amount_yen": "契約金額(円)",
    "hazardous_work": "有害業務への従事", "start_date": "入場予定日", "end_date": "退場予定日",
    "entry_education_on": "受入教育実施日", "user": "ユーザー", "approved_on": "現場承認日",
    "effective_from": "適用開始日",
    # devices, events, histories, audit
    "device_type": "デバイス種別", "key_prefix": "APIキー(先頭)", "created_at": "作成日時", "revoked_at": "失効日時",
    "last_seen_at": "最終通信日時", "device": "デバイス", "device_event_id": "デバイスイベントID", "worker_code": "技能者ID(受信値)",
    "refusal": "拒否理由", "refusal_label": "拒否理由",
    "kind": "種別", "occurred_at": "発生日時", "work_date": "就業日", "method": "方法", "extras": "追加情報",
    "received_at": "受信日時", "methods": "方法", "first_entry_at": "入場時刻", "last_exit_at": "退場時刻",
    "counted": "計上", "not_counted_reason": "非計上理由", "not_counted_label": "非計上理由",
    "valid_for_evaluation": "能力評価に有効", "invalid_reason": "無効理由", "updated_at": "更新日時",
    "at": "日時", "username": "ユーザー", "action": "操作", "object_type": "対象", "object_id": "対象ID",
    "detail": "内容", "remote_addr": "接続元",
    # the trail of a history (portal.models.history_trail)
    "before": "変更前", "after": "変更後", "cause": "変更の原因", "cause_label": "変更の原因", "actor": "変更者",
    "action_label": "操作",
    # safety documents (portal.models.safety)
    "authority": "大臣・知事の別", "number": "許可番号", "granted_on": "許可(更新)年月日", "orderer_name": "注文者名",
    "contracted_on": "注文者との契約日", "period_start": "工期(自)", "period_end": "工期(至)",
    "specialty_work": "特定専門工事", "role": "役割", "person_name": "氏名", "full_time": "専任",
    "hired_on": "雇入年月日", "blood_pressure_high": "血圧(最高)", "blood_pressure_low": "血圧(最低)",
    "special_check_kind": "特殊健康診断(種類)", "special_check_on": "特殊健康診断日", "hire_education_on": "雇入時教育",
    "foreman_education_on": "職長教育", "special_education": "特別教育", "skill_training": "技能講習", "licenses": "免許",
    "amount": "請負代金額（円）", "general_building": "建築一式工事", "public_work": "公共工事", "handed_over_on": "引渡し日",
}


def labels(*columns: str) -> dict:
    """FAB ``label_columns`` for the given columns (dotted related columns use the last part), translated
    when rendered; a column outside the glossary keeps its own name."""
    found = {c: LABELS.get(c.split(".")[-1]) for c in columns}
    return {c: lazy_gettext(label) if label else c for c, label in found.items()}


# --- values -----------------------------------------------------------------------------------------------------
# The Japanese label of every enumerated value a screen shows. A key is a column name, or "Model.column" where
# one column name means different things in different tables. The labels live next to their models (they are
# the domain's own dictionaries); this is where screens look them up, so a code never reaches a screen raw.
YES, NO = "○", "―"  # booleans, as on the official forms


def _enumerations() -> dict:
    from portal.people.audit import ACTION_LABELS, WHAT_LABELS
    from portal.models.corrections import KINDS as CORRECTION_KINDS, REASONS as CORRECTION_REASONS, REQUESTER_KINDS
    from portal.models.events import EVENT_KINDS
    from portal.models.histories import NOT_COUNTED_REASONS
    from portal.models.history_trail import ACTIONS as TRAIL_ACTIONS, CAUSES
    from portal.models.jobs import STATUS_LABELS
    from portal.models.workers import LEVELS

    return {
        "EntryExitEvent.kind": EVENT_KINDS, "WorkCorrection.kind": CORRECTION_KINDS,
        "WorkCorrection.reason": CORRECTION_REASONS, "requested_by_kind": REQUESTER_KINDS,
        "not_counted_reason": NOT_COUNTED_REASONS, "cause": CAUSES, "WorkHistoryChange.action": TRAIL_ACTIONS,
        "AuditLog.action": ACTION_LABELS, "ReportJob.status": STATUS_LABELS, "level": LEVELS,
        "WorkerTrade.position": {1: "1（主たる職種）", 2: "2", 3: "3", 4: "4"},
        "AuditLog.object_type": _Joined(WHAT_LABELS),  # "EntryExitEvent,Worker": what a request read
        "AuditLog.object_id": _Joined(WHAT_LABELS, part=":"),  # "Worker:60": the row read
    }


class _Joined(dict):
    """Labels of a comma-joined list of codes; with ``part``, of the code before it ("Worker:60")."""

    def __init__(self, labels: dict, part: str | None = None):
        super().__init__(labels)
        self.part = part

    def get(self, value, default=None):
        if not isinstance(value, str):
            return default
        if self.part:
            return ", ".join(self._one(v) for v in value.split(","))
        return "、".join(dict.get(self, v, v) for v in value.split(","))

    def _one(self, value: str) -> str:
        code, sep, rest = value.partition(self.part)
        return f"{dict.get(self, code, code)}{sep}{rest}"


_VALUES: dict | None = None


def value_label(model: str | None, column: str, value):
    """The label of an enumerated ``value`` of ``model.column`` (or of ``column`` in any table); the value
    itself when the column is not an enumeration or the value is not one of its codes."""
    global _VALUES
    if _VALUES is None:
        _VALUES = _enumerations()
    column = column.split(".")[-1]
    for key in (f"{model}.{column}", column):
        table = _VALUES.get(key)
        if table is not None:
            return table.get(value, value)
    if column == "device_type":
        return device_type_label(value)
    return value


def device_type_label(code):
    """A device type's label as its plugin declares it (the types are known only in the running app)."""
    from flask import current_app, has_app_context

    from portal.devices import device_types

    if not has_app_context() or "ccus_plugins" not in current_app.extensions:
        return code
    found = device_types(current_app.extensions["ccus_plugins"]).get(code)
    return found.label if found is not None else code
