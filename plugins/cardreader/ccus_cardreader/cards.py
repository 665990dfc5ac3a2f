"""Card UIDs as worker credentials (portal side): checking a UID, enrolling it for a worker, finding the worker.

Only a keyed hash of the UID is stored (the portal's credential store), so a database dump does not reveal card
numbers.
Who may enrol whose card is decided by row-level scope (an employer: its own current workers), not here.
"""
from __future__ import annotations

import re

from ccus_cardreader import DEVICE_TYPE
from portal.devices import (CredentialRef, DomainError, WorkerRef, enrol_credential, find_credential, find_worker,
                            normalise_secret)

_HEX = re.compile(r"[0-9A-F]+")


def normalise_uid(value) -> str:
    """A card UID (MIFARE 4/7/10 bytes, FeliCa IDm 8 bytes) as upper-case hex, separators and spaces removed."""
    uid = normalise_secret(str(value or "")).replace(":", "")
    if not uid or not _HEX.fullmatch(uid) or len(uid) % 2 or not 4 <= len(uid) // 2 <= 10:
        raise DomainError("invalid_card_uid", "カードのUIDは16進数で4〜10バイト（8〜20桁）で入力してください。")
    return uid


def label_for(uid: str) -> str:
    """What screens show of an enrolled card: only its last 4 digits (the UID itself is not stored)."""
    return f"ICカード（末尾 {uid[-4:]}）"


def enrol_card(worker: WorkerRef, uid) -> CredentialRef:
    uid = normalise_uid(uid)
    return enrol_credential(worker, DEVICE_TYPE, secret=uid, label=label_for(uid),
                            taken=DomainError("card_already_enrolled", "このカードは既に登録されています。", 409))


def find_card(uid) -> CredentialRef | None:
    """The active credential of a card UID, if the principal may see it."""
    return find_credential(DEVICE_TYPE, normalise_uid(uid))


def worker_of_card(uid) -> str | None:
    """The 技能者ID a card UID is enrolled for, or None (unknown, malformed or revoked card)."""
    try:
        uid = normalise_uid(uid)
    except DomainError:
        return None
    worker = find_worker(DEVICE_TYPE, uid)
    return worker.worker_id if worker is not None else None
