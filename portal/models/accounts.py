"""A worker's login account facts that must never reach a generic screen or API: the 本人確認番号 (the 4-digit
security code printed on the back of the card, stored only as a keyed hash) and whether the initial password
has been changed. Kept out of ``workers`` on purpose: every generic view and REST API over Worker would
otherwise carry (and could filter on) the hash. Rules live in portal.people.passwords."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from portal.people.rules import register_rule


class WorkerAccount(Model):
    __tablename__ = "worker_accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), unique=True, nullable=False)
    security_code_hash: Mapped[str] = mapped_column(String(64), nullable=False)  # HMAC, see portal.people.passwords
    password_changed_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))  # None: initial
    failed_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))


# Read and written only by portal.people.passwords under an explicit scope: no principal reaches it through queries.
register_rule(WorkerAccount, read=lambda scope: false(), write=lambda scope, obj, deleting: False)
