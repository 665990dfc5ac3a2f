"""Report jobs on Celery: a real ``ccus worker`` (subprocess) against the machine's Redis. The job is queued
before the worker exists (the queue and the job row outlive any process), then the worker produces the file."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from portal.demo.testing import missing
from tests.test_reports import last_month, wait_job

REDIS = ("127.0.0.1", 6379)


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


def stop(worker: subprocess.Popen) -> None:
    """End a ``ccus worker`` started in its own session, and its children (beat)."""
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)


@pytest.mark.skipif(missing(not redis_answers()), reason="no Redis on 127.0.0.1:6379")
def test_a_job_queued_before_the_worker_starts_is_produced_by_a_celery_worker(demo_app, client_for, tmp_path):
    from portal.app.db import db
    from portal.models import ReportJob
    from portal.people.scoping import ALL, using_scope

    broker, queue, files = f"redis://{REDIS[0]}:{REDIS[1]}/0", f"ccus-test-{uuid.uuid4().hex[:8]}", tmp_path / "files"
    demo_app.config.update(CCUS_CELERY_BROKER=broker, CCUS_CELERY_QUEUE=queue, CCUS_REPORTS_DIR=str(files))
    client, _entry = client_for("employer", 1)
    r = client.post("/reports/2-4/export", data={"format": "xlsx", "month": last_month()})
    assert r.status_code == 303
    job_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    time.sleep(1)
    status = client.get(f"/reports/jobs/{job_id}/status").get_json()
    assert status["status"] == "queued"  # nobody runs it in this process: it waits in Redis

    env = {**os.environ, "CCUS_DATABASE_URL": demo_app.config["SQLALCHEMY_DATABASE_URI"], "CCUS_CELERY_BROKER": broker,
           "CCUS_CELERY_QUEUE": queue, "CCUS_REPORTS_DIR": str(files), "CCUS_INSTANCE": str(tmp_path / "worker"),
           "CCUS_SECRET_KEY": demo_app.config["SECRET_KEY"], "CCUS_CREDENTIAL_KEY": "test-credential-key"}
    ccus = Path(sys.executable).with_name("ccus")
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen([str(ccus), "worker"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        status = wait_job(client, job_id, timeout=180)
    finally:
        stop(worker)
        log.close()
    assert status["status"] == "done", (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    with demo_app.app_context(), using_scope(db.session, ALL):
        job = db.session.get(ReportJob, job_id)
        assert job.runner == "celery" and Path(job.file_path).parent == files
    from python_calamine import CalamineWorkbook

    body = client.get(status["download"]).data
    (tmp_path / "out.xlsx").write_bytes(body)
    sheet = CalamineWorkbook.from_path(str(tmp_path / "out.xlsx")).get_sheet_by_index(0).to_python()
    assert sheet[0][0] == "2-4 就業履歴一覧(月別カレンダー)" and sheet[-1][0] == "合計" and len(sheet) > 5
    assert b"ready" in (tmp_path / "worker.log").read_bytes()
