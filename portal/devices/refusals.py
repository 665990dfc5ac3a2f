"""A refused credential (part of the device contract, portal.devices): not merely unknown but refused — forged,
expired, revoked, replayed, not alive. A plugin's ``ccus_resolve_worker`` says so by returning
:class:`Refused` or raising :class:`CredentialRefused`; older plugins that only return an ID or None are unchanged.

The core keeps a refused event for the audit (``EntryExitEvent.refusal``, the credential hashed, no worker, so it
is never counted or shown on site), and answers the device ``rejected`` with the code and its Japanese message,
so a gate shows red and says why.
"""
from __future__ import annotations

import dataclasses

REFUSALS = {  # stable codes a plugin may use, with the Japanese reason a gate and the screens show
    "forged": "偽造または改ざんされた認証情報です。",
    "malformed": "読み取れない認証情報です。正しいコード・カードか確認してください。",
    "expired": "有効期限が切れた認証情報です。新しいものを発行してください。",
    "not_yet_valid": "発行日時が未来の認証情報です。機器の時計を確認してください。",
    "revoked": "失効した認証情報です。新しいものを発行してください。",
    "foreign": "他のシステムで発行された認証情報です。",
    "replayed": "再送された認証情報です（同じ画像・データの使い回し）。",
    "not_alive": "本人確認（なりすまし防止）に失敗しました。写真や画面ではなく、本人が機器の前に立ってください。",
    "ambiguous_match": "似た顔の技能者と区別できません。もう一度読み取るか、別の方法で打刻してください。",
    "wrong_pin": "本人確認番号が違います。",
}
GENERIC = "この認証情報は受け付けられません。"
REFUSED = "refused"  # what an unlisted code becomes: the codes are a contract (OpenAPI enum), not free text


@dataclasses.dataclass(frozen=True)
class Refused:
    """What ``ccus_resolve_worker`` returns for a refused credential (firstresult: it stops the other plugins)."""

    code: str
    message: str | None = None  # Japanese; defaults to REFUSALS[code]


class CredentialRefused(Exception):
    """The same as returning :class:`Refused`, for code deep in a plugin's checks. ``code`` is one of
    :data:`REFUSALS` (another becomes ``refused``); ``message`` a Japanese text the device shows instead."""

    def __init__(self, code: str, message: str | None = None):
        super().__init__(code)
        self.refusal = Refused(code, message)


def stable(refusal: Refused) -> Refused:
    """The refusal as stored and answered: a code that fits (else ``refused``) and a Japanese message."""
    code = refusal.code if isinstance(refusal.code, str) and refusal.code in REFUSALS else REFUSED
    message = refusal.message if isinstance(refusal.message, str) and refusal.message.strip() else None
    return Refused(code, (message or REFUSALS.get(code, GENERIC))[:200])


def label(code: str | None) -> str:
    """The Japanese reason of a stored refusal code ("" for an event that was not refused)."""
    if not code:
        return ""
    return f"拒否: {REFUSALS.get(code, GENERIC)}"
