"""The one write path for entry/exit events: every device, the API (POST /api/v1/events) and the plugins go
through :func:`ingest`, so validation, idempotency and the history update live in one place.

For each event, in order, the answer is ``accepted`` (stored now), ``duplicate`` (this device already sent this
event id: a replay changes nothing) or ``rejected`` with a stable reason code (:data:`REASONS`). Malformed events
are rejected and not stored; a credential a plugin refuses (portal.devices.refusals) is rejected with its code but kept
for the audit, never counted. An unknown worker, a credential nobody resolves or a worker not on the site's roster is
stored and shown as not counted, never dropped.

Scope (reviewed): a device writes only for its own site. Every stored row carries ``device.site_id``, checked
here before anything is written; worker lookups read the whole worker table (a worker not on the roster must
still be identified). So the batch runs under the ALL scope, confined to the device's site by this module.

Idempotency lives in the database (unique key on device and device event id), not in memory: two processes
sending the same batch store each event once. On PostgreSQL a set-based fast path (portal.ingest.pg) stores a
batch with one INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING and folds the new events into
history rows with one upsert; elsewhere events are stored one by one and histories recomputed.
"""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.history import histories
from portal.ingest.batch_json import Unreadable, plain_json, storable_text
from portal.app.ids import validate_ccus_id
from portal.app.errors import DomainError
from portal.models import Device, EntryExitEvent, Site, Worker
from portal.models.events import EVENT_KINDS
from portal.devices.refusals import CredentialRefused, Refused, stable
from portal.people.scoping import ALL, using_scope

UTC = datetime.timezone.utc

REASONS = {  # stable reason codes of rejected events (API) with their Japanese message (screens)
    "invalid_event": "イベントはJSONオブジェクトで送信してください。",
    "missing_event_id": "event_id（機器側のイベントID）がありません。",
    "invalid_event_id": "event_id は1〜100文字の文字列で送信してください。",
    "missing_worker": "worker_id（技能者ID）または credential のどちらかが必要です。",
    "ambiguous_worker": "worker_id と credential は同時に指定できません。",
    "invalid_worker_id": "worker_id は14桁の技能者IDで送信してください。",
    "invalid_credential": "credential は1〜200文字の文字列で送信してください。",
    "missing_site_id": "site_id（現場ID）がありません。",
    "invalid_site_id": "site_id は14桁の現場IDで送信してください。",
    "unknown_site": "この現場IDの現場は登録されていません。",
    "other_site": "この機器は登録された現場以外のイベントを送信できません。",
    "invalid_kind": "kind は entry（入場）・exit（退場）・work（就業履歴のみ）のいずれかです。",
    "missing_time": "time（日時）がありません。",
    "invalid_time": "time はISO 8601形式の日時で送信してください。",
    "naive_time": "time にはタイムゾーン（+09:00 など）を付けてください。",
    "future_time": "time が未来の日時です。機器の時計を確認してください。",
    "ancient_time": "time が古すぎるため受け付けできません。直接入力で補正してください。",
    "invalid_method": "method はこの機器の種類または打刻方法の記号で送信してください。",
    "invalid_extras": "extras はJSONオブジェクト（2KBまで、入れ子は16段まで）で送信してください。",
    "unreadable_event": "イベントのJSONを読み取れません（入れ子が深すぎる、数値が大きすぎるなど）。",
}
MAX_EXTRAS_BYTES = 2048
MAX_EXTRAS_DEPTH = 16
def echo_id(raw: Any):
    """The event_id as the answer repeats it: a storable string or an integer as sent, else null (the answer
    must stay encodable; the device matches answers by position anyway)."""
    event_id = raw.get("event_id") if isinstance(raw, dict) else None
    if storable_text(event_id) or (isinstance(event_id, int) and abs(event_id) < 10 ** 100):
        return event_id
    return None


@dataclasses.dataclass(frozen=True)
class Limits:
    """Configurable limits: CCUS_INGEST_MAX_BATCH, CCUS_INGEST_FUTURE_SKEW_SECONDS (a device clock a little
    ahead is tolerated), CCUS_INGEST_MAX_AGE_DAYS (older taps are refused: past the correction deadline a device
    buffer that old is a fault, and the day is fixed by direct input instead)."""

    max_batch: int = 1000
    future_skew: datetime.timedelta = datetime.timedelta(minutes=5)
    max_age: datetime.timedelta = datetime.timedelta(days=92)

    @classmethod
    def from_config(cls, config) -> "Limits":
        return cls(max_batch=int(config.get("CCUS_INGEST_MAX_BATCH", 1000)),
                   future_skew=datetime.timedelta(seconds=int(config.get("CCUS_INGEST_FUTURE_SKEW_SECONDS", 300))),
                   max_age=datetime.timedelta(days=int(config.get("CCUS_INGEST_MAX_AGE_DAYS", 92))))


