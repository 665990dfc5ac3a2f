"""電話番号の登録: the employer's 事業者責任者 enrols the numbers its workers call from (stored as keyed hashes)."""
from __future__ import annotations

from ccus_phone.calls import DEVICE_TYPE
from ccus_phone.numbers import masked, normalise_number
from portal.devices import CredentialRef, DomainError, EnrolmentScreen, WorkerRef, enrol_credential


def enrol(worker: WorkerRef, number: str) -> CredentialRef:
    """Enrol a caller number for ``worker``; a number names one worker."""
    number = normalise_number(number)
    return enrol_credential(worker, DEVICE_TYPE, secret=number, label=masked(number),
                            taken=DomainError("phone_number_taken", "この電話番号は既に登録されています。", 409))


class PhoneEnrolmentView(EnrolmentScreen):
    route_base = "/phone/enrolment"
    device_type = DEVICE_TYPE
    title = "発信電話番号の登録"
    field = {"label": "電話番号", "type": "tel",
             "hint": "技能者が現場の番号へ発信するときの電話番号（携帯電話など）。番号は照合用の鍵付きハッシュだけを保存し、画面には末尾4桁だけを表示します。"}

    def enrol_worker(self, worker, form, files) -> str:
        cred = enrol(worker, form.get("secret"))
        return f"{worker}の電話番号（{cred.label}）を登録しました。"
