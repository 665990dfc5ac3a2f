"""The portal's login user: FAB's User on the same ``ab_user`` table (FAB's documented extension point),
linked to the employer it works for or to the worker it is."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship


class PortalUser(User):
    __tablename__ = "ab_user"
    employer_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("employers.id"), nullable=True)
    worker_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey("workers.id"), nullable=True)
    employer = relationship("Employer")
    worker = relationship("Worker")