@dataclasses.dataclass(slots=True)
class Valid:
    """A validated event, ready to store."""

    index: int
    event_id: str
    site_id: int
    kind: str
    occurred_at: datetime.datetime  # aware, UTC
    work_date: datetime.date  # Asia/Tokyo calendar day
    method: str
    extras: dict | None
    worker_code: str | None = None
    credential: str | None = None
    worker_id: int | None = None
    credential_hash: str | None = None
    refusal: object = None  # portal.devices.refusals.Refused: kept for the audit, never counted


def _reject(code: str) -> DomainError:
    return DomainError(code, REASONS[code], 400)


def parse_time(value: Any, now: datetime.datetime, limits: Limits) -> datetime.datetime:
    if value is None or value == "":
        raise _reject("missing_time")
    if not storable_text(value):
        raise _reject("invalid_time")
    try:
        at = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as e:
        raise _reject("invalid_time") from e
    if at.tzinfo is None or at.utcoffset() is None:
        raise _reject("naive_time")
    try:  # 9999-12-31T23:59:59-12:00 and 0001-01-01T00:00:00+14:00 have no UTC time a datetime can hold
        at = at.astimezone(UTC)
    except OverflowError as e:
        raise _reject("future_time" if at.year > 1 else "ancient_time") from e
    if at > now + limits.future_skew:
        raise _reject("future_time")
    if at < now - limits.max_age:
        raise _reject("ancient_time")
    return at


def _marks(device_types: dict) -> dict[str, str]:
    """What ``method`` may say, mapped to the calendar mark stored: a device type code or a mark itself."""
    found = {code: t.mark for code, t in device_types.items()}
    found.update({t.mark: t.mark for t in device_types.values()})
    return found


class Batch:
    """Validation of one device's batch (shared by both storage paths)."""

    def __init__(self, session: Session, device: Device, *, device_types: dict, limits: Limits,
                 now: datetime.datetime | None = None):
        self.session, self.device, self.limits = session, device, limits
        self.now = now or datetime.datetime.now(UTC)
        self.marks = _marks(device_types)
        own = device_types.get(device.device_type)
        self.default_mark = own.mark if own else device.device_type
        st = Site.__table__
        self.site_code = session.execute(select(st.c.site_id).where(st.c.id == device.site_id)).scalar_one()
        self._other_sites: dict[str, bool] = {}

    def site_of(self, value: Any) -> int:
        if value is None or value == "":
            raise _reject("missing_site_id")
        if value == self.site_code:  # the usual case: already a valid 14-digit ID
            return self.device.site_id
        try:
            code = validate_ccus_id(value, "site")
        except DomainError as e:
            raise _reject("invalid_site_id") from e
        if code == self.site_code:
            return self.device.site_id
        if code not in self._other_sites:
            t = Site.__table__
            self._other_sites[code] = self.session.execute(select(t.c.id).where(t.c.site_id == code)).first() is not None
        raise _reject("other_site" if self._other_sites[code] else "unknown_site")

    def validate(self, index: int, raw: Any) -> Valid:
        try:
            return self._validate(index, raw)
        except (ValueError, TypeError, OverflowError, RecursionError) as e:
            if isinstance(e, DomainError):
                raise
            raise _reject("invalid_event") from e  # whatever else a plugin's Python objects hold

    def _validate(self, index: int, raw: Any) -> Valid:
        if isinstance(raw, Unreadable):
            raise _reject("unreadable_event")
        if not isinstance(raw, dict):
            raise _reject("invalid_event")
        event_id = raw.get("event_id")
        if event_id is None or event_id == "":
            raise _reject("missing_event_id")
        if (isinstance(event_id, bool) or not (storable_text(event_id) or isinstance(event_id, int))
                or len(str(event_id)) > 100):
            raise _reject("invalid_event_id")
        worker_code, credential = raw.get("worker_id"), raw.get("credential")
        if worker_code in (None, "") and credential in (None, ""):
            raise _reject("missing_worker")
        if worker_code not in (None, "") and credential not in (None, ""):
            raise _reject("ambiguous_worker")
        if worker_code not in (None, ""):
            if not isinstance(worker_code, str):
                raise _reject("invalid_worker_id")
            if not (len(worker_code) == 14 and worker_code.isascii() and worker_code.isdigit()):
                try:  # the general check (full-width digits, spaces) only when the quick one fails
                    worker_code = validate_ccus_id(worker_code, "worker")
                except DomainError as e:
                    raise _reject("invalid_worker_id") from e
            credential = None
        else:
            worker_code = None
            if not storable_text(credential) or len(credential) > 200:
                raise _reject("invalid_credential")
        site_id = self.site_of(raw.get("site_id"))
        kind = raw.get("kind")
        if not isinstance(kind, str) or kind not in EVENT_KINDS:
            raise _reject("invalid_kind")
        at = parse_time(raw.get("time"), self.now, self.limits)
        method = raw.get("method")
        if method in (None, ""):
            mark = self.default_mark
        elif isinstance(method, str) and method in self.marks:
            mark = self.marks[method]
        else:
            raise _reject("invalid_method")
        extras = raw.get("extras")
        if extras is not None and not (isinstance(extras, dict) and plain_json(extras, MAX_EXTRAS_DEPTH) and
                                       len(json.dumps(extras, ensure_ascii=False).encode()) <= MAX_EXTRAS_BYTES):
            raise _reject("invalid_extras")
        return Valid(index, str(event_id), site_id, kind, at, histories.calendar_day(at), mark, extras or None,
                     worker_code=worker_code, credential=credential)

    def resolve_credentials(self, valid: list[Valid], pm, credential_keys) -> None:
        """A credential a plugin resolves becomes its worker's 14-digit ID; an unresolved or refused one is kept
        hashed (a refused one with its refusal: portal.devices.refusals)."""
        from portal.devices import DeviceRef
        from portal.devices.host import resolve_worker

        shown = None  # what plugins are shown of the device (read-only), made once a batch
        for v in valid:
            if v.credential is not None:
                if pm is not None and shown is None:
                    shown = DeviceRef.of(self.device)
                found = resolve_worker(pm, shown, v.credential, self.session) if pm is not None else None
                if isinstance(found, Refused):
                    v.refusal = stable(found)
                    found = None
                code = getattr(found, "worker_id", found)  # a plugin may answer with the Worker itself
                if isinstance(code, str):
                    v.worker_code = code
                else:
                    v.credential_hash = _credential_hash(credential_keys, self.device.device_type, v.credential)


