"""The enrolment screen base class of the public plugin API (loaded on first use: it needs Flask-AppBuilder)."""
from __future__ import annotations

from portal.devices.refs import WorkerRef
from portal.devices.enrolment import CredentialEnrolmentView


class EnrolmentScreen(CredentialEnrolmentView):
    """One screen per device type under 技能者, for the 事業者責任者: the enrolled workers, a form to enrol one,
    a delete button. Set ``route_base``, ``device_type``, ``title``, ``field`` ({"label", "type", "hint",
    "accept"?}) and implement :meth:`enrol_worker`; add it with ``MyScreen.register(app, icon=...)`` in
    ``ccus_register_routes``. Who may enrol whom is row-level scope's decision (an employer: its own workers)."""

    def enrol(self, session, worker, form, files) -> str:
        return self.enrol_worker(WorkerRef.of(worker), form, files)

    def enrol_worker(self, worker: WorkerRef, form, files) -> str:  # pragma: no cover - abstract
        """Enrol the credential the form names for ``worker`` (with :func:`portal.devices.enrol_credential`);
        return the Japanese success message. Raise DomainError for bad input."""
        raise NotImplementedError
