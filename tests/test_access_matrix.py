"""Every registered screen and REST API over a domain model, for every role: rows outside the principal's
scope never appear in lists or the API, and give 404 on show, edit and delete; roles without a grant are
refused. The views are enumerated from FAB's registry, so a view added later cannot be forgotten."""
from __future__ import annotations

import re

import pytest
from flask_appbuilder import ModelRestApi, ModelView
from sqlalchemy import func, select

from portal.app.db import db
from portal.models import PortalUser
from portal.people.scoping import ALL, scope_for_user, scoped_models, using_scope
from portal.demo.testing import api_token, login, login_of

ROLES = ["admin", "prime", "employer", "site_manager", "worker"]


def domain_views(app, kind):
    domain = set(scoped_models())
    return [v for v in app.appbuilder.baseviews
            if isinstance(v, kind) and getattr(v, "datamodel", None) is not None and v.datamodel.obj in domain]


def visible_ids(app, username, model) -> tuple[set, set]:
    """(ids the principal's scope admits, all ids) for ``model``."""
    with app.app_context():
        session = db.session
        with using_scope(session, ALL):
            user = session.execute(select(PortalUser).where(PortalUser.username == username)).scalar_one()
            everything = set(session.execute(select(model.id)).scalars())
            scope = scope_for_user(session, user)
        with using_scope(session, scope):
            seen = set(session.execute(select(model.id)).scalars())
        session.rollback()
    return seen, everything


def can(app, username, permission, view_name) -> bool:
    with app.test_request_context():
        session = db.session
        with using_scope(session, ALL):
            user = session.execute(select(PortalUser).where(PortalUser.username == username)).scalar_one()
            sm = app.appbuilder.sm
            return sm._has_view_access(user, permission, view_name)


@pytest.mark.parametrize("role", ROLES)
def test_screens_show_exactly_the_scope(demo_app, role):
    entry = login_of(demo_app, role)
    client = demo_app.test_client()
    assert login(client, entry["login"], entry["password"]).status_code == 200
    checked = 0
    for view in domain_views(demo_app, ModelView):
        model, base = view.datamodel.obj, f"/{view.route_base.strip('/')}"
        seen, everything = visible_ids(demo_app, entry["login"], model)
        if not can(demo_app, entry["login"], "can_list", view.class_permission_name):
            r = client.get(f"{base}/list/")
            assert r.status_code in (302, 403), f"{role} reached {base} without a grant"
            continue
        page = client.get(f"{base}/list/?psize_{view.__class__.__name__}=10000")
        assert page.status_code == 200, (role, base)
        listed = {int(pk) for pk in re.findall(rf'{re.escape(base)}/show/(\d+)', page.get_data(as_text=True))}
        assert listed == seen, f"{role}: {base} lists {sorted(listed - seen)[:5]} outside / misses {sorted(seen - listed)[:5]}"
        for pk in sorted(everything - seen)[:3]:
            for action in ("show", "edit", "delete"):
                r = client.get(f"{base}/{action}/{pk}")
                assert r.status_code in (302, 403, 404), f"{role}: {base}/{action}/{pk} answered {r.status_code}"
                if r.status_code == 302:  # refused by permission: it must not be a successful redirect after delete
                    assert "/login" in r.headers["Location"] or action != "delete" or \
                        pk in visible_ids(demo_app, "admin", model)[1]
        checked += 1
    assert checked >= (14 if role == "admin" else 5)


@pytest.mark.parametrize("role", ROLES)
def test_rest_apis_return_exactly_the_scope(demo_app, role):
    entry = login_of(demo_app, role)
    client = demo_app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, entry['login'], entry['password'])}"}
    checked = 0
    for api in domain_views(demo_app, ModelRestApi):
        model, base = api.datamodel.obj, f"/api/v1/{api.resource_name}"
        seen, everything = visible_ids(demo_app, entry["login"], model)
        first = client.get(f"{base}/?q=(page_size:100,page:0)", headers=headers)
        if not can(demo_app, entry["login"], "can_get", api.class_permission_name):
            assert first.status_code in (401, 403), f"{role} reached {base} without a grant"
            continue
        assert first.status_code == 200, (role, base, first.get_data(as_text=True)[:200])
        ids, page = set(first.get_json()["ids"]), 1
        assert first.get_json()["count"] == len(seen), (role, base)
        while len(ids) < first.get_json()["count"]:
            more = client.get(f"{base}/?q=(page_size:100,page:{page})", headers=headers).get_json()["ids"]
            assert more
            ids |= set(more)
            page += 1
        assert ids == seen, f"{role}: {base} returned rows outside the scope"
        for pk in sorted(everything - seen)[:3]:
            assert client.get(f"{base}/{pk}", headers=headers).status_code in (403, 404)
            assert client.put(f"{base}/{pk}", json={}, headers=headers).status_code in (403, 404, 405)
            assert client.delete(f"{base}/{pk}", headers=headers).status_code in (403, 404, 405)
            assert pk in visible_ids(demo_app, "admin", model)[0]  # still stored
        checked += 1
    assert checked >= (8 if role == "admin" else 3)


def test_the_matrix_is_not_trivial(demo_app):
    """Each non-admin principal sees strictly less than everything of the worker data."""
    from portal.models import Worker, WorkerPersonal

    for role in ROLES[1:]:
        entry = login_of(demo_app, role)
        for model in (Worker, WorkerPersonal):
            seen, everything = visible_ids(demo_app, entry["login"], model)
            assert seen < everything, (role, model.__name__)
    seen, everything = visible_ids(demo_app, "admin", Worker)
    assert seen == everything and len(everything) > 50


def test_every_domain_model_is_scoped(demo_app):
    """Every mapped class outside FAB's own security tables has a scope rule."""
    from flask_appbuilder import Model

    security_tables = {"ab_user", "ab_role", "ab_permission", "ab_view_menu", "ab_permission_view",
                       "ab_register_user", "ab_group", "ab_api_key"}
    scoped = set(scoped_models())
    for mapper in Model.registry.mappers:
        if mapper.local_table.name in security_tables or not mapper.local_table.name.startswith(tuple("abcdefghijklmnopqrstuvwxyz")):
            continue
        if mapper.class_.__name__ == "PortalUser" or mapper.local_table.name.startswith("ab_"):
            continue
        assert mapper.class_ in scoped, f"{mapper.class_.__name__} has no scope rule"
    with demo_app.app_context():
        assert db.session.execute(select(func.count()).select_from(PortalUser.__table__)).scalar() > 0
