"""Credentials that identify a worker to a device type: card UIDs, phone numbers, QR nonces (stored as keyed
hashes, so a database dump does not reveal them) and face templates (stored encrypted: biometric data).

Plain functions over a session; the key comes from the app config (CCUS_CREDENTIAL_KEY, else derived from
SECRET_KEY) through :func:`keys_from_config`.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import hmac

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Credential, Worker


@dataclasses.dataclass(frozen=True)
class CredentialKeys:
    hash_key: bytes
    fernet: Fernet

    def lookup_hash(self, device_type: str, secret: str) -> str:
        return hmac.new(self.hash_key, f"{device_type}:{normalise(secret)}".encode(), hashlib.sha256).hexdigest()

    def encrypt(self, data: bytes) -> bytes:
        return self.fernet.encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        return self.fernet.decrypt(token)


def keys_from_config(config) -> CredentialKeys:
    root = (config.get("CCUS_CREDENTIAL_KEY") or config["SECRET_KEY"]).encode()
    derive = lambda label: hashlib.sha256(label + b"\0" + root).digest()  # noqa: E731
    return CredentialKeys(hash_key=derive(b"ccus-credential-hash"),
                          fernet=Fernet(base64.urlsafe_b64encode(derive(b"ccus-credential-encrypt"))))


def normalise(secret: str) -> str:
    """Card UIDs in any case or spacing, phone numbers with or without hyphens, name the same credential."""
    return "".join(str(secret).split()).replace("-", "").upper()


def enrol(session: Session, keys: CredentialKeys, worker: Worker, device_type: str, *, secret: str | None = None,
          payload: bytes | None = None, label: str | None = None) -> Credential:
    """Store a credential for ``worker``: ``secret`` for exact lookups, ``payload`` (encrypted) for matching."""
    cred = Credential(
        device_type=device_type, worker_id=worker.id, label=label,
        lookup_hash=keys.lookup_hash(device_type, secret) if secret is not None else None,
        payload=keys.encrypt(payload) if payload is not None else None,
    )
    session.add(cred)
    session.flush()
    return cred


def resolve(session: Session, keys: CredentialKeys, device_type: str, secret: str) -> Worker | None:
    """The worker an exact credential (card UID, phone number …) belongs to, or None."""
    return session.execute(
        select(Worker).join(Credential, Credential.worker_id == Worker.id).where(
            Credential.device_type == device_type,
            Credential.lookup_hash == keys.lookup_hash(device_type, secret),
            Credential.revoked_at.is_(None),
        )
    ).scalar_one_or_none()


def payloads(session: Session, keys: CredentialKeys, device_type: str, worker_ids=None) -> list[tuple[int, bytes]]:
    """Decrypted payloads of active credentials of a type, as (worker pk, data), optionally for some workers."""
    stmt = select(Credential.worker_id, Credential.payload).where(
        Credential.device_type == device_type, Credential.payload.is_not(None), Credential.revoked_at.is_(None))
    if worker_ids is not None:
        stmt = stmt.where(Credential.worker_id.in_(list(worker_ids)))
    return [(wid, keys.decrypt(p)) for wid, p in session.execute(stmt).all()]


def revoke(session: Session, credential: Credential) -> None:
    credential.revoked_at = datetime.datetime.now(datetime.timezone.utc)
    session.flush()
