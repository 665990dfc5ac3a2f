"""Entry/exit devices and the credentials that identify workers to them.

Devices are not users: each authenticates with its own API key (only a hash is stored), bound to one site,
revocable. Credentials (card UIDs, phone numbers, face templates, QR secrets) belong to the core so that no
plugin needs tables of its own: lookup values are stored as keyed hashes, biometric payloads encrypted.
"""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import utcnow


class Device(Model):
    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), nullable=False, index=True)
    device_type: Mapped[str] = mapped_column(String(40), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    key_prefix: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)  # shown in lists, not secret
    key_hash: Mapped[str] = mapped_column(String(128), nullable=False)
    settings: Mapped[Optional[dict]] = mapped_column(JSON)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))

    site = relationship("Site")

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __str__(self) -> str:
        from portal.people.glossary import device_type_label  # its plugin's label (a screen shows no code)

        return f"{device_type_label(self.device_type)}：{self.name or self.key_prefix}"


class Credential(Model):
    """What a device type knows a worker by. ``lookup_hash`` is an HMAC of the secret (card UID, phone number,
    QR nonce) for exact matches; ``payload`` is an encrypted blob for matches that need the data (face
    encodings)."""

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("device_type", "lookup_hash", name="uq_credential_lookup"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_type: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), nullable=False, index=True)
    lookup_hash: Mapped[Optional[str]] = mapped_column(String(64))
    payload: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    label: Mapped[Optional[str]] = mapped_column(String(100))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))

    worker = relationship("Worker")
