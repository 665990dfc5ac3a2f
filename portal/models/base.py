"""Shared column helpers for the domain models."""
from __future__ import annotations

import datetime

from sqlalchemy import DateTime, String, event
from sqlalchemy.orm import Mapped, mapped_column

from portal.app.ids import validate_ccus_id


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def ccus_id_column(**kw) -> Mapped[str]:
    return mapped_column(String(14), unique=True, nullable=False, index=True, **kw)


def created_at_column() -> Mapped[datetime.datetime]:
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


def validate_ids_on(model, attr: str, kind: str) -> None:
    """Validate a 14-digit ID whenever it is set on ``model.attr``, whatever the path (form, API, CLI, import)."""

    @event.listens_for(getattr(model, attr), "set", retval=True)
    def _check(target, value, oldvalue, initiator):  # noqa: ARG001
        return validate_ccus_id(value, kind)
