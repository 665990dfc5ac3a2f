"""Per-type posting rules of the core's POST /api/v1/events: what a device's key may post there.

A key is a device's whole identity, and some keys sit where others can read them (a QR kiosk tablet at the
gate). So a device of a plugin's type posts only events of its own type (``method`` absent, its code or its
mark), and a type that says ``direct_worker_ids=False`` may not name workers by 技能者ID, only by a credential
its plugin resolves (a signed worker QR). The core's own ``api`` type (certified linked systems relaying other
devices) is not limited. Its own site is enforced by portal.ingest for every device.

A refused event is answered ``rejected`` with a stable code, in its place in the batch; the others are ingested.
"""
from __future__ import annotations

from typing import Any

CORE_TYPE = "api"

REASONS = {
    "method_not_of_device": "この機器の種類以外の打刻方法（method）は送信できません。",
    "worker_id_not_allowed": "この機器の種類は技能者IDを直接送信できません（QRコードなどの認証情報で送信してください）。",
}


def refusal(device_type, raw: Any) -> str | None:
    """The reason code an event is refused for a device of ``device_type`` (a DeviceType, None if not
    installed), or None."""
    if device_type is None or device_type.code == CORE_TYPE or not isinstance(raw, dict):
        return None  # ingest answers what is not an event
    if raw.get("method") not in (None, "", device_type.code, device_type.mark):
        return "method_not_of_device"
    if not device_type.direct_worker_ids and raw.get("worker_id") not in (None, ""):
        return "worker_id_not_allowed"
    return None


def split(device_type, events: list) -> tuple[list, dict[int, dict]]:
    """(the events to ingest, {batch index: rejected result}) of a batch."""
    from portal.ingest import echo_id

    refused: dict[int, dict] = {}
    kept = []
    for index, raw in enumerate(events):
        code = refusal(device_type, raw)
        if code is None:
            kept.append(raw)
        else:
            refused[index] = {"event_id": echo_id(raw), "result": "rejected", "code": code, "message": REASONS[code]}
    return kept, refused


def merge(total: int, refused: dict[int, dict], results: list[dict]) -> list[dict]:
    """The answers in batch order: the refused ones in their places, ingest's in the others."""
    answers = iter(results)
    return [refused[i] if i in refused else next(answers) for i in range(total)]
