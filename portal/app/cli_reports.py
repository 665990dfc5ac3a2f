"""``ccus worker`` (the Celery worker that produces report jobs when CCUS_CELERY_BROKER is set) and
``ccus reports purge`` (delete expired report files; they are also deleted on a schedule: portal.output.jobs)."""
from __future__ import annotations

import click


def register(group: click.Group) -> None:
    @group.command("worker")
    @click.option("--concurrency", default=1, show_default=True, type=int, help="jobs run at once")
    @click.option("--queue", default=None, help="queue name (default: CCUS_CELERY_QUEUE or ccus-reports)")
    @click.option("--beat/--no-beat", default=True, show_default=True,
                  help="run the schedule (expired files purged every CCUS_REPORT_PURGE_SECONDS) in this worker")
    def worker(concurrency: int, queue: str | None, beat: bool) -> None:
        """Run report jobs from the Celery broker in CCUS_CELERY_BROKER (Redis), with the portal's database."""
        from portal import create_app
        from portal.output import jobs

        app = create_app()
        broker = app.config.get("CCUS_CELERY_BROKER")
        if not broker:
            raise click.ClickException("CCUS_CELERY_BROKER が設定されていません（例: redis://127.0.0.1:6379/0）。")
        jobs.WORKER_APP["app"] = app
        queue = queue or jobs.queue_name(app.config)
        celery = jobs.celery_app(broker)
        argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}",
                "--pool=threads" if concurrency > 1 else "--pool=solo", "-Q", queue,
                "--without-gossip", "--without-mingle", "--without-heartbeat"]
        if beat and jobs.schedule_purge(celery, {**app.config, "CCUS_CELERY_QUEUE": queue}):
            from portal.app.config import instance_dir

            argv += ["--beat", f"--schedule={instance_dir() / 'celerybeat-schedule'}"]
        celery.worker_main(argv)

    @group.group("reports")
    def reports_group() -> None:
        """帳票: report files."""

    @reports_group.command("purge")
    def purge() -> None:
        """Delete the files of expired report jobs (7 days by default: CCUS_REPORT_RETENTION_DAYS) and the safety
        submissions past their keep-until date (from the site's 引渡し)."""
        from portal import create_app
        from portal.output import jobs
        from portal.app.db import db

        app = create_app()
        with app.app_context():
            n = jobs.purge_expired(db.session, config=app.config)
            documents = jobs.purge_documents(db.session)
        click.echo(f"期限切れのファイル {n} 件を削除しました。")
        click.echo(f"保存期間を過ぎた安全書類の提出 {documents} 件を削除しました。")
