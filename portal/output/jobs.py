"""Report jobs: a 帳票 is produced in the background, never inside the request.

- :func:`submit` checks the role (the guide's table), stores a ReportJob for the logged-in user and hands it to a
  runner: a thread of this process by default (nothing else to start), or Celery when ``CCUS_CELERY_BROKER``
  is set (``ccus worker`` runs the worker; the job is in the database and the queue in Redis, so it survives
  a restart of the web process; acks_late, so a worker killed mid-job hands it to the next one).
- :func:`run` (either runner) computes the owner's scope again, checks the role again, builds the rows through
  a session under that scope, writes the file with progress (rows done of total), writes the audit trail
  (出力, per worker shown) and records a Japanese reason when it fails. A failed job can be retried.
- Files expire after ``CCUS_REPORT_RETENTION_DAYS`` (7) days: :func:`purge_expired` deletes them, on a schedule
  (every ``CCUS_REPORT_PURGE_SECONDS``: Celery beat in ``ccus worker``, or a thread of the web process), when the
  report menu opens and with ``ccus reports purge``. The schedule and the command also delete the safety
  submissions past their keep-until date (:func:`purge_documents`).

Settings (app config or environment): CCUS_CELERY_BROKER, CCUS_CELERY_QUEUE (ccus-reports), CCUS_REPORTS_DIR
(instance/reports; web and worker must share it), CCUS_REPORT_RETENTION_DAYS (7), CCUS_REPORT_PURGE_SECONDS
(3600; 0 turns the schedule off).
"""
from __future__ import annotations

import datetime
import logging
import os
import secrets
import threading
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.app.clock import now, tokyo_date, tokyo_today
from portal.app.errors import DomainError
from portal.models import PortalUser
from portal.models.jobs import DONE, EXPIRED, FAILED, QUEUED, RUNNING, ReportJob
from portal.people.scoping import ALL, ROLE_ADMIN, ROLE_EMPLOYER, ROLE_SITE_MANAGER, ROLE_WORKER, scope_for_user, using_scope

log = logging.getLogger(__name__)
RETENTION_DAYS = 7
TASK_NAME = "ccus.run_report_job"
DEFAULT_QUEUE = "ccus-reports"
ROLE_ORDER = (ROLE_ADMIN, ROLE_EMPLOYER, ROLE_SITE_MANAGER, ROLE_WORKER)
GENERIC_FAILURE = "帳票の作成中にエラーが発生しました。時間をおいて再実行してください。"


def role_of(user) -> str | None:
    names = {r.name for r in getattr(user, "roles", [])}
    return next((r for r in ROLE_ORDER if r in names), None)


def viewer_for(session: Session, user, scope=None):
    """The Viewer of a login: its role and its scope, computed now (a job uses the scope of the moment it runs;
    a request passes the scope it already has)."""
    from reports.base import Viewer

    role = role_of(user)
    if role is None:
        raise DomainError("report_not_allowed", "帳票を出力する権限がありません。", 403)
    name = " ".join(filter(None, [getattr(user, "first_name", ""), getattr(user, "last_name", "")])) or user.username
    return Viewer(user_id=user.id, username=user.username, display_name=f"{name}（{user.username}）", role=role,
                  scope=scope if scope is not None else scope_for_user(session, user), employer_id=getattr(user, "employer_id", None),
                  worker_id=getattr(user, "worker_id", None))


