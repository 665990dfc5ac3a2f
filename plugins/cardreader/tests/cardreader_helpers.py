"""Constants and helpers of the card reader tests (a module of its own: conftest modules are not importable)."""
READER_NAME = "CCUS Virtual PCD"

MEGURO = "30154216388821"  # 目黒 一郎, (株)基金建設, on A現場工事's roster in the demo
SITE_A = "36265810102371"


def employer_login_of(application, worker_code: str) -> dict:
    """The demo login of the 事業者責任者 of a worker's employer."""
    employer_id = next(e["employer_id"] for e in application.logins if e["worker_id"] == worker_code)
    return next(e for e in application.logins if e["login"] == employer_id)


def other_employer_login(application, worker_code: str) -> dict:
    own = employer_login_of(application, worker_code)["login"]
    return next(e for e in application.logins if e["role"] == "employer" and e["login"] != own)


class Server:
    """Serve a WSGI app on 127.0.0.1 in a thread; :meth:`stop` and :meth:`start` again on the same port (a portal
    that goes down and comes back)."""

    def __init__(self, app, port: int | None = None):
        import socket

        self.app = app
        if port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server = None

    def start(self) -> "Server":
        import threading

        from werkzeug.serving import make_server

        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def wait_for(cond, timeout: float = 15.0, what: str = "condition"):
    import time

    deadline = time.monotonic() + timeout
    while not (value := cond()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value
