"""Errors the domain raises. Each has a stable machine-readable ``code`` (API) and a Japanese ``message``
(screens)."""


class DomainError(ValueError):
    status = 422

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class ScopeError(DomainError):
    """A write outside the user's row-level scope."""

    status = 403

    def __init__(self, message: str = "この操作を行う権限がありません。", code: str = "out_of_scope"):
        super().__init__(code, message, 403)


# The answer of every HTTP error the portal gives (werkzeug's, FAB's and the database's): a stable code and a
# Japanese message, as JSON under /api/ and as a Japanese page on the screens.
HTTP_ERRORS = {
    400: ("bad_request", "リクエストの形式が正しくありません。"),
    401: ("unauthorized", "認証が必要です。ログインしてください。"),
    403: ("forbidden", "この操作を行う権限がありません。"),
    404: ("not_found", "指定されたページまたはデータは見つかりません。"),
    405: ("method_not_allowed", "この操作はこのURLでは行えません。"),
    409: ("conflict", "他の操作と競合したため処理できませんでした。"),
    413: ("payload_too_large", "リクエストが大きすぎます。"),
    415: ("unsupported_media_type", "この形式の送信は受け付けていません。"),
    422: ("validation_error", "入力内容に誤りがあります。"),
    429: ("too_many_requests", "試行回数が多すぎます。しばらくしてから再度お試しください。"),
    500: ("internal_error", "サーバーで問題が発生しました。時間をおいて再度お試しください。"),
    503: ("database_unavailable", "データベースに接続できないため、現在ご利用いただけません。しばらくしてから再度お試しください。"),
}
RETRY_AFTER_SECONDS = 5

# What the person in front of an error page can do next (the page says it under the message).
NEXT_STEPS = {
    400: "入力内容やURLを確認し、前の画面に戻ってやり直してください。",
    401: "ログイン画面からログインしてください。",
    403: "この画面・操作は、いまのログインの役割や担当範囲では使えません。必要なときは所属事業者の事業者責任者"
         "（現場のことは元請事業者）またはシステム管理者に依頼してください。",
    404: "URLを確認するか、メニューから目的の画面を開き直してください。削除されたデータや、閲覧できる範囲外のデータは表示されません。",
    405: "メニューやボタンから操作し直してください。",
    409: "画面を開き直して最新の内容を確認してから、もう一度操作してください。",
    413: "ファイルや入力を小さく分けて送信してください。",
    422: "前の画面に戻り、入力内容を確認してください。",
    429: "しばらく（1分ほど）待ってから、もう一度お試しください。",
    500: "時間をおいてもう一度お試しください。続くときは、エラーコードと日時をシステム管理者に連絡してください。",
    503: "しばらく待ってから、もう一度お試しください。続くときはシステム管理者に連絡してください。",
}


def next_step(status: int) -> str:
    return NEXT_STEPS.get(status) or NEXT_STEPS[500 if status >= 500 else 400]


def http_error(status: int) -> tuple[str, str]:
    return HTTP_ERRORS.get(status) or HTTP_ERRORS[500 if status >= 500 else 400]


def error_response(status: int, code: str | None = None, message: str | None = None, headers=None):
    """JSON for /api/ (and the device routes' JSON clients), a Japanese page for the screens."""
    from flask import current_app, jsonify, render_template_string, request

    default_code, default_message = http_error(status)
    code, message = code or default_code, message or default_message
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        response = jsonify({"code": code, "message": message})
    else:
        response = current_app.response_class(render_template_string(ERROR_PAGE, status=status, code=code,
                                                                     message=message, next_step=next_step(status)), mimetype="text/html")
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# Standalone (no FAB base template): it must render while the database is away.
ERROR_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ status }} - CCUS ポータル</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto; padding: 0 1em">
<h1 style="font-size: 1.4em">{{ message }}</h1>
<p>{{ next_step }}</p>
<p>エラーコード: <code>{{ code }}</code>（{{ status }}）</p>
<p><a href="/">トップページへ戻る</a></p>
</body></html>
"""


def database_unavailable(error: BaseException) -> bool:
    """Is this the database being away (refused, restarting, connection lost, pool exhausted), not a bad
    statement? Those answer 503 with Retry-After."""
    from sqlalchemy import exc

    if isinstance(error, (exc.DisconnectionError, exc.TimeoutError)):
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (exc.OperationalError, exc.InterfaceError) + _driver_errors())


def _driver_errors() -> tuple:
    """The drivers' own classes: statements run on the raw connection (portal.ingest.pg) are not wrapped."""
    import sqlite3

    found = [sqlite3.OperationalError, sqlite3.InterfaceError]
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return tuple(found)
    return tuple(found + [psycopg.OperationalError, psycopg.InterfaceError])


