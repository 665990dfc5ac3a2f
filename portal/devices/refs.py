"""Read-only value objects of what a device plugin is shown: a site, a worker, a device, a stored event, an
enrolled credential. Plugins get these, never the core's ORM rows, so the core's tables can change without
breaking a plugin; fields are only ever added (API stability, see :mod:`portal.devices`)."""
from __future__ import annotations

import dataclasses
import datetime
import types
from typing import Any, Mapping


def _frozen_settings(settings) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(settings or {}))


@dataclasses.dataclass(frozen=True)
class SiteRef:
    """A site (現場): ``id`` the portal's key, ``site_id`` the 14-digit 現場ID, ``name`` the 現場名."""

    id: int
    site_id: str
    name: str

    @classmethod
    def of(cls, site) -> "SiteRef":
        return cls(id=site.id, site_id=site.site_id, name=site.name)

    def __str__(self) -> str:
        return f"{self.name}（{self.site_id}）"


@dataclasses.dataclass(frozen=True)
class WorkerRef:
    """A worker (技能者): ``id`` the portal's key, ``worker_id`` the 14-digit 技能者ID, ``name`` the 氏名."""

    id: int
    worker_id: str
    name: str

    @classmethod
    def of(cls, worker) -> "WorkerRef":
        return cls(id=worker.id, worker_id=worker.worker_id, name=worker.name)

    def __str__(self) -> str:
        return f"{self.name}（{self.worker_id}）"


@dataclasses.dataclass(frozen=True)
class DeviceRef:
    """A registered device: its type, name, site, settings (read-only mapping; secret settings decrypted, only
    here) and whether its key is active. Never show ``settings`` on a screen: use the core's masked view."""

    id: int
    device_type: str
    name: str
    site: SiteRef
    settings: Mapping[str, Any]
    active: bool
    key_prefix: str = ""

    @classmethod
    def of(cls, device) -> "DeviceRef":
        from portal.devices.settings import unseal  # secrets are stored encrypted; the plugin gets them to use

        return cls(id=device.id, device_type=device.device_type, name=device.name, site=SiteRef.of(device.site),
                   settings=_frozen_settings(unseal(device.settings)), active=device.revoked_at is None,
                   key_prefix=device.key_prefix)

    @property
    def site_id(self) -> int:
        """The site's key (the Device row's column of the same name, for plugins written before API 1.0)."""
        return self.site.id

    def setting(self, name: str, default=None):
        return self.settings.get(name, default)


@dataclasses.dataclass(frozen=True)
class EventRef:
    """A stored entry/exit event. ``worker_id`` is the 技能者ID as sent (None for an unresolved credential);
    ``identified`` whether it names a known worker (a not-counted event may still be identified: off the roster)."""

    id: int
    device_id: int | None
    device_event_id: str
    site_id: int | None
    worker_id: str | None
    kind: str
    occurred_at: datetime.datetime
    work_date: datetime.date
    method: str
    extras: Mapping[str, Any]
    identified: bool
    refusal: str | None = None  # API 1.2: a refused event's code (REFUSALS), None for a recorded one
    credential_hash: str | None = None  # API 1.3: the keyed hash of the credential sent (never the credential)

    @classmethod
    def of(cls, event) -> "EventRef":
        return cls(id=event.id, device_id=event.device_id, device_event_id=event.device_event_id,
                   site_id=event.site_id, worker_id=event.worker_code, kind=event.kind,
                   occurred_at=event.occurred_at, work_date=event.work_date, method=event.method,
                   extras=_frozen_settings(event.extras), identified=event.worker_id is not None,
                   refusal=getattr(event, "refusal", None),
                   credential_hash=getattr(event, "credential_hash", None))


@dataclasses.dataclass(frozen=True)
class HistoryRef:
    """API 1.3: a 就業履歴 row (one worker, site and work day), as a plugin's tests look at what its events made.
    ``worker_id`` is the 技能者ID, ``site_id`` the site's key (as in :class:`EventRef`), ``methods`` the marks of
    the day (``"IC,顔"``), ``counted`` whether it counts (計上) and else why not."""

    id: int
    worker_id: str
    site_id: int | None
    work_date: datetime.date
    methods: str
    counted: bool
    not_counted_reason: str | None
    first_entry_at: datetime.datetime | None
    last_exit_at: datetime.datetime | None

    @classmethod
    def of(cls, history) -> "HistoryRef":
        return cls(id=history.id, worker_id=history.worker.worker_id, site_id=history.site_id,
                   work_date=history.work_date, methods=history.methods, counted=history.counted,
                   not_counted_reason=history.not_counted_reason, first_entry_at=history.first_entry_at,
                   last_exit_at=history.last_exit_at)

    @property
    def marks(self) -> list[str]:
        return [m for m in self.methods.split(",") if m]


@dataclasses.dataclass(frozen=True)
class CredentialRef:
    """An enrolled credential: which worker, which device type, the label screens show (never the secret)."""

    id: int
    device_type: str
    worker: WorkerRef
    label: str | None

    @classmethod
    def of(cls, credential) -> "CredentialRef":
        return cls(id=credential.id, device_type=credential.device_type, worker=WorkerRef.of(credential.worker),
                   label=credential.label)
