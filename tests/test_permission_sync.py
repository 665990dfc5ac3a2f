"""FAB's permission sync through the portal's security manager (its grant is one look-up and one insert)."""
from __future__ import annotations

from sqlalchemy import func, select


def _grants(session, role_id: int) -> int:
    from flask_appbuilder.security.sqla.models import assoc_permissionview_role as link

    return session.scalar(select(func.count()).select_from(link).where(link.c.role_id == role_id))


def test_the_administrator_holds_every_permission_and_a_grant_is_stored_once(app):
    from flask_appbuilder.security.sqla.models import PermissionView

    sm = app.appbuilder.sm
    with app.app_context():
        session = sm.session
        admin = sm.find_role(sm.auth_role_admin)
        # FAB's rule: the Admin role has every permission of every screen and API (not the name patterns the
        # builtin roles' definitions store, ^…$)
        views = [pv for pv in session.scalars(select(PermissionView)) if not pv.view_menu.name.startswith("^")]
        every = len(views)
        assert every > 300
        assert _grants(session, admin.id) == every
        assert {pv.id for pv in admin.permissions} == {pv.id for pv in views}

        new = sm.add_permission_view_menu("can_try", "TryView")
        sm.add_permission_role(admin, new)
        sm.add_permission_role(admin, new)  # twice: stored once
        assert _grants(session, admin.id) == every + 1
        assert new in sm.find_role(sm.auth_role_admin).permissions  # the loaded collection sees it

        public = sm.add_role("Tried")
        sm.add_permission_role(public, new)
        assert [pv.id for pv in sm.find_role("Tried").permissions] == [new.id]
