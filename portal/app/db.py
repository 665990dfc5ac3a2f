"""The database handle. The portal's sessions are of class PortalSession, which carries the row-level scope
listeners (portal.people.scoping); sessions made elsewhere (Alembic, the ingest fast path) are not filtered."""
from __future__ import annotations

import sqlite3

from flask_appbuilder.models.sqla.base import SQLA
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from portal.history import roster_changes
from portal.people import safety_data, scoping, validation


class PortalSession(FlaskSession):
    pass


class ScopedSession(Session):
    """A plain (non-Flask) session with the same scope listeners, for CLI, jobs and tests."""


for _cls in (PortalSession, ScopedSession):
    scoping.install(_cls)
    validation.install(_cls)
    safety_data.install(_cls)
    roster_changes.install(_cls)  # after validation: a refused change never gets here

db = SQLA(session_options={"class_": PortalSession})


def session_factory(engine) -> sessionmaker:
    return sessionmaker(bind=engine, class_=ScopedSession, expire_on_commit=False)


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, _record):
    # SQLite ignores foreign keys unless asked: a dangling reference must fail there as on PostgreSQL.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
