"""The face templates a site's camera compares against, decrypted once per roster version: the gate must not
decrypt every template of the roster for every photo. Each decryption is written to the audit log (which device,
which workers, when) — once per version, so auditing costs the gate nothing per photo.

The cache key is what can change the set: the site, the day (a roster entry has start and end dates), the site's
roster_version (portal bumps it on every roster change) and the templates' own state (their count and latest
id: an enrolment or a removal). Per process, small (one entry per site), dropped when its key changes.
"""
from __future__ import annotations

import dataclasses
import datetime
import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import credentials
from portal.models import Credential, Site

DEVICE_TYPE = "face"
_lock = threading.Lock()
_cache: dict[tuple, "Templates"] = {}  # (database, site pk) → its current templates


@dataclasses.dataclass(frozen=True)
class Templates:
    key: tuple
    worker_ids: tuple  # worker pks, one per row of ``matrix``
    matrix: object  # numpy array (n, 128), or None when nobody on the roster has a template


def _key(session: Session, keys, site_id: int, day: datetime.date, worker_ids) -> tuple:
    version = session.execute(select(Site.roster_version).where(Site.id == site_id)).scalar()
    count, latest = session.execute(select(func.count(), func.max(Credential.id)).where(
        Credential.device_type == DEVICE_TYPE, Credential.payload.is_not(None), Credential.revoked_at.is_(None),
        Credential.worker_id.in_(list(worker_ids)))).one()
    # the database and the key too: one process may serve several (the tests), and a key may be rotated
    return site_id, day, version, count, latest, str(session.get_bind().url), keys.hash_key[:8]


def for_site(session: Session, keys: credentials.CredentialKeys, device, day: datetime.date, worker_ids,
             audit=None) -> Templates:
    """The roster's templates (decrypted, as one matrix); decrypts and audits only when the key changed.
    ``audit(device, worker_ids)`` is called after a decryption (the default writes the audit log)."""
    import numpy as np

    from ccus_face.faces import from_bytes

    key = _key(session, keys, device.site_id, day, worker_ids)
    slot = (key[5], device.site_id)
    found = _cache.get(slot)
    if found is not None and found.key == key:
        return found
    with _lock:
        found = _cache.get(slot)
        if found is not None and found.key == key:
            return found
        known = credentials.payloads(session, keys, DEVICE_TYPE, worker_ids=worker_ids)
        found = Templates(key, tuple(w for w, _p in known),
                          np.stack([from_bytes(p) for _w, p in known]) if known else None)
        _cache[slot] = found
    (audit or audit_reads)(session, device, found.worker_ids, key)
    return found


def audit_reads(session: Session, device, worker_ids, key) -> None:
    """One audit row per worker whose template a device's matching decrypted (閲覧 of 顔テンプレート)."""
    from portal import audit

    if not worker_ids:
        return
    entries = {(w, audit.VIEW): {"what": {"顔テンプレート"}, "ids": set(), "notes": []} for w in set(worker_ids)}
    audit.record(session.get_bind(), audit.Actor(user_id=None, username=f"device:{device.id}"), entries,
                 detail=f"顔認証機器 {device.id} の照合（名簿版 {key[2]}、{key[1].isoformat()}）")


def clear() -> None:
    """Forget every cached template (tests; a key rotation)."""
    with _lock:
        _cache.clear()
