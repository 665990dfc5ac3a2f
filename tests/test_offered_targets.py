"""Nothing offered that the role cannot do (issue 13), per demo role over one demo copy: every link and every form or
button target offered on the pages the role reaches from its landing page (the menu, the landing page's links, and on
each page reached: the lists' add buttons, the rows' show and edit buttons, the bulk-action form) answers 2xx when
followed (a redirect counts by where it lands); a row's delete button only where the delete guard lets the row go
(deleting is not followed: the copy is shared by the roles). The add button follows the scope rule
(portal.people.scoping.may_add) exactly, and an add URL it refuses answers the Japanese 403 page, GET and POST
alike, storing nothing; a bulk action the role may not run is neither shown nor run."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask_appbuilder import ModelView
from sqlalchemy import func, select

from portal.app.db import db
from portal.demo.testing import demo_copy, login, login_of
from portal.history.corrections import decides_somewhere
from portal.models import PortalUser
from portal.people.scoping import ALL, may_add, may_write, scope_for_user, using_scope

from ingest_world import recent_day

ROLES = ["worker", "site_manager", "prime", "employer", "admin"]
NOT_PAGES = ("/logout", "/lang/", "/static/", "javascript:", "mailto:")
MAX_FOLLOWED = 160  # links followed per role (each a full page): every shape once, in a few seconds
HREF = re.compile(r'href="(/[^"#]*)"')
DELETE = re.compile(r'id="btn-delete-(/[^"]+?)/delete/(\d+)')
ACTION = re.compile(r'class="(\w+)_menu_item"')
ACTION_FORM = re.compile(r'<form id="action_form" action="(/[^"]+/action_post)"')


@pytest.fixture(scope="module")
def offers_app(tmp_path_factory):
    """One demo copy for every role: the crawl follows links and submits empty bulk actions, which change nothing."""
    with demo_copy(tmp_path_factory.mktemp("offers"), tmp_path_factory, PROPAGATE_EXCEPTIONS=False) as app:
        _file_a_correction(app)
        yield app


def _file_a_correction(app) -> None:
    """The demo has no correction request: the worker files one (on the screen) for a day on its site, so the
    prime's approval list has a row and offers its bulk actions."""
    from portal.models import Site

    client, entry = _client(app, "worker")
    scope = _scope(app, entry["login"])
    with app.app_context(), using_scope(db.session, ALL):
        code = db.session.execute(select(Site.site_id).where(Site.id.in_(scope.site_ids)).order_by(Site.id)).scalar()
    answer = client.post("/corrections/new", data={"work_date": recent_day().isoformat(), "site_code": code,
                                                   "reason": "card_forgotten"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[-3000:]


def _client(app, role):
    entry = login_of(app, role)
    client = app.test_client()
    assert login(client, entry["login"], entry["password"]).status_code == 200
    return client, entry


def _scope(app, username):
    with app.app_context(), using_scope(db.session, ALL):
        user = db.session.execute(select(PortalUser).where(PortalUser.username == username)).scalar_one()
        return scope_for_user(db.session, user)


def _shape(href: str) -> str:
    """Links that differ only in their ids or their values are one shape (/workerview/show/7 ~ /show/9)."""
    parts = urlsplit(href)
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(sorted(k for k, _v in parse_qsl(parts.query)))


def _links(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in HREF.findall(html) if not h.startswith(NOT_PAGES)]


def _views(app, kind=None):
    """The model screens (the portal's, or with ``kind`` any such as FAB's user screens) by route base."""
    from portal.views.base import PortalModelView

    return {f"/{v.route_base.strip('/')}": v for v in app.appbuilder.baseviews if isinstance(v, kind or PortalModelView)}


@pytest.mark.parametrize("role", ROLES)
def test_every_target_offered_to_a_role_answers(offers_app, role):
    client, entry = _client(offers_app, role)
    scope = _scope(offers_app, entry["login"])
    views = _views(offers_app, ModelView)
    landing = client.get("/", follow_redirects=True)
    assert landing.status_code == 200
    queue = [(href, "/") for href in _links(landing.get_data(as_text=True))]
    seen, failed, followed, kinds = set(), {}, 0, {"add": 0, "edit": 0, "delete": 0, "action": 0}
    while queue and followed < MAX_FOLLOWED:
        href, source = queue.pop(0)
        if _shape(href) in seen:
            continue
        seen.add(_shape(href))
        r = client.get(href, follow_redirects=True)
        followed += 1
        kinds["add"] += href.split("?")[0].endswith("/add")
        kinds["edit"] += "/edit/" in href
        if not 200 <= r.status_code < 300:
            failed[href] = (r.status_code, source)
            continue
        if r.mimetype != "text/html":
            continue
        html = r.get_data(as_text=True)
        queue += [(h, href) for h in _links(html) if _shape(h) not in seen]
        for base, pk in DELETE.findall(html):  # offered only where the delete guard (the same rule) lets it go
            with offers_app.app_context(), using_scope(db.session, scope):
                row = db.session.get(views[base].datamodel.obj, int(pk))
                assert row is not None and may_write(scope, row, deleting=True), (role, base, pk, href)
            kinds["delete"] += 1
        form = ACTION_FORM.search(html)
        for name in ACTION.findall(html):  # the bulk-action form, submitted without rows: the action runs on nothing
            assert form, (role, href, name)
            kinds["action"] += 1
            answer = client.post(form.group(1), data={"action": name}, follow_redirects=True)
            if not 200 <= answer.status_code < 300:
                failed[f"{form.group(1)} action={name}"] = (answer.status_code, href)
    assert not failed, f"{role} is offered targets that refuse it: {failed}"
    assert followed >= 10, (role, followed)
    if role in ("prime", "employer", "admin"):  # the roles that add and edit reach those buttons
        assert kinds["add"] and kinds["edit"], (role, kinds)
    if role == "prime":
        assert kinds["action"], (role, kinds)  # 承認 / 否認 of the corrections


def _addable_views(app, username):
    """The model screens whose add the role's permissions grant: (route base, view)."""
    with app.test_request_context(), using_scope(db.session, ALL):
        user = db.session.execute(select(PortalUser).where(PortalUser.username == username)).scalar_one()
        sm = app.appbuilder.sm
        return [(base, view) for base, view in sorted(_views(app).items())
                if "can_add" in (view.base_permissions or ["can_add"])
                and sm._has_view_access(user, "can_add", view.class_permission_name)]


ADD_BUTTON = re.compile(r'href="(/[^"]+/add)[^"]*"[^>]*title="')


@pytest.mark.parametrize("role", ROLES)
def test_the_add_button_follows_the_scope_rule(offers_app, role):
    """Per screen whose add the role's permissions grant: the button is on the list exactly where may_add holds; the
    add form opens there, and elsewhere the add URL answers the Japanese 403 page (GET and POST), storing nothing."""
    client, entry = _client(offers_app, role)
    scope = _scope(offers_app, entry["login"])
    offered, refused = [], []
    for base, view in _addable_views(offers_app, entry["login"]):
        model = view.datamodel.obj
        with offers_app.app_context():
            allowed = may_add(scope, model)
        listing = client.get(f"{base}/list/")
        assert listing.status_code == 200, (role, base)
        button = f'href="{base}/add' in listing.get_data(as_text=True)
        assert button == allowed, f"{role}: {base} {'offers' if button else 'hides'} add, the scope rule says {allowed}"
        page = client.get(f"{base}/add")
        if allowed:
            assert page.status_code == 200 and 'type="submit"' in page.get_data(as_text=True), (role, base)
            offered.append(base)
            continue
        with offers_app.app_context(), using_scope(db.session, ALL):
            before = db.session.execute(select(func.count()).select_from(model)).scalar()
        posted = client.post(f"{base}/add", data={})
        for answer in (page, posted):
            text = answer.get_data(as_text=True)
            assert answer.status_code == 403 and "<code>not_addable</code>" in text, (role, base, answer.status_code)
            assert 'lang="ja"' in text and "新規登録する権限がありません" in text and "<form" not in text
        with offers_app.app_context(), using_scope(db.session, ALL):
            assert db.session.execute(select(func.count()).select_from(model)).scalar() == before, (role, base)
        refused.append(base)
    expect = {  # what each demo role is offered and refused by its scope (its permissions would allow all of these)
        "prime": ({"/sitemanagerassignmentview", "/workertradeview", "/structurelinkview"}, set()),
        "employer": ({"/workertradeview", "/structurelinkview"}, {"/sitemanagerassignmentview"}),  # no prime site
        "site_manager": ({"/structurelinkview"}, set()),
    }
    if role in expect:
        must_offer, must_refuse = expect[role]
        assert must_offer <= set(offered) and must_refuse <= set(refused), (role, offered, refused)
    if role == "worker":
        assert not offered, offered  # a worker adds nothing on the model screens
    if role == "admin":
        assert offered and not refused


def test_a_bulk_action_the_role_may_not_run_is_neither_shown_nor_run(offers_app):
    """承認 / 否認 of corrections: the prime (who decides on its sites) has them; a subcontractor that is no prime
    anywhere holds the same permissions, but is shown no action and its action_post is the Japanese 403."""
    shown = {}
    for role in ("prime", "employer"):
        client, entry = _client(offers_app, role)
        html = client.get("/workcorrectionview/list/").get_data(as_text=True)
        shown[role] = set(ACTION.findall(html))
        assert (ACTION_FORM.search(html) is not None) == bool(shown[role]), role
        assert bool(shown[role]) == decides_somewhere(_scope(offers_app, entry["login"])), role
        answer = client.post("/workcorrectionview/action_post", data={"action": "approve"})
        if shown[role]:
            assert answer.status_code == 302, role
        else:
            text = answer.get_data(as_text=True)
            assert answer.status_code == 403 and "<code>not_prime_contractor</code>" in text and "元請事業者のみ" in text
    assert shown == {"prime": {"approve", "reject"}, "employer": set()}


def test_an_add_offered_to_a_subcontractor_is_one_its_write_accepts(offers_app):
    """Any company may register a site of its own (it becomes the site's 元請: in CCUS the prime registers the site),
    so a subcontractor that is no prime anywhere is offered 現場's add, and the write accepts it; naming another
    company as the prime is refused by the same rule (FAB's redirect, the Japanese reason flashed), storing nothing.
    Last in the module: the new site changes the subcontractor's scope."""
    from portal.models import Site

    client, entry = _client(offers_app, "employer")
    scope = _scope(offers_app, entry["login"])
    assert not scope.prime_site_ids
    with offers_app.app_context(), using_scope(db.session, ALL):
        other = db.session.execute(select(Site.prime_employer_id).order_by(Site.id)).scalar()
    assert other != scope.employer_id
    form = {"site_id": "99000000000013", "name": "下請の自社現場", "max_shift_hours": "16"}
    refused = client.post("/siteview/add", data={**form, "prime_employer": str(other)}, follow_redirects=True)
    assert refused.status_code == 200 and "この操作を行う権限がありません" in refused.get_data(as_text=True)
    with offers_app.app_context(), using_scope(db.session, ALL):
        assert db.session.execute(select(Site).where(Site.site_id == form["site_id"])).scalar() is None
    added = client.post("/siteview/add", data={**form, "prime_employer": str(scope.employer_id)})
    assert added.status_code == 302, added.get_data(as_text=True)[-2000:]
    with offers_app.app_context(), using_scope(db.session, ALL):
        site = db.session.execute(select(Site).where(Site.site_id == form["site_id"])).scalar_one()
        assert site.prime_employer_id == scope.employer_id
