"""The portal as gunicorn serves it in the benchmark (configuration from CCUS_* environment variables). Loaded
once in the master (--preload: FAB's permission sync runs once, not racing in every worker); the connections it
opened are dropped so that each forked worker opens its own."""
from portal import create_app
from portal.db import db

app = create_app({"RATELIMIT_ENABLED": False})
with app.app_context():
    db.session.remove()
    db.engine.dispose()
