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
