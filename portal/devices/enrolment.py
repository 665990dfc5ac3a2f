"""Enrolling a worker's credential for a device type (a face photo, a phone number, a card …): the employer's
事業者責任者 names one of its own workers by 技能者ID. Shared by the device plugins so that each plugin writes only
how its credential is read (``enrol``), never who may enrol whom: row-level scope decides that, as everywhere
(portal.people.scoping lets an employer write credentials of its current workers only).

Plain functions over a session, and one screen base class that the plugins subclass.
"""
from __future__ import annotations

from flask import flash, redirect, request
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.devices import credentials
from portal.app.errors import DomainError
from portal.app.ids import validate_ccus_id
from portal.models import Credential, Worker
from portal.people.scoping import current_scope


def own_worker(session: Session, worker_code) -> Worker:
    """The worker named by ``worker_code`` if the session's principal may enrol credentials for it (its own
    current worker; any worker for an administrator). Another employer's worker is answered like an unknown
    one, so the answer does not reveal who exists."""
    code = validate_ccus_id(worker_code, "worker")
    worker = session.execute(select(Worker).where(Worker.worker_id == code)).scalar_one_or_none()
    scope = current_scope(session)
    if worker is None or not (scope.is_all or worker.id in scope.own_worker_ids):
        raise DomainError("worker_not_enrollable", f"技能者ID {code} は、登録できる自社の技能者に見つかりません。")
    return worker


def enrol_unique(session: Session, keys: credentials.CredentialKeys, worker: Worker, device_type: str, secret: str,
                 *, label: str, taken: DomainError) -> Credential:
    """Enrol an exact credential (a card UID, a phone number) that must name one worker: one enrolled to
    anybody raises ``taken``. Checked on the table itself, so another employer's enrolment is found without
    being shown; two enrolments at once are decided by the unique key."""
    table = Credential.__table__
    found = session.execute(select(table.c.id).where(
        table.c.device_type == device_type, table.c.lookup_hash == keys.lookup_hash(device_type, secret))).first()
    if found is None:
        try:
            with session.begin_nested():
                return credentials.enrol(session, keys, worker, device_type, secret=secret, label=label)
        except IntegrityError:
            pass
    raise taken


def enrolled(session: Session, device_type: str) -> list[Credential]:
    """Active credentials of a type that the principal may see (its own workers'), newest first."""
    return list(session.execute(
        select(Credential).join(Worker, Credential.worker_id == Worker.id)
        .where(Credential.device_type == device_type, Credential.revoked_at.is_(None))
        .order_by(Credential.created_at.desc(), Credential.id.desc())
    ).scalars())


def remove(session: Session, device_type: str, credential_id: int) -> Credential:
    """Delete a credential (not revoke: a removed phone number or face template must not stay stored)."""
    cred = session.execute(select(Credential).where(
        Credential.id == credential_id, Credential.device_type == device_type)).scalar_one_or_none()
    if cred is None:
        raise DomainError("credential_not_found", "登録が見つかりません。", 404)
    cred.worker  # loaded now: the caller names the worker after the commit has detached the row
    session.delete(cred)
    session.flush()
    return cred


class CredentialEnrolmentView(BaseView):
    """One screen per device type: the list of enrolled workers, a form to enrol one, a delete button.

    Subclasses set ``route_base``, ``device_type``, ``title``, ``field`` (label, input type, hint) and
    implement ``enrol(session, worker, form, files) -> str`` (a Japanese success message). Permissions:
    can_list, can_add, can_delete."""

    default_view = "list"
    template = "ccus/enrolment.html"
    device_type = ""
    title = ""
    field: dict = {}

    def enrol(self, session: Session, worker: Worker, form, files) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def register(cls, app, icon: str = "fa-id-badge") -> None:
        """Add the screen under 技能者 for the 事業者責任者 (a plugin's ccus_register_routes calls this)."""
        from portal.people.scoping import ROLE_EMPLOYER
        from portal.views.base import add

        add(app.appbuilder, cls, cls.title, "技能者", {ROLE_EMPLOYER: "can_list|can_add|can_delete"}, icon=icon)

    @expose("/", methods=["GET"])
    @has_access
    def list(self):
        session = self.appbuilder.session
        return self.render_template(self.template, title=self.title, field=self.field,
                                    credentials=enrolled(session, self.device_type))

    @expose("/", methods=["POST"])
    @has_access
    def add(self):
        session = self.appbuilder.session
        worker = own_worker(session, request.form.get("worker_id"))
        message = self.enrol(session, worker, request.form, request.files)
        session.commit()
        flash(message, "success")
        return redirect(self.get_redirect_list())

    @expose("/<int:pk>/delete", methods=["POST"])
    @has_access
    def delete(self, pk: int):
        session = self.appbuilder.session
        cred = remove(session, self.device_type, pk)
        session.commit()
        flash(f"{cred.worker}の登録を削除しました。", "success")
        return redirect(self.get_redirect_list())

    def get_redirect_list(self) -> str:
        from flask import url_for

        return url_for(f"{self.endpoint}.list")
