"""The ``ccus`` command: serve, seed the demo, create an administrator, migrate, import code lists.

Sub-commands that other modules add (``ccus devices`` …) register themselves on :data:`main` through
``portal.app.cli.COMMAND_MODULES``.
"""
from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

import click

from portal.app import config as portal_config

# Modules that add sub-commands to ``ccus`` (each defines ``register(group)``).
COMMAND_MODULES: list[str] = ["portal.app.cli_devices", "portal.app.cli_reports"]


def _app():
    from portal import create_app

    return create_app()


def _is_default_sqlite() -> bool:
    return not os.environ.get("CCUS_DATABASE_URL")


def _database_is_empty(url: str) -> bool:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        return "employers" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _seed_demo(app, logins_json: str | None = None) -> list[dict]:
    from portal import demo
    from portal.app.db import db

    with app.app_context():
        logins = demo.build(db.session, app.appbuilder.sm)
    if logins_json:
        Path(logins_json).write_text(json.dumps(logins, ensure_ascii=False, indent=2), encoding="utf-8")
    return logins


@click.group()
def main() -> None:
    """ccus-portal: 建設キャリアアップシステム portal."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Serve the portal. With no CCUS_DATABASE_URL, a demo database is created and seeded on first start."""
    from portal.app.migrate import upgrade

    url = portal_config.database_url()
    first_start = _database_is_empty(url)
    upgrade(url)
    app = _app()
    if first_start and _is_default_sqlite():
        _seed_demo(app)
        click.echo(f"デモデータを作成しました。ログイン: admin / {__import__('portal.demo').demo.DEMO_PASSWORD}")
    click.echo(f"CCUS portal: http://{host}:{port}/")
    app.run(host=host, port=port, use_reloader=False, threaded=True)


@main.command("demo")
@click.option("--logins-json", type=click.Path(dir_okay=False), help="write the demo logins to this JSON file")
def demo_command(logins_json: str | None) -> None:
    """Create the schema and seed the demo data (employers, sites, structure, 300 workers, logins)."""
    from portal.app.migrate import upgrade

    url = portal_config.database_url()
    if not _database_is_empty(url):
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as c:
            if c.execute(text("select count(*) from employers")).scalar():
                raise click.ClickException("データベースには既にデータがあります。空のデータベースを指定してください。")
        engine.dispose()
    upgrade(url)
    logins = _seed_demo(_app(), logins_json)
    click.echo(f"デモデータを作成しました（ログイン {len(logins)} 件）。")


@main.command("create-admin")
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--email", default=None)
def create_admin(username: str, password: str, email: str | None) -> None:
    """Create a system administrator login."""
    from portal.app.migrate import upgrade

    upgrade(portal_config.database_url())
    app = _app()
    with app.app_context():
        sm = app.appbuilder.sm
        if sm.find_user(username=username):
            raise click.ClickException(f"ユーザー {username} は既に存在します。")
        user = sm.add_user(username=username, first_name="システム", last_name="管理者",
                           email=email or f"{username}@ccus.invalid", role=sm.find_role("Admin"), password=password)
        if not user:
            raise click.ClickException("管理者を作成できませんでした。")
    click.echo(f"管理者 {username} を作成しました。")


@main.command("migrate")
def migrate() -> None:
    """Create or upgrade the schema to the newest revision."""
    from portal.app.migrate import upgrade

    upgrade(portal_config.database_url())
    click.echo("スキーマを最新にしました。")


@main.command("import-codes")
@click.option("--trades", type=click.Path(exists=True, dir_okay=False), help="CSV: major_code,major_name,minor_code,minor_name,evaluable")
@click.option("--qualifications", type=click.Path(exists=True, dir_okay=False), help="CSV: code,name[,category]")
def import_codes(trades: str | None, qualifications: str | None) -> None:
    """Import the official trade and qualification code lists (upsert; nothing is deleted)."""
    from portal.people import codes
    from portal.app.db import db
    from portal.app.errors import DomainError
    from portal.people.scoping import ALL, using_scope

    app = _app()
    with app.app_context(), using_scope(db.session, ALL):
        try:
            n_t = codes.upsert_trades(db.session, codes.parse_trades(Path(trades).read_text(encoding="utf-8"))) if trades else 0
            n_q = codes.upsert_qualifications(
                db.session, codes.parse_qualifications(Path(qualifications).read_text(encoding="utf-8"))) if qualifications else 0
        except DomainError as e:
            db.session.rollback()
            raise click.ClickException(f"[{e.code}] {e.message}")
        db.session.commit()
    click.echo(f"職種 {n_t} 件、資格 {n_q} 件を取り込みました。")


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(main)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
