"""The audit trail of workers' personal data: every view, export or change by anyone other than the worker
(who, when, what, from where) becomes an AuditLog row the worker can read and administrators can search.

Like row-level scoping, it is enforced once rather than per screen: SQLAlchemy ``load``/``refresh`` events
on the personal-data models and an ``after_flush`` event note, during a request, which workers' rows were
read or changed (screens, REST APIs, exports, reports, the 技能者情報 alike: whatever loads the rows); an
``after_request`` hook writes one row per worker and action for the request, in its own session (so a view
that rolls back cannot lose it). If the trail cannot be written the response is withheld (500): no personal
data leaves unlogged. Code that shows data outside a request (jobs, CLI exports) calls :func:`record`.

The worker's own requests are not logged (the worker is the data subject); a device posting entry events is
not a user and is not logged either (events and histories are themselves append-only records).
No portal path edits or deletes a log row: a before_flush listener refuses it for every scope, the
administrator's included.
"""
from __future__ import annotations

import dataclasses
import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.app.errors import ScopeError
from portal.models import (
    Affiliation,
    AuditLog,
    Credential,
    EntryExitEvent,
    SiteWorkerRegistration,
    Worker,
    WorkerAward,
    WorkerInsurance,
    WorkerPersonal,
    WorkerQualification,
    WorkerTrade,
    WorkHistory,
)

log = logging.getLogger(__name__)

VIEW, EXPORT, CHANGE = "view", "export", "change"
ACTION_LABELS = {VIEW: "閲覧", EXPORT: "出力", CHANGE: "変更"}
# Models whose rows are a worker's personal data. Other modules add theirs with :func:`watch`.
PERSONAL_MODELS: list = [Worker, WorkerPersonal, WorkerInsurance, WorkerTrade, WorkerQualification, WorkerAward,
                         Affiliation, Credential, SiteWorkerRegistration, WorkHistory, EntryExitEvent]
NOT_CHANGE_AUDITED = (WorkHistory, EntryExitEvent)  # machine records, written by ingest; append-only themselves
_G_KEY = "ccus_audit"


@dataclasses.dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str | None
    employer_id: int | None = None
    worker_id: int | None = None  # set when the actor is a worker (its own rows are not logged)
    remote_addr: str | None = None


def worker_of(obj) -> int | None:
    return obj.id if isinstance(obj, Worker) else getattr(obj, "worker_id", None)


# --- collecting during a request ---------------------------------------------------------------------------

def _collection() -> dict | None:
    from flask import g, has_request_context

    if not has_request_context():
        return None
    found = g.get(_G_KEY)
    if found is None:
        found = {"entries": {}, "export": None}
        setattr(g, _G_KEY, found)
    return found


def touched(worker_id: int | None, what: str, object_id=None, action: str = VIEW, note: str | None = None) -> None:
    """Note that this request showed (or changed) ``what`` of a worker. Called by the model events; call it
    yourself for data that does not come from those models."""
    if worker_id is None:
        return
    found = _collection()
    if found is None:
        return
    entry = found["entries"].setdefault((worker_id, action), {"what": set(), "ids": set(), "notes": []})
    entry["what"].add(what)
    if object_id is not None:
        entry["ids"].add(f"{what}:{object_id}")
    if note:
        entry["notes"].append(note)


def mark_export(what: str) -> None:
    """This request is an export (CSV, Excel, PDF): the rows it reads are logged as 出力, not 閲覧."""
    found = _collection()
    if found is not None:
        found["export"] = what


def _on_load(target, *_args) -> None:
    touched(worker_of(target), type(target).__name__, getattr(target, "id", None))


def watch(model) -> None:
    """Audit views and changes of ``model`` (a model with a ``worker_id``)."""
    if model not in PERSONAL_MODELS:
        PERSONAL_MODELS.append(model)
    _listen(model)


def _listen(model) -> None:
    if not event.contains(model, "load", _on_load):
        # reading worker_id may load a deferred column inside the load: SQLAlchemy then restores the load's
        # context (else it warns that the context changed, ~20,000 times a test run)
        event.listen(model, "load", _on_load, restore_load_context=True)
        event.listen(model, "refresh", _on_load, restore_load_context=True)


for _model in PERSONAL_MODELS:
    _listen(_model)


@event.listens_for(Session, "after_flush")
def _on_flush(session, _flush_context) -> None:
    changed = [o for o in session.new] + [o for o in session.dirty if session.is_modified(o)] + list(session.deleted)
    for obj in changed:
        if isinstance(obj, tuple(PERSONAL_MODELS)) and not isinstance(obj, NOT_CHANGE_AUDITED):
            touched(worker_of(obj), type(obj).__name__, getattr(obj, "id", None), action=CHANGE)


@event.listens_for(Session, "before_flush")
def _immutable(session, _flush_context, _instances) -> None:
    # Append-only for everybody, administrators included: no portal screen, API or script edits the trail.
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditLog) and (obj in session.deleted or session.is_modified(obj)):
            raise ScopeError("監査ログは変更・削除できません。", code="audit_log_immutable")


