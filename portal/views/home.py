"""The landing page after login: each role starts where its daily work is (a worker at its own menu, a 現場管理者
at its site board, an employer and the administrator at their to-do list, portal.views.dashboard)."""
from __future__ import annotations

from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose

from portal.people.scoping import ROLE_ADMIN, ROLE_EMPLOYER, ROLE_SITE_MANAGER, ROLE_WORKER

START = {  # role → endpoint of its first screen, in order of precedence
    ROLE_WORKER: "WorkerPortalView.menu",
    ROLE_SITE_MANAGER: "SiteBoardView.board",
    ROLE_EMPLOYER: "DashboardView.index",
}
ADMIN_START = "DashboardView.index"


class PortalIndexView(IndexView):
    @expose("/")
    def index(self):
        user = g.get("user")
        roles = {r.name for r in getattr(user, "roles", [])} if user is not None and user.is_authenticated else set()
        for role, endpoint in START.items():
            if role in roles:
                return redirect(url_for(endpoint))
        if ROLE_ADMIN in roles:
            return redirect(url_for(ADMIN_START))
        return super().index()
