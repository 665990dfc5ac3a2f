"""Checks of the safety-document data (portal.models.safety) that hold on every path (screens, REST, imports):
run on every flush like portal.people.validation, raising DomainError (Japanese message, stable code) before anything
is written.

Privacy (健康保険法 2020-10 告知要求制限, 国民年金法第108条の4): the portal never stores a 健康保険の記号・番号 or a
基礎年金番号 (no column can hold one), and of the 雇用保険 被保険者番号 only the last 4 digits, which is all the
作業員名簿 prints (注9). :func:`forbidden_numbers` is the scan the tests run over every produced file.
"""
from __future__ import annotations

import re

from sqlalchemy import event

from portal.app.errors import DomainError
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
from portal.people.validation import _choice, _period

LAST4 = re.compile(r"[0-9]{4}")
BLOOD_PRESSURE = (40, 300)  # mmHg: outside this it is a typing error, not a reading


def check_last4(value) -> None:
    if value not in (None, "") and not (isinstance(value, str) and LAST4.fullmatch(value)):
        raise DomainError("employment_number_last4",
                          "雇用保険の被保険者番号は下4桁（半角数字4桁）だけを入力してください。全桁は保存しません。")


def check(obj) -> None:
    if obj.__class__.__name__ == "WorkerInsurance":
        check_last4(obj.employment_number_last4)
    elif isinstance(obj, ConstructionLicense):
        _choice(obj.trade, LICENSE_TRADES, "invalid_license_trade", "許可業種")
        _choice(obj.authority, LICENSE_AUTHORITIES, "invalid_license_authority", "大臣・知事の別")
        _choice(obj.kind, LICENSE_KINDS, "invalid_license_kind", "特定・一般の別")
        if not re.fullmatch(r"[0-9０-９\-－]{1,12}", obj.number or ""):
            raise DomainError("invalid_license_number", f"許可番号は数字で入力してください（例: 05-123456。入力値: {obj.number}）。")
    elif isinstance(obj, SiteContract):
        _period(obj.period_start, obj.period_end, "invalid_work_period", "工期")
    elif isinstance(obj, SiteStaff):
        _choice(obj.role, STAFF_ROLES, "invalid_staff_role", "役割")
        if not (obj.person_name or "").strip():
            raise DomainError("staff_name_required", "氏名を入力してください。")
    elif isinstance(obj, WorkerSafetyRecord):
        for attr, label in (("blood_pressure_high", "血圧(最高)"), ("blood_pressure_low", "血圧(最低)")):
            value = getattr(obj, attr)
            if value is not None and not BLOOD_PRESSURE[0] <= value <= BLOOD_PRESSURE[1]:
                raise DomainError("invalid_blood_pressure",
                                  f"{label}は{BLOOD_PRESSURE[0]}〜{BLOOD_PRESSURE[1]}の数値で入力してください（入力値: {value}）。")
        if None not in (obj.blood_pressure_high, obj.blood_pressure_low) and obj.blood_pressure_low > obj.blood_pressure_high:
            raise DomainError("invalid_blood_pressure", "血圧は最高が最低以上です。")
    elif isinstance(obj, WorkerForeignStatus):
        _choice(obj.status, FOREIGN_STATUSES, "invalid_foreign_status", "外国人の区分")


def install(session_class) -> None:
    @event.listens_for(session_class, "before_flush")
    def _validate(session, flush_context, instances):  # noqa: ARG001
        for obj in list(session.new) + list(session.dirty):
            check(obj)


# --- the scan of produced files ---------------------------------------------------------------------------------

# 基礎年金番号: 4 + 6 digits (1234-567890); 雇用保険 被保険者番号: 4 + 6 + 1 digits (1234-567890-1); a 健康保険
# 記号・番号 is printed after its labels (a company's 事業所整理記号 is not a person's and may be printed). A 14-digit
# CCUS ID, a date or a phone number matches none of these.
FORBIDDEN = {
    "基礎年金番号": re.compile(r"(?<![0-9])[0-9]{4}[-‐－ ]?[0-9]{6}(?![0-9])"),
    "雇用保険の被保険者番号（全桁）": re.compile(r"(?<![0-9])[0-9]{4}[-‐－ ]?[0-9]{6}[-‐－ ]?[0-9](?![0-9])"),
    "健康保険の記号・番号": re.compile(r"((?<!整理)記号|被保険者証番号|保険者番号|基礎年金番号)\s*[:：]?\s*[0-9０-９]"),
}


def forbidden_numbers(text: str, known: tuple[str, ...] = ()) -> list[str]:
    """What of the forbidden numbers ``text`` contains (labels of FORBIDDEN, and any ``known`` value found)."""
    found = [label for label, pattern in FORBIDDEN.items() if pattern.search(text)]
    found += [f"既知の番号 {value}" for value in known if value and value in text.replace("-", "")]
    return found