# --- writing ----------------------------------------------------------------------------------------------

def request_actor() -> Actor | None:
    """The logged-in user of the current request (screens: session cookie; API: JWT)."""
    from flask import g, request
    from flask_login import current_user

    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        user = current_user if current_user and current_user.is_authenticated else None
    if user is None:
        return None
    return Actor(user_id=user.id, username=user.username, employer_id=getattr(user, "employer_id", None),
                 worker_id=getattr(user, "worker_id", None), remote_addr=request.remote_addr)


def record(bind, actor: Actor, entries: dict, detail: str = "") -> int:
    """Write the trail: ``entries`` maps (worker pk, action) → {"what": set, "ids": set, "notes": list}.
    ``bind`` is an engine or connection; the rows are committed in a session of their own. Returns the count."""
    from portal.app.db import ScopedSession
    from portal.people.scoping import ALL, using_scope

    rows = []
    for (worker_id, action), entry in sorted(entries.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        if actor.worker_id is not None and actor.worker_id == worker_id:
            continue  # the worker looking at its own data
        ids = sorted(entry["ids"])
        text = " / ".join(filter(None, [detail, *entry["notes"]]))
        rows.append(AuditLog(user_id=actor.user_id, username=actor.username, employer_id=actor.employer_id,
                             action=action, object_type=",".join(sorted(entry["what"]))[:60],
                             object_id=(ids[0] if len(ids) == 1 else (f"{len(ids)}件" if ids else None)),
                             worker_id=worker_id, detail=text[:500] or None, remote_addr=actor.remote_addr))
    if not rows:
        return 0
    writer = ScopedSession(bind=bind)
    try:
        with using_scope(writer, ALL):
            writer.add_all(rows)
            writer.commit()
    finally:
        writer.close()
    return len(rows)


def flush_request(response):
    """after_request: write what this request touched. No trail, no data: a failure withholds the response."""
    from flask import g, request

    found = g.pop(_G_KEY, None)
    if not found or not found["entries"]:
        return response
    actor = request_actor()
    if actor is None:
        return response  # devices and anonymous requests (scoping showed them no personal rows)
    entries = found["entries"]
    if found["export"]:  # an export: what was read left the system
        merged: dict = {}
        for (worker_id, action), entry in entries.items():
            target = merged.setdefault((worker_id, CHANGE if action == CHANGE else EXPORT),
                                       {"what": set(), "ids": set(), "notes": []})
            target["what"] |= entry["what"]
            target["ids"] |= entry["ids"]
            target["notes"] += entry["notes"]
        entries = merged
    detail = f"{request.method} {request.path}" + (f" ({found['export']})" if found["export"] else "")
    from portal.app.db import db

    try:
        record(db.engine, actor, entries, detail)
    except Exception:  # noqa: BLE001  the trail could not be written: do not deliver the data
        log.exception("audit trail could not be written; response withheld")
        from flask import make_response

        return make_response("監査ログを記録できなかったため、表示を中止しました。", 500)
    return response


# --- what the worker reads (390_閲覧記録) ------------------------------------------------------------------------

WHAT_LABELS = {"Worker": "技能者情報", "WorkerPersonal": "本人情報", "WorkerInsurance": "社会保険・退職金共済",
               "WorkerTrade": "保有職種", "WorkerQualification": "保有資格", "WorkerAward": "表彰", "Affiliation": "所属",
               "Credential": "入退場の登録", "SiteWorkerRegistration": "作業員名簿", "WorkHistory": "就業履歴",
               "EntryExitEvent": "入退場記録"}
ADMINISTRATOR = "システム管理者（運営）"


def viewer_log(session, worker_id: int, limit: int = 200) -> list[dict]:
    """The worker's 閲覧記録: who (the company, or the operator) did what with which of its data, when (Tokyo
    time). Never the staff member's login ID or address: those stay in the administrators' audit log."""
    from sqlalchemy import select

    from portal.app.clock import TOKYO, UTC
    from portal.models import Employer

    t, e = AuditLog.__table__, Employer.__table__  # the worker's own rows; company names are the public directory
    rows = session.execute(select(t.c.at, t.c.employer_id, t.c.action, t.c.object_type).where(
        t.c.worker_id == worker_id).order_by(t.c.at.desc(), t.c.id.desc()).limit(limit)).all()
    ids = {r.employer_id for r in rows if r.employer_id}
    names = dict(session.execute(select(e.c.id, e.c.name).where(e.c.id.in_(ids))).all()) if ids else {}
    return [{"at": (r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC)).astimezone(TOKYO),
             "company": names.get(r.employer_id, "") if r.employer_id else ADMINISTRATOR,
             "action": ACTION_LABELS.get(r.action, r.action),
             "what": "、".join(dict.fromkeys(WHAT_LABELS.get(w, w) for w in r.object_type.split(",")))}
            for r in rows]


def install(app) -> None:
    app.after_request(flush_request)
