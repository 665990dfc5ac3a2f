"""入退場デバイスの登録・失効: administrators for any site, prime contractors (元請の事業者責任者) for their own
sites (the Device scope rule decides; this screen only narrows the site list). The key is shown once, on the
page that answers the registration, and never again."""
from __future__ import annotations

from flask import current_app, flash, make_response, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import select

from portal.devices import settings as device_settings
from portal.app.db import db
from portal.devices.keys import find_device, register_device, revoke_device
from portal.devices import device_types
from portal.app.errors import DomainError
from portal.models import Device, Site
from portal.devices.host import installed_plugins
from portal.people.scoping import current_scope


def _sites():
    """The sites where the user may register devices: every site for an administrator, the prime sites for an
    employer (the scope guard refuses the others anyway)."""
    scope = current_scope(db.session)
    stmt = select(Site).order_by(Site.name)
    if not scope.is_all:
        stmt = stmt.where(Site.id.in_(scope.prime_site_ids))
    return db.session.execute(stmt).scalars().all()


class DeviceAdminView(BaseView):
    route_base = "/devices/manage"
    default_view = "list"

    def _page(self, **extra):
        devices = db.session.execute(select(Device).order_by(Device.site_id, Device.id)).scalars().all()
        types = device_types(current_app.extensions["ccus_plugins"])
        response = make_response(self.render_template(
            "devices/manage.html", title="入退場デバイスの登録・失効", devices=devices, sites=_sites(), types=types, **extra))
        response.headers["Cache-Control"] = "no-store"  # the page that shows a key is never cached
        return response

    @expose("/", methods=["GET"])
    @has_access
    def list(self):
        return self._page()

    @expose("/add", methods=["POST"])
    @has_access
    def add(self):
        try:
            device, key = register_device(db.session, request.form.get("site", 0, type=int),  # not a number: no such site
                                          request.form.get("device_type", ""), request.form.get("name", ""),
                                          installed=device_types(current_app.extensions["ccus_plugins"]))
            db.session.commit()
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "danger")
            return redirect(url_for(".list"))
        return self._page(new_device=device, new_key=key)

    @expose("/revoke/<int:device_id>", methods=["POST"])
    @has_access
    def revoke(self, device_id: int):
        try:
            device = revoke_device(db.session, find_device(db.session, device_id))
            db.session.commit()
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "danger")
            return redirect(url_for(".list"))
        flash(f"機器「{device.name}」（{device.key_prefix}）のキーを失効させました。", "success")
        return redirect(url_for(".list"))


    def _settings_page(self, device, schema, values, status=200):
        secrets = device_settings.secret_names(schema)
        return self.render_template("devices/settings.html", title="機器の設定", device=device,
                                    fields=device_settings.fields(schema),
                                    values=device_settings.masked(values, secrets),
                                    secrets_set={n for n in secrets if (device.settings or {}).get(n)}), status

    @expose("/settings/<int:device_id>", methods=["GET", "POST"])
    @has_access
    def settings(self, device_id: int):
        """機器の設定: the form of the device type's settings_schema; bad input keeps the form and stores nothing."""
        try:
            device = find_device(db.session, device_id)  # outside the caller's scope: not found
        except DomainError as e:
            flash(e.message, "danger")
            return redirect(url_for(".list"))
        kind = device_types(current_app.extensions["ccus_plugins"]).get(device.device_type)
        schema = kind.settings_schema if kind else {}
        if request.method == "GET":
            return self._settings_page(device, schema, dict(device.settings or {}))
        try:
            device_settings.update(db.session, device, schema, request.form)
            db.session.commit()
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "danger")
            return self._settings_page(device, schema, dict(request.form), 422)
        flash(f"機器「{device.name}」の設定を保存しました。", "success")
        return redirect(url_for(".list"))


    @expose("/plugins", methods=["GET"])
    @has_access
    def plugins(self):
        """インストール済みの機器プラグイン (administrators only): each plugin's distribution and version, its
        device types and the sites with an active device of each."""
        rows = installed_plugins(current_app.extensions["ccus_plugins"])
        used: dict[str, set] = {}
        for device_type, site in db.session.execute(
                select(Device.device_type, Site).join(Site, Site.id == Device.site_id)
                .where(Device.revoked_at.is_(None)).order_by(Site.name)).all():
            used.setdefault(device_type, {})[site.id] = site
        types = device_types(current_app.extensions["ccus_plugins"])
        return self.render_template("devices/plugins.html", title="インストール済みの機器プラグイン", plugins=rows,
                                    types=types, used={k: list(v.values()) for k, v in used.items()})


def register(appbuilder) -> None:
    from portal.people.scoping import ROLE_EMPLOYER as E
    from portal.views.base import add

    add(appbuilder, DeviceAdminView, "入退場デバイスの登録・失効", "管理", {E: "can_list|can_add|can_revoke|can_settings"}, icon="fa-key")