INVALID_VALUE = ("invalid_value", "入力値が正しくありません（数値の範囲・日付・文字の種類・参照先の指定を確認してください）。")


def bad_input(error: BaseException) -> bool:
    """Did the database or a converter refuse a value the client sent (a number out of range, a date or boolean
    it cannot read, NUL in text, a malformed query), rather than the portal failing?"""
    from sqlalchemy import exc

    try:
        from prison.decoder import ParserException
    except ImportError:  # pragma: no cover
        ParserException = ValueError
    if isinstance(error, exc.StatementError) and not isinstance(error, exc.DBAPIError):
        error = error.orig or error  # a parameter the driver could not convert
    if isinstance(error, exc.ProgrammingError):
        # a filter value of the wrong type for its column ("boolean = 'maybe'"): operator or type mismatch
        return getattr(error.orig, "sqlstate", None) in ("42883", "42804", "22P02")
    return isinstance(error, (exc.DataError, ValueError, TypeError, OverflowError, RecursionError, ParserException))


class JsonAnswers:
    """FAB's API answers (English ``{"message": …}``) in the portal's form, for every FAB API class of the portal
    (the REST APIs, the JSON login): a stable ``code``, a Japanese ``message`` and FAB's own explanation as
    ``detail``; a fault that is the database being away is a 503 with Retry-After, a value it refused a 400."""

    @staticmethod
    def error(status: int, code: str, message, detail=None):
        from flask import jsonify, make_response

        # BaseApi.response() names its first parameter "code", so build the body here
        body = {"code": code, "message": message}
        if detail is not None:
            body["detail"] = detail
        return make_response(jsonify(body), status)

    def response_400(self, message=None):
        return self.error(400, "bad_request", http_error(400)[1], detail=message)

    def response_401(self):
        return self.error(401, *http_error(401))

    def response_403(self):
        return self.error(403, *http_error(403))

    def response_404(self):
        return self.error(404, *http_error(404))

    def response_500(self, message=None):
        """FAB's ``safe`` answers every exception of a request with this, from inside its ``except`` clause: tell
        the database being away (503) and bad input the database or a converter refused (400) from a fault."""
        import sys

        from flask import current_app

        failure = sys.exc_info()[1]
        self.rollback()
        if failure is not None and database_unavailable(failure):
            response = self.error(503, *http_error(503))
            response.headers["Retry-After"] = str(current_app.config.get("CCUS_RETRY_AFTER_SECONDS", RETRY_AFTER_SECONDS))
            return response
        if failure is not None and bad_input(failure):
            return self.error(400, *INVALID_VALUE)
        return self.error(500, *http_error(500))

    def rollback(self) -> None:
        import logging

        from flask import current_app

        try:
            current_app.appbuilder.session.rollback()
        except Exception:  # noqa: BLE001  (the connection itself may be gone)
            logging.getLogger(__name__).warning("rollback failed", exc_info=True)


# A request to a JWT-protected API without a usable token: flask-jwt-extended answers {"msg": …} in English, and
# 422 for a token it cannot decode; here always 401 with a stable code, as the published spec says.
TOKEN_ERRORS = {
    "missing_token": "認証トークンがありません。Authorization: Bearer <トークン> を付けて送信してください。",
    "invalid_token": "認証トークンが正しくありません。ログインし直してトークンを取得してください。",
    "token_expired": "認証トークンの有効期限が切れています。ログインし直すか、更新トークンで取得し直してください。",
    "fresh_token_required": "この操作には、ログインして取得したばかりのトークンが必要です。",
    "unknown_token_user": "このトークンのユーザーは存在しないか、無効になっています。",
}