def files_dir(config) -> Path:
    """Where the files go (``CCUS_REPORTS_DIR``; default instance/reports). Web and Celery worker share it."""
    from portal.app.config import instance_dir

    path = Path(config.get("CCUS_REPORTS_DIR") or os.environ.get("CCUS_REPORTS_DIR") or instance_dir() / "reports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def retention(config) -> datetime.timedelta:
    return datetime.timedelta(days=int(config.get("CCUS_REPORT_RETENTION_DAYS")
                                       or os.environ.get("CCUS_REPORT_RETENTION_DAYS") or RETENTION_DAYS))


def queue_name(config) -> str:
    return config.get("CCUS_CELERY_QUEUE") or os.environ.get("CCUS_CELERY_QUEUE") or DEFAULT_QUEUE


# --- submitting --------------------------------------------------------------------------------------------------

def create(session: Session, user, report_id: str, fmt: str, raw_params: dict, config,
           remote_addr: str | None = None) -> ReportJob:
    """Check and store a job for ``user`` (the role may produce the report; the parameters are valid)."""
    import reports
    from reports.base import parse_params

    report = reports.get(report_id)
    viewer = viewer_for(session, user)
    reports.allowed(report, viewer, fmt)
    if fmt not in reports.FORMATS:
        raise DomainError("unknown_format", f"出力形式「{fmt}」はありません。", 400)
    params = parse_params(raw_params, tokyo_today())
    if report.check is not None:
        report.check(session, viewer, params)
    at = now()
    job = ReportJob(owner_user_id=user.id, report_id=report.id, format=fmt, params=params.to_dict(), status=QUEUED,
                    runner="celery" if config.get("CCUS_CELERY_BROKER") else f"thread:{os.getpid()}", requested_from=remote_addr,
                    created_at=at, expires_at=at + retention(config))
    session.add(job)
    session.commit()
    return job


def dispatch(app, job_id: int) -> None:
    """Hand a stored job to its runner."""
    broker = app.config.get("CCUS_CELERY_BROKER")
    if broker:
        celery_app(broker).send_task(TASK_NAME, args=[job_id], queue=queue_name(app.config))
        return
    thread = threading.Thread(target=_run_in_app, args=(app, job_id), name=f"report-job-{job_id}", daemon=True)
    THREADS[job_id] = thread
    thread.start()


THREADS: dict[int, threading.Thread] = {}  # in-process jobs of this process (tests wait on them)


def _run_in_app(app, job_id: int) -> None:
    from portal.app.db import db

    with app.app_context():
        run(db.engine, job_id, app.config)


def interrupted(job: ReportJob) -> bool:
    """An in-process job whose process is gone (a restart) or whose thread died: it will never finish."""
    if job.status not in (QUEUED, RUNNING) or not job.runner.startswith("thread:"):
        return False
    pid = int(job.runner.split(":", 1)[1])
    if pid == os.getpid():
        thread = THREADS.get(job.id)
        return thread is None or not thread.is_alive()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


INTERRUPTED = "サーバーの再起動により作成が中断されました。再実行してください。"


def mark_interrupted(session: Session, job: ReportJob) -> None:
    """Failed, unless the run ended meanwhile: a thread that finished wrote its own final status before it
    ended, and the condition on the status keeps it."""
    t = ReportJob.__table__
    with using_scope(session, ALL):
        session.execute(update(t).where(t.c.id == job.id, t.c.status.in_((QUEUED, RUNNING)))
                        .values(status=FAILED, error=INTERRUPTED, finished_at=now()))
    session.commit()
    with using_scope(session, ALL):
        session.refresh(job)


def retry(session: Session, job: ReportJob) -> ReportJob:
    if job.status != FAILED:
        raise DomainError("job_not_failed", "失敗したジョブのみ再実行できます。", 409)
    job.status, job.error, job.rows_done, job.rows_total = QUEUED, None, 0, None
    job.started_at = job.finished_at = None
    job.runner = "celery" if job.runner == "celery" else f"thread:{os.getpid()}"
    session.commit()
    return job


# --- running -------------------------------------------------------------------------------------------------------

def _set(session: Session, job_id: int, **values) -> None:
    # Core statement on the table, under ALL: the runner's own bookkeeping (no request user outside a request)
    with using_scope(session, ALL):
        session.execute(update(ReportJob.__table__).where(ReportJob.__table__.c.id == job_id).values(**values))
    session.commit()


def run(engine, job_id: int, config) -> str:
    """Produce one job's file. Returns the final status."""
    import reports
    from portal.people import audit
    from portal.app.db import ScopedSession
    from reports.base import FORMATS, parse_params
    from reports.writers import WRITERS

    session = ScopedSession(bind=engine, expire_on_commit=False)
    try:
        with using_scope(session, ALL):
            job = session.get(ReportJob, job_id)
            user = session.get(PortalUser, job.owner_user_id) if job is not None else None
        if job is None or job.status not in (QUEUED, RUNNING):
            return job.status if job is not None else "missing"
        _set(session, job_id, status=RUNNING, started_at=now(), rows_done=0, error=None)
        try:
            if user is None or not user.active:
                raise DomainError("owner_inactive", "出力を依頼したユーザーが無効になったため、作成を中止しました。", 403)
            report = reports.get(job.report_id)
            with using_scope(session, ALL):
                viewer = viewer_for(session, user)
            reports.allowed(report, viewer, job.format)  # again: the role may have changed since the request
            at = now()
            if report.produce is not None:  # a 安全書類: its own parameters and layout (reports.safety.forms)
                with using_scope(session, viewer.scope):
                    path, file_name, total, workers = report.produce(
                        session, viewer, job, files_dir(config), lambda n: _set(session, job_id, rows_done=n),
                        lambda n: _set(session, job_id, rows_total=n))
                period = (job.params or {}).get("day", "")
            else:
                params = parse_params(job.params or {}, tokyo_today())
                with using_scope(session, viewer.scope):
                    output = report.build(session, viewer, params)
                    _set(session, job_id, rows_total=output.total)
                    name = f"{report.slug}_{params.ym}_{job_id}_{secrets.token_hex(4)}.{job.format}"
                    path = files_dir(config) / name
                    WRITERS[job.format](path, report, output, viewer, at,
                                        done=lambda n: _set(session, job_id, rows_done=n))
                file_name, total, workers = f"{report.id}_{report.title}_{params.ym}.{job.format}", output.total, output.workers
                period = params.ym
            shown = sorted(workers)
            note = f"帳票 {report.id} {report.title}（{FORMATS[job.format]}）"
            audit.record(engine, audit.Actor(user_id=user.id, username=user.username, employer_id=user.employer_id,
                                             worker_id=user.worker_id, remote_addr=job.requested_from),
                         {(w, audit.EXPORT): {"what": {f"帳票 {report.id} {report.title}"}, "ids": {f"帳票:{report.id}"},
                                              "notes": [note]}
                          for w in shown}, detail=f"{note} ジョブ{job_id} {period}")
            _set(session, job_id, status=DONE, file_path=str(path), file_name=file_name, finished_at=now(),
                 rows_done=total, rows_total=total)
            return DONE
        except DomainError as e:
            session.rollback()
            _set(session, job_id, status=FAILED, error=e.message[:500], finished_at=now())
            return FAILED
        except Exception:  # noqa: BLE001  the job says why; the log has the details
            log.exception("report job %s failed", job_id)
            session.rollback()
            _set(session, job_id, status=FAILED, error=GENERIC_FAILURE, finished_at=now())
            return FAILED
    finally:
        session.close()


def purge_expired(session: Session, at: datetime.datetime | None = None, config=None) -> int:
    """Delete the files of expired jobs (their row stays, marked 期限切れ). Returns how many jobs expired.
    With ``config``, files in the reports folder older than the retention that no unexpired job names are
    deleted too (left by a run that died between writing its file and recording it)."""
    at = at or now()
    t = ReportJob.__table__
    with using_scope(session, ALL):
        rows = session.execute(select(t.c.id, t.c.file_path).where(t.c.expires_at < at, t.c.status != EXPIRED)).all()
        for job_id, path in rows:
            if path:
                Path(path).unlink(missing_ok=True)
            session.execute(update(t).where(t.c.id == job_id).values(status=EXPIRED, file_path=None))
        kept = set(session.execute(select(t.c.file_path).where(t.c.file_path.is_not(None))).scalars()) if config else ()
    session.commit()
    if config is not None:
        oldest = (at - retention(config)).timestamp()
        for path in files_dir(config).iterdir():
            if path.is_file() and str(path) not in kept and path.stat().st_mtime < oldest:
                path.unlink(missing_ok=True)
    return len(rows)


# --- the purge schedule ------------------------------------------------------------------------------------------
# Expired files are deleted every CCUS_REPORT_PURGE_SECONDS (3600; 0: only `ccus reports purge` and the menu):
# - with Celery, by the beat schedule that `ccus worker` runs beside its worker (several workers each running it
#   only purge more often: a purge is idempotent);
# - without, by a thread of each web process, started by its first request (so that a CLI command or an app
#   built by a test starts none); it holds the app weakly and ends with it.

PURGE_TASK = "ccus.purge_report_files"
PURGE_SECONDS = 3600
PURGERS: dict = {}  # id(app) → (pid, thread, stop event): the in-process purger of this process


def purge_interval(config) -> float:
    value = config.get("CCUS_REPORT_PURGE_SECONDS")
    if value is None:
        value = os.environ.get("CCUS_REPORT_PURGE_SECONDS", PURGE_SECONDS)
    return float(value)


def purge_documents(session: Session, at: datetime.datetime | None = None) -> int:
    """Delete the safety submissions past their keep-until date (reports.safety.retention); returns how many."""
    from reports.safety import retention

    return retention.purge(session, tokyo_date(at or now()))


def purge_now(app) -> int:
    """One scheduled purge, in its own session (the schedule runs outside any request): the expired report files,
    then the safety documents past their retention."""
    from portal.app.db import ScopedSession, db

    with app.app_context():
        session = ScopedSession(bind=db.engine)
        try:
            n = purge_expired(session, config=app.config)
            purge_documents(session)
            return n
        finally:
            session.close()


def ensure_purger(app) -> threading.Thread | None:
    """Start this process's purge thread for ``app`` unless Celery's beat does the purging or it runs already."""
    import weakref

    interval = purge_interval(app.config)
    if app.config.get("CCUS_CELERY_BROKER") or interval <= 0:
        return None
    known = PURGERS.get(id(app))
    if known is not None and known[0] == os.getpid() and known[1].is_alive():
        return known[1]
    stop, ref = threading.Event(), weakref.ref(app)

    def loop() -> None:
        while not stop.wait(interval):
            current = ref()
            if current is None:
                return
            try:
                n = purge_now(current)
                if n:
                    log.info("purged the files of %s expired report jobs", n)
            except Exception:  # noqa: BLE001  the next round tries again; the log has the details
                log.exception("scheduled purge of report files failed")
            del current

    thread = threading.Thread(target=loop, name="report-purge", daemon=True)
    PURGERS[id(app)] = (os.getpid(), thread, stop)
    thread.start()
    return thread


def stop_purger(app) -> None:
    known = PURGERS.pop(id(app), None)
    if known is not None:
        known[2].set()
        known[1].join(timeout=10)


# --- Celery ----------------------------------------------------------------------------------------------------

_CELERY: dict = {}
WORKER_APP: dict = {}  # the Flask app of a ``ccus worker`` process


def celery_app(broker: str):
    """The Celery app for ``broker`` (one per process): the web side sends, ``ccus worker`` runs."""
    if broker in _CELERY:
        return _CELERY[broker]
    from celery import Celery

    app = Celery("ccus", broker=broker)
    app.conf.update(task_acks_late=True, worker_prefetch_multiplier=1, task_default_queue=DEFAULT_QUEUE,
                    broker_connection_retry_on_startup=True, task_ignore_result=True,
                    worker_hijack_root_logger=False)

    @app.task(name=TASK_NAME)
    def run_report_job(job_id: int) -> str:
        from portal.app.db import db

        flask_app = WORKER_APP["app"]
        with flask_app.app_context():
            return run(db.engine, job_id, flask_app.config)

    @app.task(name=PURGE_TASK)
    def purge_report_files() -> int:
        return purge_now(WORKER_APP["app"])

    _CELERY[broker] = app
    return app


def schedule_purge(celery, config) -> bool:
    """Put the purge on the beat schedule of ``celery`` (run by ``ccus worker``), on the report queue."""
    interval = purge_interval(config)
    if interval <= 0:
        return False
    celery.conf.beat_schedule = {"purge-report-files": {"task": PURGE_TASK, "schedule": interval,
                                                        "options": {"queue": queue_name(config)}}}
    return True
