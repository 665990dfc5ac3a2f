"""Each role lands on its own first screen after login: the worker at its portal, a 現場管理者 at its site board,
employers and the administrator at their to-do list (portal.output.dashboards), every line linking where it is fixed."""
import re

import pytest


@pytest.mark.parametrize("role,path", [("worker", "/worker/"), ("site_manager", "/site-board/"),
                                       ("employer", "/dashboard/"), ("prime", "/dashboard/"), ("admin", "/dashboard/")])
def test_landing_page_by_role(client_for, role, path):
    client, _entry = client_for(role)
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith(path)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("role,lines,board", [
    ("admin", ["通信のない入退場デバイス", "失敗した帳票作成", "承認待ちの直接入力・事後補正", "本日受信した入退場記録"], True),
    ("employer", ["未処理の技能者の変更申請", "職種が未登録の技能者", "保有資格が未登録の技能者", "有効期限を迎える保有資格",
                  "健康診断", "計上されていない就業日"], False),
    ("prime", ["職種が未登録の技能者", "計上されていない就業日"], True),
])
def test_each_dashboard_lists_its_to_do_with_links_that_answer(client_for, role, lines, board):
    client, _entry = client_for(role)
    page = client.get("/dashboard/").get_data(as_text=True)
    for line in lines:
        assert line in page, (role, line)
    assert ("現場ボードを開く" in page) == board  # only a prime (or the administrator) is offered the board
    block = page[page.find('class="list-group ccus-dashboard"'):]
    links = set(re.findall(r'href="(/[^"]*)"', block))
    assert len(links) >= 2
    for href in links:
        assert client.get(href.replace("&amp;", "&"), follow_redirects=True).status_code == 200, (role, href)
    assert re.search(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2} JST 現在", page)


def test_anonymous_keeps_the_index(demo_app):
    assert demo_app.test_client().get("/").status_code == 200


def test_the_employers_to_do_names_the_change_requests_waiting_for_it(demo_app, client_for):
    """A worker's change request waits for its employer: the dashboard names it and links to where it is decided."""
    from sqlalchemy import select

    from portal.people import worker_requests
    from portal.app.db import db
    from portal.models import PortalUser
    from portal.people.scoping import ALL, scope_for_user, using_scope
    from portal.demo.testing import login

    _worker_client, worker = client_for("worker", 0)
    with demo_app.app_context():
        with using_scope(db.session, ALL):
            user = db.session.execute(select(PortalUser).where(PortalUser.username == worker["login"])).scalar_one()
            scope = scope_for_user(db.session, user)
        req = worker_requests.file_change(db.session, scope, "contact", {"phone_mobile": "090-1234-5678"})
        db.session.commit()
        request_id = req.id
    employer = next(e for e in demo_app.logins if e["login"] == worker["employer_id"])  # its 事業者責任者
    client = demo_app.test_client()
    assert login(client, employer["login"], employer["password"]).status_code == 200
    page = client.get("/dashboard/").get_data(as_text=True)
    assert f'/change-requests/#request-{request_id}"' in page and "連絡先" in page
    decided = client.get("/change-requests/").get_data(as_text=True)
    assert f'id="request-{request_id}"' in decided and "承認" in decided
