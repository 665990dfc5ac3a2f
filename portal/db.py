"""The database handle. The portal's sessions are of class PortalSession, which carries the row-level scope
listeners (portal.scoping); sessions made elsewhere (Alembic, the ingest fast path) are not filtered."""
from __future__ import annotations

from flask_appbuilder.models.sqla.base import SQLA
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.orm import Session, sessionmaker

from portal import scoping


class PortalSession(FlaskSession):
    pass


class ScopedSession(Session):
    """A plain (non-Flask) session with the same scope listeners, for CLI, jobs and tests."""


scoping.install(PortalSession)
scoping.install(ScopedSession)

db = SQLA(session_options={"class_": PortalSession})


def session_factory(engine) -> sessionmaker:
    return sessionmaker(bind=engine, class_=ScopedSession, expire_on_commit=False)
