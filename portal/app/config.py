"""Defaults, overridden by CCUS_* environment variables (and by the ``config`` dict given to create_app).

CCUS_DATABASE_URL   SQLAlchemy URL; default: a SQLite file in the instance folder (PostgreSQL in production)
CCUS_SECRET_KEY     Flask secret; default: a random key kept in instance/secret_key
CCUS_CREDENTIAL_KEY key for hashing card UIDs / phone numbers and encrypting face templates (Fernet);
                    default: derived from the secret key
CCUS_CELERY_BROKER  Redis URL: run long jobs on Celery instead of in-process
CCUS_MAX_CONTENT_LENGTH  largest request body in bytes, however it is sent (default 16 MB; device batches: 4 MB)
CCUS_RETRY_AFTER_SECONDS the Retry-After of a 503 while the database is unreachable (default 5)
CCUS_TRUSTED_PROXIES     how many reverse proxies in front of the portal set X-Forwarded-For/-Proto (default 0:
                         the portal is reached directly, and such headers are ignored)
CCUS_LOGIN_RATE_LIMIT    login attempts per client address (default "10 per 20 second")
CCUS_RATELIMIT_STORAGE   where login attempts are counted: a Redis URL shared by every process (default: the
                         Celery broker's Redis when CCUS_CELERY_BROKER is set, else this process's memory)
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

from portal.people import login_limits, password_policy


def instance_dir() -> Path:
    path = Path(os.environ.get("CCUS_INSTANCE", Path.cwd() / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(instance: Path) -> str:
    if os.environ.get("CCUS_SECRET_KEY"):
        return os.environ["CCUS_SECRET_KEY"]
    keyfile = instance / "secret_key"
    if not keyfile.exists():
        keyfile.write_text(secrets.token_hex(32))
        keyfile.chmod(0o600)
    return keyfile.read_text().strip()


def database_url(instance: Path | None = None) -> str:
    return os.environ.get("CCUS_DATABASE_URL") or f"sqlite:///{(instance or instance_dir()) / 'ccus.db'}"


def defaults() -> dict:
    instance = instance_dir()
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(instance),
        "SECRET_KEY": _secret_key(instance),
        "CCUS_CREDENTIAL_KEY": os.environ.get("CCUS_CREDENTIAL_KEY"),
        "CCUS_CELERY_BROKER": os.environ.get("CCUS_CELERY_BROKER"),
        # the app's own instance folder, fixed when it is built (the variable may name another app's later)
        "CCUS_REPORTS_DIR": os.environ.get("CCUS_REPORTS_DIR") or str(instance / "reports"),
        "CCUS_LOAD_PLUGINS": True,
        "APP_NAME": "CCUS ポータル",
        "APP_THEME": "",
        "AUTH_TYPE": AUTH_DB,
        "AUTH_ROLE_ADMIN": "Admin",
        "AUTH_ROLE_PUBLIC": "Public",
        "AUTH_RATE_LIMITED": True,
        "AUTH_RATE_LIMIT": os.environ.get("CCUS_LOGIN_RATE_LIMIT", "10 per 20 second"),  # per client address
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": login_limits.storage_uri({k: os.environ.get(k) for k in (
            "CCUS_RATELIMIT_STORAGE", "CCUS_CELERY_BROKER")}),  # shared by every process when Redis
        "RATELIMIT_KEY_PREFIX": os.environ.get("CCUS_RATELIMIT_PREFIX", "ccus"),
        "CCUS_LOGIN_LIMITS": True,  # per account: portal.people.login_limits
        "FAB_PASSWORD_COMPLEXITY_ENABLED": True,
        "FAB_PASSWORD_COMPLEXITY_VALIDATOR": password_policy.validate,  # 10+ characters, letters and digits
        "FAB_API_SWAGGER_UI": True,
        "FAB_ADD_SECURITY_API": False,
        "FAB_UPDATE_PERMS": True,
        "BABEL_DEFAULT_LOCALE": "ja",
        "BABEL_DEFAULT_FOLDER": "translations",
        "LANGUAGES": {"ja": {"flag": "jp", "name": "日本語"}, "en": {"flag": "gb", "name": "English"}},
        "WTF_CSRF_ENABLED": True,
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        # a connection the server dropped (a restart, a failover) is found before use, not by the next request
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MAX_CONTENT_LENGTH": int(os.environ.get("CCUS_MAX_CONTENT_LENGTH", 16 * 1024 * 1024)),
        "CCUS_RETRY_AFTER_SECONDS": int(os.environ.get("CCUS_RETRY_AFTER_SECONDS", 5)),
        "CCUS_TRUSTED_PROXIES": int(os.environ.get("CCUS_TRUSTED_PROXIES", 0)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
    }
