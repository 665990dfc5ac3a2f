"""The portal as a production WSGI server runs it: ``gunicorn --preload -w 4 'portal.app.wsgi:serve()'`` (configuration
from the CCUS_* environment variables). With --preload the app is built once in the master (FAB's permission sync
runs once, not racing in every worker) and the workers are forked from it."""
from __future__ import annotations

import gc

# Young objects die young here (a request's rows, dicts and results): collect them ten times less often than
# Python's default of 700 allocations. Measured on the ingest path: about a fifth of its CPU time goes otherwise.
GEN0_THRESHOLD = 10_000


def serve(config: dict | None = None):
    from portal import create_app
    from portal.app.db import db

    app = create_app(config)
    with app.app_context():  # the connections the start opened are not shared with the forked workers
        db.session.remove()
        db.engine.dispose()
    # What the start built (FAB's registry, SQLAlchemy's metadata, translations) lives as long as the process: keep
    # it out of every later collection, and shared copy-on-write by the forked workers.
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, *gc.get_threshold()[1:])
    return app
