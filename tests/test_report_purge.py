"""Expired report files are deleted on a schedule, not only by ``ccus reports purge``: a thread of the web
process without Celery, the beat schedule of a real ``ccus worker`` with Celery (portal.output.jobs)."""
from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from portal.demo.testing import missing
from tests.test_reports_celery import REDIS, redis_answers, stop


def add_job(app, files: Path, owner: str, *, expired: bool, name: str) -> tuple[int, Path]:
    """A finished job whose file exists, expired or not."""
    from sqlalchemy import select

    from portal.app.db import db
    from portal.models import PortalUser, ReportJob
    from portal.models.jobs import DONE
    from portal.people.scoping import ALL, using_scope

    files.mkdir(parents=True, exist_ok=True)
    path = files / name
    path.write_bytes(b"\xef\xbb\xbf2-4")
    at = datetime.datetime.now(datetime.timezone.utc)
    with app.app_context(), using_scope(db.session, ALL):
        user = db.session.execute(select(PortalUser).where(PortalUser.username == owner)).scalar_one()
        job = ReportJob(owner_user_id=user.id, report_id="2-4", format="csv", params={}, status=DONE,
                        runner="thread:1", file_path=str(path), file_name="2-4.csv",
                        created_at=at - datetime.timedelta(days=8 if expired else 1),
                        expires_at=at - datetime.timedelta(days=1) if expired else at + datetime.timedelta(days=6))
        db.session.add(job)
        db.session.commit()
        return job.id, path


def status_of(app, job_id: int) -> tuple[str, str | None]:
    from portal.app.db import db
    from portal.models import ReportJob
    from portal.people.scoping import ALL, using_scope

    with app.app_context(), using_scope(db.session, ALL):
        job = db.session.get(ReportJob, job_id)
        db.session.refresh(job)
        result = job.status, job.file_path
        db.session.rollback()
        return result


def wait_until(condition, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_the_web_process_purges_expired_files_by_itself(demo_app, client_for, tmp_path):
    from portal.output import jobs

    files = tmp_path / "files"
    demo_app.config.update(CCUS_REPORTS_DIR=str(files), CCUS_REPORT_PURGE_SECONDS=0.5)
    jobs.stop_purger(demo_app)  # the logins below start it (a purger from earlier requests had the default hour)
    client, entry = client_for("employer", 1)
    old_id, old_file = add_job(demo_app, files, entry["login"], expired=True, name="old.csv")
    new_id, new_file = add_job(demo_app, files, entry["login"], expired=False, name="new.csv")
    orphan, fresh_orphan = files / "left-by-a-dead-run.xlsx", files / "being-written.pdf"
    orphan.write_bytes(b"x")
    fresh_orphan.write_bytes(b"x")
    eight_days_ago = time.time() - 8 * 86400
    os.utime(orphan, (eight_days_ago, eight_days_ago))
    try:
        assert client.get("/login/").status_code in (200, 302)  # any request; not the report menu (it purges too)
        thread = jobs.PURGERS[id(demo_app)][1]
        assert thread.is_alive() and thread.name == "report-purge"
        assert wait_until(lambda: not old_file.exists() and not orphan.exists(), 15), "nothing was purged"
        assert status_of(demo_app, old_id) == ("expired", None)
        assert new_file.exists() and fresh_orphan.exists() and status_of(demo_app, new_id) == ("done", str(new_file))
        # again later, with no request: the purge is periodic, not once per start
        later_id, later_file = add_job(demo_app, files, entry["login"], expired=True, name="later.csv")
        assert wait_until(lambda: not later_file.exists(), 15)
        assert status_of(demo_app, later_id)[0] == "expired"
        assert jobs.ensure_purger(demo_app) is thread  # one per process and app
    finally:
        jobs.stop_purger(demo_app)
    assert not thread.is_alive()
    r = client.get(f"/reports/jobs/{old_id}/download")
    assert r.status_code == 410 and "保存期間" in r.get_data(as_text=True)


def test_no_purge_thread_when_celery_purges_or_the_schedule_is_off(demo_app):
    from portal.output import jobs

    demo_app.config.update(CCUS_CELERY_BROKER="redis://127.0.0.1:6379/0", CCUS_REPORT_PURGE_SECONDS=1)
    assert jobs.ensure_purger(demo_app) is None
    demo_app.config.update(CCUS_CELERY_BROKER=None, CCUS_REPORT_PURGE_SECONDS=0)
    assert jobs.ensure_purger(demo_app) is None
    assert id(demo_app) not in jobs.PURGERS


@pytest.mark.skipif(missing(not redis_answers()), reason="no Redis on 127.0.0.1:6379")
def test_a_celery_worker_purges_expired_files_on_its_beat_schedule(demo_app, tmp_path):
    from portal.demo.testing import login_of

    files, queue = tmp_path / "files", f"ccus-test-{uuid.uuid4().hex[:8]}"
    owner = login_of(demo_app, "employer", 1)["login"]
    old_id, old_file = add_job(demo_app, files, owner, expired=True, name="old.xlsx")
    new_id, new_file = add_job(demo_app, files, owner, expired=False, name="new.xlsx")
    env = {**os.environ, "CCUS_DATABASE_URL": demo_app.config["SQLALCHEMY_DATABASE_URI"],
           "CCUS_CELERY_BROKER": f"redis://{REDIS[0]}:{REDIS[1]}/0", "CCUS_CELERY_QUEUE": queue,
           "CCUS_REPORTS_DIR": str(files), "CCUS_INSTANCE": str(tmp_path / "worker"), "CCUS_REPORT_PURGE_SECONDS": "1",
           "CCUS_SECRET_KEY": demo_app.config["SECRET_KEY"], "CCUS_CREDENTIAL_KEY": "test-credential-key"}
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen([str(Path(sys.executable).with_name("ccus")), "worker"], env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        try:
            purged = wait_until(lambda: not old_file.exists(), 120)
        finally:
            stop(worker)
    text = log_path.read_text(errors="replace")
    assert purged, text[-3000:]
    assert status_of(demo_app, old_id) == ("expired", None)
    assert new_file.exists() and status_of(demo_app, new_id)[0] == "done"
    assert "beat" in text.lower() and "ccus.purge_report_files" in text  # sent by beat, run by the worker
    assert (tmp_path / "worker" / "celerybeat-schedule").exists() or any((tmp_path / "worker").glob("celerybeat-schedule*"))