def _credential_hash(keys, device_type: str, credential: str) -> str:
    """An unresolved credential is kept only as a keyed hash (a card UID is a secret)."""
    if keys is not None:
        return keys.lookup_hash(device_type, credential)
    return hashlib.sha256(f"{device_type}:{credential}".encode()).hexdigest()


@dataclasses.dataclass
class Outcome:
    results: list[dict]
    stored_ids: list[int]


def ingest(session: Session, device: Device, events: Any, *, plugins=None, credential_keys=None,
           limits: Limits | None = None, now: datetime.datetime | None = None, commit: bool = True) -> Outcome:
    """Validate, store idempotently and fold into histories one batch of a device's events. ``plugins`` is the
    app's plugin manager (credentials are resolved through ``ccus_resolve_worker``; ``ccus_event_recorded`` is
    called for each stored event after the commit). Raises DomainError for a malformed batch as a whole."""
    limits = limits or Limits()
    if not isinstance(events, list):
        raise DomainError("invalid_batch", "events は配列で送信してください。", 400)
    if len(events) > limits.max_batch:
        raise DomainError("batch_too_large", f"1回に送信できるイベントは{limits.max_batch}件までです。", 413)
    if device.revoked_at is not None:
        raise DomainError("revoked_device_key", "この機器キーは失効しています。", 401)
    from portal.devices import device_types

    types = device_types(plugins) if plugins is not None else {}
    for attempt in range(3):
        try:
            results, stored = _ingest_once(session, device, events, plugins, credential_keys, types, limits, now,
                                           commit)
            break
        except Exception as e:  # noqa: BLE001
            if not (commit and attempt < 2 and _retryable(e)):
                raise
            session.rollback()  # a deadlock or serialization failure with a concurrent batch: run it again
    stored_ids = [stored[i] for i in sorted(stored)]  # in batch order
    if commit and plugins is not None:
        notify(session, plugins, stored_ids)
    return Outcome(results, stored_ids)


def ingest_for_app(app, session: Session, device: Device, events: Any, *,
                   now: datetime.datetime | None = None) -> Outcome:
    """:func:`ingest` with what the app configures (its plugin manager, credential keys and limits): the call of
    every device route, the core's POST /api/v1/events and the plugins' own."""
    from portal.devices.credentials import keys_from_config

    return ingest(session, device, events, plugins=app.extensions["ccus_plugins"],
                  credential_keys=keys_from_config(app.config), limits=Limits.from_config(app.config), now=now)