def token_answers(jwt_manager) -> None:
    """The JSON answers of flask-jwt-extended's refusals (FAB makes the manager: PortalSecurityManager)."""
    from flask import jsonify, make_response

    def answer(code: str):
        return make_response(jsonify({"code": code, "message": TOKEN_ERRORS[code]}), 401)

    jwt_manager.unauthorized_loader(lambda _reason: answer("missing_token"))
    jwt_manager.invalid_token_loader(lambda _reason: answer("invalid_token"))
    jwt_manager.expired_token_loader(lambda _header, _data: answer("token_expired"))
    jwt_manager.revoked_token_loader(lambda _header, _data: answer("invalid_token"))
    jwt_manager.token_verification_failed_loader(lambda _header, _data: answer("invalid_token"))
    jwt_manager.needs_fresh_token_loader(lambda _header, _data: answer("fresh_token_required"))
    jwt_manager.user_lookup_error_loader(lambda _header, _data: answer("unknown_token_user"))


def _limit_retry_after(app) -> int:
    """Seconds until flask-limiter's breached limit (the login limit per address) lets a request through again."""
    import math
    import time

    for limiter in app.extensions.get("limiter", ()):
        limit = limiter.current_limit
        if limit is not None:
            return max(1, math.ceil(limit.reset_at - time.time()))
    return 1


def install(app) -> None:
    """Register the handlers: DomainError, HTTP errors, the database being unreachable, and any other failure."""
    from flask import flash, redirect, request
    from sqlalchemy import exc
    from werkzeug.exceptions import HTTPException, InternalServerError

    from portal.app.db import db

    def rollback():
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001  (the connection itself may be gone)
            db.session.remove()

    @app.errorhandler(DomainError)
    def domain_error(e: DomainError):
        rollback()
        if request.path.startswith("/api/"):
            return error_response(e.status, e.code, e.message)
        flash(e.message, "danger")
        return redirect(request.referrer or "/"), 303

    @app.errorhandler(HTTPException)
    def http_exception(e: HTTPException):
        if e.code is None or e.code < 400:
            return e  # redirects
        headers = {k: v for k, v in e.get_headers() if k.lower() in ("allow", "retry-after", "www-authenticate")}
        if e.code == 429 and not any(k.lower() == "retry-after" for k in headers):
            headers["Retry-After"] = str(_limit_retry_after(app))
        return error_response(e.code, headers=headers)

    def unavailable(e):
        rollback()
        app.logger.warning("database unavailable: %s", e)
        return error_response(503, headers={"Retry-After": str(app.config.get("CCUS_RETRY_AFTER_SECONDS",
                                                                             RETRY_AFTER_SECONDS))})

    for error in (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError, exc.TimeoutError) + _driver_errors():
        app.register_error_handler(error, unavailable)

    def refused_value(e):
        rollback()
        return error_response(400, *INVALID_VALUE)

    for error in (exc.DataError, OverflowError):  # a screen's id or filter the database cannot hold
        app.register_error_handler(error, refused_value)

    @app.errorhandler(InternalServerError)
    def internal_error(e: InternalServerError):
        original = getattr(e, "original_exception", None)
        if original is not None and database_unavailable(original):
            return unavailable(original)
        if original is not None and bad_input(original):
            return refused_value(original)
        rollback()
        return error_response(500)


def cap_chunked_bodies(app) -> None:
    """A body sent without Content-Length (chunked) is read here, before anything else parses it, up to
    MAX_CONTENT_LENGTH: above it the request is refused with 413; below it, it continues as a body of known
    length. (Werkzeug cuts such a body off silently at the cap, and a parser then sees broken JSON.) Registered
    first, before CSRF reads a form."""
    import io

    from flask import request
    from werkzeug.exceptions import RequestEntityTooLarge

    @app.before_request
    def read_chunked_body():
        environ = request.environ
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit is None or environ.get("CONTENT_LENGTH") or not environ.get("wsgi.input_terminated"):
            return None
        if request.method in ("GET", "HEAD", "OPTIONS") and "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", ""):
            return None
        data = read_capped(environ["wsgi.input"], limit)
        if data is None:
            raise RequestEntityTooLarge()
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(data), str(len(data))
        return None


def read_capped(stream, limit: int) -> bytes | None:
    """The stream's bytes, or None when there are more than ``limit`` (reading stops one byte past it)."""
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(limit + 1 - size, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks) if size <= limit else None
