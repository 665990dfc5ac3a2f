"""ICカードの登録: the employer's 事業者責任者 enrols the card UID of one of its workers (read from the card with
``ccus-cardreader read-uid`` at the office, or printed on a reader's display)."""
from __future__ import annotations

from flask import current_app

from ccus_cardreader import cards
from portal.credentials import keys_from_config
from portal.enrolment import CredentialEnrolmentView


class CardEnrolmentView(CredentialEnrolmentView):
    route_base = "/cardreader/cards"
    device_type = cards.DEVICE_TYPE
    title = "ICカードの登録"
    field = {"label": "カードUID", "type": "text",
             "hint": "カードのUID（16進数、例: 0412AB34CD56EF）。UIDそのものは保存せず、照合用のハッシュだけを保存します。"}

    def enrol(self, session, worker, form, files) -> str:
        cred = cards.enrol_card(session, keys_from_config(current_app.config), worker, form.get("secret"))
        return f"{worker}の{cred.label}を登録しました。"