def _ingest_once(session, device, events, plugins, credential_keys, types, limits, now, commit):
    with using_scope(session, ALL):
        batch = Batch(session, device, device_types=types, limits=limits, now=now)
        results: list[dict] = []
        valid: list[Valid] = []
        seen: set[str] = set()
        for index, raw in enumerate(events):
            result = {"event_id": echo_id(raw), "result": "accepted"}
            results.append(result)
            try:
                v = batch.validate(index, raw)
            except DomainError as e:
                result.update(result="rejected", code=e.code, message=e.message)
                continue
            if v.event_id in seen:  # the same event twice in one batch: the second is a replay
                result["result"] = "duplicate"
                continue
            seen.add(v.event_id)
            valid.append(v)
        batch.resolve_credentials(valid, plugins, credential_keys)
        stored = store(session, device, valid, batch.now)
        for v in valid:
            if v.refusal is not None:  # kept for the audit (now or by an earlier send), answered as refused
                results[v.index].update(result="rejected", code=v.refusal.code, message=v.refusal.message)
            elif v.index not in stored:
                results[v.index]["result"] = "duplicate"
        _seen(session, device, batch.now)
        if commit:
            session.commit()
    return results, stored


def _retryable(error: Exception) -> bool:
    code = getattr(error, "sqlstate", None) or getattr(getattr(error, "orig", None), "sqlstate", None)
    return code in ("40P01", "40001")  # deadlock detected, serialization failure


def store(session: Session, device: Device, valid: list[Valid], now: datetime.datetime) -> dict[int, int]:
    """Store the new events and update the histories they touch; returns {batch index: event pk} of the events
    stored now (the others were replays). Fills each event's ``worker_id`` (pk) from its 14-digit ID."""
    if not valid:
        return {}
    valid = sorted(valid, key=lambda v: (v.worker_code or "", v.occurred_at, v.index))  # worker, time: no deadlocks
    if session.get_bind().dialect.name == "postgresql":
        from portal.ingest import pg as ingest_pg

        return ingest_pg.store(session, device, valid, now)
    return _store_simple(session, device, valid, now)


def _store_simple(session: Session, device: Device, valid: list[Valid], now: datetime.datetime) -> dict[int, int]:
    """One INSERT … ON CONFLICT DO NOTHING RETURNING per event, then recompute the touched days."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert

    wt = Worker.__table__
    codes = sorted({v.worker_code for v in valid if v.worker_code})
    pks = dict(histories.chunked(session, select(wt.c.worker_id, wt.c.id), wt.c.worker_id, codes))
    t = EntryExitEvent.__table__
    stored: dict[int, int] = {}
    for v in valid:
        v.worker_id = pks.get(v.worker_code)
        new_id = session.execute(upsert(t).values(row_of(device, v, now)).on_conflict_do_nothing(
            index_elements=["device_id", "device_event_id"]).returning(t.c.id)).scalar()
        if new_id is not None:
            stored[v.index] = new_id
    keys = {(v.worker_id, v.site_id, v.work_date) for v in valid if v.index in stored and v.worker_id is not None}
    if keys:
        histories.recompute(session, keys, cause=histories.tap_cause(device), today=histories.tokyo_date(now))
    return stored


def row_of(device: Device, v: Valid, now: datetime.datetime) -> dict:
    return {"device_id": device.id, "device_event_id": v.event_id, "site_id": v.site_id, "worker_id": v.worker_id,
            "worker_code": v.worker_code, "credential_hash": v.credential_hash,
            "refusal": v.refusal.code if v.refusal is not None else None, "kind": v.kind,
            "occurred_at": v.occurred_at, "work_date": v.work_date, "method": v.method, "extras": v.extras,
            "received_at": now}


def _seen(session: Session, device: Device, now: datetime.datetime) -> None:
    """Record when the device last posted (at most once a minute: no lock contention between its batches)."""
    seen = histories.aware(device.last_seen_at)
    if seen is not None and seen >= now - datetime.timedelta(minutes=1):
        return  # as loaded with the device this request: recent enough, no statement needed
    t = Device.__table__
    session.execute(update(t).where(t.c.id == device.id, (t.c.last_seen_at.is_(None)) |
                                    (t.c.last_seen_at < now - datetime.timedelta(minutes=1))).values(last_seen_at=now))


def notify(session: Session, plugins, event_ids: list[int]) -> None:
    """ccus_event_recorded for each stored event (only loaded when some plugin listens)."""
    from portal.devices import EventRef
    from portal.devices.host import notify_event_recorded

    if not event_ids or not plugins.hook.ccus_event_recorded.get_hookimpls():
        return
    with using_scope(session, ALL):
        for i in range(0, len(event_ids), 900):
            chunk = event_ids[i:i + 900]
            loaded = {e.id: e for e in session.execute(select(EntryExitEvent).where(EntryExitEvent.id.in_(chunk))).scalars()}
            for event_id in chunk:
                notify_event_recorded(plugins, EventRef.of(loaded[event_id]))
