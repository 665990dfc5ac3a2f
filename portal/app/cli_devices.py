"""``ccus devices`` (installed device types, registration, revocation) and ``ccus histories rebuild``, for
operators and scripts. They run as the operator of the installation: under the ALL scope."""
from __future__ import annotations

import click


def _app():
    from portal import create_app

    return create_app()


def register(group: click.Group) -> None:
    @group.group("devices", invoke_without_command=True)
    @click.pass_context
    def devices(ctx: click.Context) -> None:
        """入退場デバイス: list the installed device types (without a sub-command), add, revoke."""
        if ctx.invoked_subcommand is not None:
            return
        from portal.devices import device_types

        app = _app()
        for code, t in sorted(device_types(app.extensions["ccus_plugins"]).items()):
            click.echo(f"{code}\t{t.mark}\t{t.label}")

    @devices.command("add")
    @click.option("--site", "site", required=True, help="現場ID (14 digits)")
    @click.option("--type", "device_type", required=True, help="device type code (see `ccus devices`)")
    @click.option("--name", default="", help="a name shown in lists")
    def add(site: str, device_type: str, name: str) -> None:
        """Register a device; prints its API key alone on the last line (shown once, stored hashed)."""
        from portal.app.db import db
        from portal.devices.keys import register_device
        from portal.devices import device_types
        from portal.app.errors import DomainError
        from portal.people.scoping import ALL, using_scope

        app = _app()
        with app.app_context(), using_scope(db.session, ALL):
            try:
                device, key = register_device(db.session, site, device_type, name,
                                              installed=device_types(app.extensions["ccus_plugins"]))
            except DomainError as e:
                db.session.rollback()
                raise click.ClickException(f"[{e.code}] {e.message}")
            db.session.commit()
            click.echo(f"機器を登録しました: id={device.id} 種類={device.device_type} 現場ID={site} "
                       f"キー接頭辞={device.key_prefix}（キーは一度だけ表示されます）")
        click.echo(key)

    @devices.command("revoke")
    @click.argument("device")
    def revoke(device: str) -> None:
        """Revoke a device's key (DEVICE: its id or key prefix)."""
        from portal.app.db import db
        from portal.devices.keys import revoke_device
        from portal.app.errors import DomainError
        from portal.people.scoping import ALL, using_scope

        app = _app()
        with app.app_context(), using_scope(db.session, ALL):
            try:
                found = revoke_device(db.session, device)
            except DomainError as e:
                db.session.rollback()
                raise click.ClickException(f"[{e.code}] {e.message}")
            db.session.commit()
            click.echo(f"機器 {found.id}（{found.key_prefix}）のキーを失効させました。")

    @group.group("histories")
    def histories_group() -> None:
        """就業履歴."""

    @histories_group.command("rebuild")
    @click.option("--month", default=None, help="YYYY-MM (default: every month)")
    @click.option("--check", is_flag=True, help="only report differences, change nothing")
    def rebuild(month: str | None, check: bool) -> None:
        """Rebuild histories from the events and report every difference from what was stored."""
        import re

        from portal.history import histories
        from portal.app.db import db
        from portal.people.scoping import ALL, using_scope

        if month is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            raise click.BadParameter("YYYY-MM の形式で指定してください。", param_hint="--month")
        app = _app()
        with app.app_context(), using_scope(db.session, ALL):
            diffs = histories.rebuild(db.session, month, write=not check)
            if not check:
                db.session.commit()
        for d in diffs:
            click.echo(str(d))
        verb = "見つかりました" if check else "修正しました"
        click.echo(f"差異 {len(diffs)} 件が{verb}。" if diffs else "差異はありません。")
        if diffs and check:
            raise SystemExit(1)
