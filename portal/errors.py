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
