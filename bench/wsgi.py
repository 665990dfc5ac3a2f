"""The portal as gunicorn serves it in the benchmark: portal.app.wsgi's production set-up, rate limits off (the
benchmark's few devices post far more often than a site's devices would)."""
from portal.app.wsgi import serve

app = serve({"RATELIMIT_ENABLED": False})
