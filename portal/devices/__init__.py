"""The public API of device plugins: the one module a plugin imports (``from portal.devices import ...``).

Everything a device plugin needs and nothing else: the hook markers and specifications, :class:`DeviceType`,
device-key authentication and the ingest call for a plugin's own routes, credential enrolment and lookup, the
errors, and read-only value objects of what a plugin is shown (:class:`DeviceRef`, :class:`SiteRef`,
:class:`WorkerRef`, :class:`EventRef`, :class:`CredentialRef`). A plugin that imports any other part of
``portal`` is not supported (a test of this repository fails for its own plugins). The contract test kit is
:mod:`portal.devices.testing`; docs/plugins.md shows how to write, test and release a plugin.

Stability promise (API_VERSION, semantic): within a major version, names listed in ``__all__`` stay; functions
only gain keyword arguments with defaults; value objects and hook calls only gain fields and arguments (pluggy
passes a hook only the arguments an implementation names). Removing or changing anything is announced by a
DeprecationWarning for at least two minor releases and six months before the next major version drops it.
The API's version is :data:`API_VERSION` (major, minor), independent of the portal's release number: a plugin
written for 1.0 checks ``api_version_at_least(1, 0)`` (false under another major version) and may test a
later minor version before using what it added. docs/plugins.md lists what each minor version added.
"""
from __future__ import annotations

from portal.devices.api import (
    add_device_blueprint,
    add_hidden_screen,
    add_screen,
    audit_credential_reads,
    authenticate,
    bearer_key,
    check_security_code,
    credential_payloads,
    credential_version,
    current_worker,
    device_by_id,
    device_event_with,
    enrol_credential,
    enrollable_worker,
    event_time,
    find_credential,
    find_worker,
    last_event,
    normalise_secret,
    operator_context,
    record_events,
    recorded_event,
    remove_credential,
    request_key,
    roster,
    roster_version,
    void_issued,
    void_until,
    work_day,
    worker_by_code,
)
from portal.devices.contract import (
    ENTRY_POINT_GROUP,
    PROJECT,
    DeviceSpec,
    DeviceType,
    device_types,
    hookimpl,
    hookspec,
)
from portal.devices.refs import CredentialRef, DeviceRef, EventRef, HistoryRef, SiteRef, WorkerRef
from portal.app.errors import DomainError
from portal.devices.refusals import REFUSALS, CredentialRefused, Refused

API_VERSION = (1, 3)  # 1.1: Refused, CredentialRefused, REFUSALS (a refusal the device can show)
# 1.2: device_event_with, roster_version, credential_version, audit_credential_reads, worker_by_code,
#      check_security_code, void_issued, void_until; EventRef.refusal
# 1.3: HistoryRef, EventRef.credential_hash; the contract kit's fixtures and read helpers (portal.devices.testing)

# Roles a plugin's screens may grant (the names Flask-AppBuilder stores).
ROLE_ADMIN = "Admin"
ROLE_EMPLOYER = "Employer"  # 事業者責任者
ROLE_SITE_MANAGER = "SiteManager"  # 現場管理者
ROLE_WORKER = "Worker"  # 技能者

__all__ = [
    "API_VERSION", "api_version_at_least",
    # the contract
    "PROJECT", "ENTRY_POINT_GROUP", "hookimpl", "hookspec", "DeviceSpec", "DeviceType", "device_types",
    # errors and value objects
    "DomainError", "Refused", "CredentialRefused", "REFUSALS", "DeviceRef", "SiteRef", "WorkerRef", "EventRef", "CredentialRef",
    "HistoryRef",
    # device routes
    "bearer_key", "request_key", "authenticate", "device_by_id", "record_events", "event_time", "work_day",
    "roster", "recorded_event", "last_event", "add_device_blueprint", "device_event_with", "roster_version",
    "worker_by_code", "check_security_code",
    # credentials
    "normalise_secret", "find_worker", "credential_payloads", "enrollable_worker", "enrol_credential",
    "find_credential", "remove_credential", "credential_version", "audit_credential_reads", "void_issued",
    "void_until",
    # screens, people, operators
    "EnrolmentScreen", "current_worker", "add_screen", "add_hidden_screen", "operator_context",
    "ROLE_ADMIN", "ROLE_EMPLOYER", "ROLE_SITE_MANAGER", "ROLE_WORKER",
]


def api_version_at_least(major: int, minor: int = 0) -> bool:
    """Whether this portal offers API ``major.minor`` or a later minor version of the same major."""
    return API_VERSION[0] == major and API_VERSION[1] >= minor


def __getattr__(name: str):
    if name == "EnrolmentScreen":  # a Flask-AppBuilder view: loaded on first use, not with every plugin
        from portal.devices.screens import EnrolmentScreen

        return EnrolmentScreen
    raise AttributeError(f"module 'portal.devices' has no attribute {name!r}")
