"""The landing page of administrators and employers (事業者責任者): their to-do list (portal.output.dashboards), each
line with how many and a link to where it is fixed. Prime contractors and 現場管理者 also get their site board."""
from __future__ import annotations

from flask import current_app
from flask_appbuilder import BaseView, expose, has_access

from portal.app import clock
from portal.output import dashboards
from portal.app.db import db
from portal.people.scoping import ROLE_EMPLOYER as E, current_scope, leads_a_site
from portal.people.security import grant


class DashboardView(BaseView):
    route_base = "/dashboard"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        session, now = db.session, clock.now()
        scope = current_scope(session)
        if scope.is_all:
            title, items = "システムの状況", dashboards.admin_items(session, now)
        else:
            title, items = "やること", ([] if scope.site_manager else
                                         dashboards.employer_items(session, scope.employer_id, now))
        return self.render_template("ccus/dashboard.html", title=title, items=items, now=clock.tokyo_text(now),
                                    board=leads_a_site(scope))


def register(appbuilder) -> None:
    appbuilder.add_view_no_menu(DashboardView)  # reached from the top page ("/"), not a menu entry
    grant(current_app.config["FAB_ROLES"], [E], "DashboardView", "can_index")
