"""Nothing is offered that the principal cannot do: every link of a role's menu and landing page answers 2xx,
the menu holds only what the scope can use (portal.people.offers), and a list's edit and delete buttons appear only on
the rows the write rule (portal.people.scoping.may_write) lets the principal change."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.app.db import db
from portal.models import Employer, PortalUser
from portal.people.scoping import ALL, leads_a_site, scope_for_user, using_scope
from portal.demo.testing import login, login_of

ROLES = ["admin", "prime", "employer", "site_manager", "worker"]
NOT_PAGES = ("/logout", "/lang/", "/static/", "javascript:")


def menu_links(html: str) -> list[str]:
    start = html.find('<ul class="nav navbar-nav">')
    nav = html[start:html.find('<ul class="nav navbar-nav navbar-right">', start)]
    return sorted({h.replace("&amp;", "&") for h in re.findall(r'href="(/[^"#]*)"', nav)
                   if not h.startswith(NOT_PAGES)})


def page_links(html: str) -> set[str]:
    return {h.replace("&amp;", "&") for h in re.findall(r'href="(/[^"#]*)"', html) if not h.startswith(NOT_PAGES)}


def scope_of(app, username):
    with app.app_context():
        with using_scope(db.session, ALL):
            user = db.session.execute(select(PortalUser).where(PortalUser.username == username)).scalar_one()
            return scope_for_user(db.session, user)


@pytest.mark.parametrize("role", ROLES)
def test_every_link_offered_to_a_role_answers(demo_app, role):
    entry = login_of(demo_app, role)
    client = demo_app.test_client()
    assert login(client, entry["login"], entry["password"]).status_code == 200
    landing = client.get("/", follow_redirects=True)
    assert landing.status_code == 200
    html = landing.get_data(as_text=True)
    links = page_links(html)  # the menu's and the landing page's own
    assert len(links) >= 3, (role, links)
    failed = {}
    for href in sorted(links):
        r = client.get(href, follow_redirects=True)
        if not 200 <= r.status_code < 300:
            failed[href] = r.status_code
    assert not failed, f"{role} is offered links that refuse it: {failed}"


def test_the_menu_holds_what_the_scope_can_use(demo_app):
    worker = login_of(demo_app, "worker")
    client = demo_app.test_client()
    login(client, worker["login"], worker["password"])
    nav = " ".join(menu_links(client.get("/", follow_redirects=True).get_data(as_text=True)))
    assert "/work-calendar/" in nav and "/employerview/" not in nav and "/workcorrectionview/" not in nav
    assert "/siteview/" not in nav  # マスタ, 現場・施工体制 and 承認 are not a worker's menu
    for role in ("prime", "employer"):
        entry = login_of(demo_app, role)
        client = demo_app.test_client()
        login(client, entry["login"], entry["password"])
        html = client.get("/workerview/list/").get_data(as_text=True)
        offered_board = "/site-board/" in " ".join(menu_links(html))
        assert offered_board == leads_a_site(scope_of(demo_app, entry["login"])), role
    assert leads_a_site(scope_of(demo_app, login_of(demo_app, "prime")["login"]))
    assert not leads_a_site(scope_of(demo_app, login_of(demo_app, "employer")["login"]))  # a subcontractor only


def test_edit_is_offered_only_on_rows_the_principal_may_change(demo_app):
    entry = login_of(demo_app, "employer")
    client = demo_app.test_client()
    login(client, entry["login"], entry["password"])
    html = client.get("/employerview/list/?psize_EmployerView=100").get_data(as_text=True)
    listed = set(re.findall(r"/employerview/show/(\d+)", html))
    editable = set(re.findall(r"/employerview/edit/(\d+)", html))
    scope = scope_of(demo_app, entry["login"])
    assert len(listed) > 1 and editable == {str(scope.employer_id)}  # its own record only, not the directory's
    assert not re.findall(r"/employerview/delete/\d+", html)  # nobody but the administrator deletes an employer
    with demo_app.app_context(), using_scope(db.session, ALL):
        other = db.session.execute(select(Employer).where(Employer.id != scope.employer_id)).scalars().first()
        assert other is not None


def _edit_views(app):
    """The portal's model screens with an edit form: (view, model)."""
    from portal.views.base import PortalModelView

    return [(v, v.datamodel.obj) for v in app.appbuilder.baseviews
            if isinstance(v, PortalModelView) and "can_edit" in (v.base_permissions or ["can_edit"])]


@pytest.mark.parametrize("role", ["prime", "employer", "site_manager"])
def test_an_edit_url_of_a_row_the_role_may_only_read_answers_403_without_a_form(demo_app, client_for, role):
    """Per screen with an edit form: one row the role may change opens the form, one it may only read answers the
    Japanese 403 page (no form, nothing to submit), by the rule of the list's buttons (portal.people.offers)."""
    from portal.people.scoping import may_write

    client, entry = client_for(role)
    scope = scope_of(demo_app, entry["login"])
    refused, opened = [], []
    for view, model in _edit_views(demo_app):
        with demo_app.app_context(), using_scope(db.session, scope):
            rows = db.session.execute(select(model).order_by(model.id).limit(60)).scalars().all()
            pick = {}
            for row in rows:
                pick.setdefault(may_write(scope, row), row.id)
        base = f"/{view.__class__.__name__.lower()}"
        for writable in sorted(pick, reverse=True):  # the writable row first: it tells whether the role edits here
            r = client.get(f"{base}/edit/{pick[writable]}")
            page = r.get_data(as_text=True)
            assert r.status_code in (200, 302, 403) and 'name="csrf_token"' not in page or r.status_code == 200, base
            if "<code>forbidden</code>" in page or r.status_code == 302:  # no edit permission on this screen at all
                break
            if writable:
                assert r.status_code == 200 and 'type="submit"' in page, (base, pick[writable])
                opened.append(base)
            else:
                assert r.status_code == 403 and "<code>read_only_row</code>" in page, (base, pick[writable])
                assert "閲覧のみ" in page and "<form" not in page, base
                refused.append(base)
    assert refused, role  # every role meets rows it may only read
    if role != "site_manager":
        assert opened, role


def test_a_delete_of_a_row_the_role_may_not_delete_is_403_and_keeps_it(demo_app, client_for):
    from portal.people.scoping import may_write

    client, entry = client_for("prime")
    scope = scope_of(demo_app, entry["login"])
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/workerview/list/").get_data(as_text=True))
    refused = []
    for view, model in _edit_views(demo_app):
        with demo_app.app_context(), using_scope(db.session, scope):
            rows = db.session.execute(select(model).order_by(model.id).limit(60)).scalars().all()
            pk = next((row.id for row in rows if not may_write(scope, row, deleting=True)), None)
        if pk is None:
            continue
        base = f"/{view.__class__.__name__.lower()}"
        r = client.post(f"{base}/delete/{pk}", data={"csrf_token": token.group(1) if token else ""})
        if "<code>forbidden</code>" in r.get_data(as_text=True):  # no delete permission on this screen at all
            continue
        assert r.status_code == 403 and "<code>read_only_row</code>" in r.get_data(as_text=True), (base, pk)
        with demo_app.app_context(), using_scope(db.session, ALL):
            assert db.session.get(model, pk) is not None, base
        refused.append(base)
    assert refused
