"""Alembic creates exactly the schema the models describe (SQLite, and PostgreSQL when configured), so a
model changed without a migration fails here."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_appbuilder import Model
from sqlalchemy import create_engine, inspect

import portal.models  # noqa: F401
from portal.app.migrate import upgrade


def test_upgrade_matches_models(database):
    upgrade(database.url)
    engine = create_engine(database.url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            diff = [d for d in compare_metadata(context, Model.metadata)
                    if not (isinstance(d, tuple) and d[0] in ("add_index", "remove_index"))]
        assert diff == [], f"models and migrations differ: {diff[:5]}"
        tables = set(inspect(engine).get_table_names())
        assert {"workers", "employers", "sites", "work_histories", "entry_exit_events", "ab_user"} <= tables
    finally:
        engine.dispose()


def test_upgrade_creates_the_models_indexes(database):
    """Indexes by name and columns (autogenerate's index comparison is left out above: it differs by dialect)."""
    upgrade(database.url)
    engine = create_engine(database.url)
    try:
        found = inspect(engine)
        for table in Model.metadata.sorted_tables:
            wanted = {(i.name, tuple(c.name for c in i.columns)) for i in table.indexes}
            have = {(i["name"], tuple(i["column_names"])) for i in found.get_indexes(table.name)
                    if not i.get("duplicates_constraint")}
            assert have == wanted, table.name
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(database):
    upgrade(database.url)
    upgrade(database.url)  # a second start changes nothing and does not fail
