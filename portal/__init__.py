"""ccus-portal: a self-hostable Construction Career Up System (建設キャリアアップシステム) portal."""
from __future__ import annotations

import logging

from flask import Flask

from portal.app.interpreter import guard_ast_parse

guard_ast_parse()  # before anything parses in two threads (werkzeug's URL rules, Jinja, report jobs)

log = logging.getLogger(__name__)


def create_app(config: dict | None = None) -> Flask:
    """The Flask app factory: configuration, database, CSRF, AppBuilder with the portal's security manager,
    every screen and API, and the device plugin manager (built here, per app, never at import)."""
    from flask_appbuilder import AppBuilder
    from flask_wtf.csrf import CSRFProtect

    from portal.app import config as portal_config
    from portal.app.db import db
    from portal.devices.host import make_plugin_manager, register_routes
    from portal.app import errors, http_headers
    from portal.people.security import PortalSecurityManager, fab_roles

    app = Flask(__name__, instance_path=str(portal_config.instance_dir()))
    app.config.update(portal_config.defaults())
    app.config.update(config or {})
    app.config["FAB_ROLES"] = fab_roles()  # filled as views register (portal.views.base.add)
    errors.cap_chunked_bodies(app)  # first: before CSRF or any view reads a body

    db.init_app(app)
    from portal.people import audit

    audit.install(app)  # the personal-data trail (after_request; model events)
    CSRFProtect(app)  # before AppBuilder: without it FAB's GET /delete/<pk> deletes without a token

    with app.app_context():
        import portal.models  # noqa: F401  (register every table)

        from portal.views.home import PortalIndexView

        appbuilder = AppBuilder(security_manager_class=PortalSecurityManager, update_perms=True,
                                indexview=PortalIndexView)
        appbuilder.init_app(app, db.session)
        app.extensions["ccus_plugins"] = make_plugin_manager(load_entry_points=app.config["CCUS_LOAD_PLUGINS"],
                                                             plugins=app.config.get("CCUS_EXTRA_PLUGINS"))
        from portal import views

        views.register(appbuilder)
        for csrf_exempt in app.config.get("CCUS_CSRF_EXEMPT_BLUEPRINTS", []):
            app.extensions["csrf"].exempt(csrf_exempt)
        register_routes(app.extensions["ccus_plugins"], app)
        from portal.people import offers

        offers.install(appbuilder)  # the menu offers what the principal's scope can use (after plugins' views)
        from portal.output import display

        display.install(app)  # |tokyo, |shown, |device_type_label for hand-written templates
        appbuilder.post_init()

    errors.install(app)  # DomainError, HTTP errors and an unreachable database: a code and a Japanese message
    http_headers.install(app)  # CSP, frame-ancestors, nosniff, Referrer-Policy, HSTS over HTTPS
    if app.config.get("CCUS_TRUSTED_PROXIES"):  # the client address and scheme as the trusted proxies saw them
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["CCUS_TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    return app
