"""The face templates a site's camera compares against, decrypted once per roster version: the gate must not
decrypt every template of the roster for every photo. Each decryption is written to the audit log (which device,
which workers, when) — once per version, so auditing costs the gate nothing per photo.

The cache key is what can change the set: the site, the day (a roster entry has start and end dates), the site's
roster_version (portal bumps it on every roster change) and the templates' own state (portal.devices
credential_version: their count and latest id, the database and the key). Per process, small (one entry per
site), dropped when its key changes.
"""
from __future__ import annotations

import dataclasses
import datetime
import threading

from portal.devices import audit_credential_reads, credential_payloads, credential_version, roster_version

DEVICE_TYPE = "face"
_lock = threading.Lock()
_cache: dict[tuple, "Templates"] = {}  # (database, site pk) → its current templates


@dataclasses.dataclass(frozen=True)
class Templates:
    key: tuple
    workers: tuple  # WorkerRefs, one per row of ``matrix``
    matrix: object  # numpy array (n, 128), or None when nobody on the roster has a template

    @property
    def worker_ids(self) -> tuple:  # worker pks, one per row
        return tuple(w.id for w in self.workers)


def _key(device, day: datetime.date, workers) -> tuple:
    return (device.site.id, day, roster_version(device.site), *credential_version(DEVICE_TYPE, workers))


def for_site(device, day: datetime.date, workers, from_bytes, audit=None) -> Templates:
    """The roster's templates (decrypted, each read by ``from_bytes``, as one matrix); decrypts and audits only
    when the key changed. ``audit(device, workers, key)`` is called after a decryption (the default writes the
    audit log)."""
    import numpy as np

    workers = list(workers)
    key = _key(device, day, workers)
    slot = (key[5], device.site.id)  # the database: one process may serve several (the tests)
    found = _cache.get(slot)
    if found is not None and found.key == key:
        return found
    with _lock:
        found = _cache.get(slot)
        if found is not None and found.key == key:
            return found
        known = credential_payloads(DEVICE_TYPE, workers)
        found = Templates(key, tuple(w for w, _p in known),
                          np.stack([from_bytes(p) for _w, p in known]) if known else None)
        _cache[slot] = found
    (audit or audit_reads)(device, found.workers, key)
    return found


def audit_reads(device, workers, key) -> None:
    """One audit row per worker whose template a device's matching decrypted (閲覧 of 顔テンプレート)."""
    audit_credential_reads(device, workers, "顔テンプレート",
                           f"顔認証機器 {device.id} の照合（名簿版 {key[2]}、{key[1].isoformat()}）")


def clear() -> None:
    """Forget every cached template (tests; a key rotation)."""
    with _lock:
        _cache.clear()
