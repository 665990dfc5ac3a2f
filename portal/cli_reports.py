"""``ccus worker`` (the Celery worker that produces report jobs when CCUS_CELERY_BROKER is set) and
``ccus reports purge`` (delete expired report files; the web process also does it when the report menu opens)."""
from __future__ import annotations

import click


def register(group: click.Group) -> None:
    @group.command("worker")
    @click.option("--concurrency", default=1, show_default=True, type=int, help="jobs run at once")
    @click.option("--queue", default=None, help="queue name (default: CCUS_CELERY_QUEUE or ccus-reports)")
    def worker(concurrency: int, queue: str | None) -> None:
        """Run report jobs from the Celery broker in CCUS_CELERY_BROKER (Redis), with the portal's database."""
        from portal import create_app, jobs

        app = create_app()
        broker = app.config.get("CCUS_CELERY_BROKER")
        if not broker:
            raise click.ClickException("CCUS_CELERY_BROKER が設定されていません（例: redis://127.0.0.1:6379/0）。")
        jobs.WORKER_APP["app"] = app
        queue = queue or jobs.queue_name(app.config)
        jobs.celery_app(broker).worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}",
                                             "--pool=threads" if concurrency > 1 else "--pool=solo", "-Q", queue,
                                             "--without-gossip", "--without-mingle", "--without-heartbeat"])

    @group.group("reports")
    def reports_group() -> None:
        """帳票: report files."""

    @reports_group.command("purge")
    def purge() -> None:
        """Delete the files of expired report jobs (7 days by default: CCUS_REPORT_RETENTION_DAYS)."""
        from portal import create_app, jobs
        from portal.db import db

        app = create_app()
        with app.app_context():
            n = jobs.purge_expired(db.session)
        click.echo(f"期限切れのファイル {n} 件を削除しました。")
