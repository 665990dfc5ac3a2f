"""電話番号の登録: the employer's 事業者責任者 enrols the numbers its workers call from (stored as keyed hashes)."""
from __future__ import annotations

from flask import current_app

from ccus_phone.calls import DEVICE_TYPE
from ccus_phone.numbers import masked, normalise_number
from portal import credentials
from portal.enrolment import CredentialEnrolmentView, enrol_unique
from portal.errors import DomainError
from portal.models import Credential


def enrol(session, keys: credentials.CredentialKeys, worker, number: str) -> Credential:
    """Enrol a caller number for ``worker``; a number names one worker."""
    number = normalise_number(number)
    return enrol_unique(session, keys, worker, DEVICE_TYPE, number, label=masked(number),
                        taken=DomainError("phone_number_taken", "この電話番号は既に登録されています。", 409))


class PhoneEnrolmentView(CredentialEnrolmentView):
    route_base = "/phone/enrolment"
    device_type = DEVICE_TYPE
    title = "発信電話番号の登録"
    field = {"label": "電話番号", "type": "tel",
             "hint": "技能者が現場の番号へ発信するときの電話番号（携帯電話など）。番号は照合用の鍵付きハッシュだけを保存し、画面には末尾4桁だけを表示します。"}

    def enrol(self, session, worker, form, files) -> str:
        cred = enrol(session, credentials.keys_from_config(current_app.config), worker, form.get("secret"))
        return f"{worker}の電話番号（{cred.label}）を登録しました。"
