"""ICカードの登録: the employer's 事業者責任者 enrols the card UID of one of its workers (read from the card with
``ccus-cardreader read-uid`` at the office, or printed on a reader's display)."""
from __future__ import annotations

from ccus_cardreader import cards
from portal.devices import EnrolmentScreen


class CardEnrolmentView(EnrolmentScreen):
    route_base = "/cardreader/cards"
    device_type = cards.DEVICE_TYPE
    title = "ICカードの登録"
    field = {"label": "カードUID", "type": "text",
             "hint": "カードのUID（16進数、例: 0412AB34CD56EF）。UIDそのものは保存せず、照合用のハッシュだけを保存します。"}

    def enrol_worker(self, worker, form, files) -> str:
        cred = cards.enrol_card(worker, form.get("secret"))
        return f"{worker}の{cred.label}を登録しました。"
