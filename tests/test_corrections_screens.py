"""直接入力・事後補正 screens: the request form per role, bad input and deadlines on screen, the approval list with
its waiting figures and bulk FAB actions (rows the user cannot see are skipped)."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from corrections_world import IDS, As, built, world_app  # noqa: F401  (fixtures)
from portal import corrections as C
from portal.db import db
from portal.demo import DEMO_PASSWORD
from portal.models import WorkCorrection
from portal.scoping import ALL, using_scope
from portal.testing import login


def client(app, username):
    c = app.test_client()
    assert login(c, username, DEMO_PASSWORD).status_code == 200
    return c


def rows(app):
    with app.app_context(), using_scope(db.session, ALL):
        found = db.session.execute(select(WorkCorrection).order_by(WorkCorrection.id)).scalars().all()
        db.session.expunge_all()
        return found


def recent_day():
    return C.today_in_tokyo() - datetime.timedelta(days=1)


def form(**kw):
    data = {"work_date": recent_day().isoformat(), "site_code": IDS["X"], "reason": "card_forgotten"}
    data.update(kw)
    return data


def test_worker_requests_on_screen_and_bad_input_changes_nothing(world_app, built):
    ids = built
    c = client(world_app, "w1")
    page = c.get("/corrections/new")
    assert page.status_code == 200 and "直接入力・事後補正の申請" in page.get_data(as_text=True)
    bad = c.post("/corrections/new", data=form(position="社長"))
    assert bad.status_code == 422 and "立場は次のいずれか" in bad.get_data(as_text=True)
    late = (C.today_in_tokyo().replace(day=1) - datetime.timedelta(days=40))  # two months back: closed
    closed = c.post("/corrections/new", data=form(work_date=late.isoformat()))
    assert closed.status_code == 422 and "期限" in closed.get_data(as_text=True)
    assert rows(world_app) == []
    done = c.post("/corrections/new", data=form(worker_id=ids["w2"]), follow_redirects=True)  # a worker files for itself only
    assert done.status_code == 200 and "元請事業者の承認後に計上されます" in done.get_data(as_text=True)
    [r] = rows(world_app)
    assert r.worker_id == ids["w1"] and r.status == "未承認" and r.requested_by_kind == "worker"


def test_site_manager_has_no_request_form_and_employer_files_for_its_worker(world_app, built):
    ids = built
    r = client(world_app, "p-genba").get("/corrections/new")
    assert r.status_code in (302, 403) and "直接入力・事後補正の申請" not in r.get_data(as_text=True)
    c = client(world_app, "s1")
    page = c.get("/corrections/new").get_data(as_text=True)
    assert "目黒 一郎" in page
    other = c.post("/corrections/new", data=form(worker_id=ids["w2"]))  # on its roster, but not its worker
    assert other.status_code == 422 and "所属事業者" in other.get_data(as_text=True)
    assert c.post("/corrections/new", data=form(worker_id=ids["w1"])).status_code == 302
    assert [x.requested_by_kind for x in rows(world_app)] == ["employer"]


def test_site_id_attached_on_screen(world_app, built):
    ids = built
    c = client(world_app, "w1")
    assert c.post("/corrections/new", data=form(site_code="", site_name="新宿の新築現場")).status_code == 302
    [r] = rows(world_app)
    page = c.get("/corrections/new").get_data(as_text=True)
    assert "現場ID付与" in page and "新宿の新築現場" in page
    bad = c.post(f"/corrections/attach/{r.id}", data={"site_code": "123"}, follow_redirects=True)
    assert "14桁" in bad.get_data(as_text=True) and rows(world_app)[0].site_id is None
    c.post(f"/corrections/attach/{r.id}", data={"site_code": IDS["X"]})
    assert rows(world_app)[0].site_id == ids["X"]


def _file(app, who, worker, site=IDS["X"], day=None):
    with app.app_context():
        s = db.session
        with As(s, who) as actor:
            c = C.request_direct_input(s, actor, worker_id=worker, work_date=day or recent_day(),
                                       reason="card_forgotten", site_code=site)
            s.commit()
            return c.id


def test_prime_sees_waiting_figures_and_approves_in_bulk(world_app, built):
    ids = built
    a, b = _file(world_app, "w1", ids["w1"]), _file(world_app, "w2", ids["w2"])
    other = _file(world_app, "w3", ids["w3"], site=IDS["Y"])
    c = client(world_app, "p")
    page = c.get("/workcorrectionview/list/").get_data(as_text=True)
    assert '<span id="waiting-count">2</span>' in page and "現場X" in page and "建設 未来" not in page
    r = c.post("/workcorrectionview/action_post", data={"action": "approve", "rowid": [str(a), str(other), str(b)]},
               follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "2件を承認しました" in text and "表示できない申請" in text
    assert {x.id: x.status for x in rows(world_app)} == {a: "承認済", b: "承認済", other: "未承認"}
    assert '<span id="waiting-count">0</span>' in c.get("/workcorrectionview/list/").get_data(as_text=True)


def test_reject_action_and_who_may_use_it(world_app, built):
    ids = built
    a = _file(world_app, "w1", ids["w1"])
    r = client(world_app, "s1").post("/workcorrectionview/action_post", data={"action": "reject", "rowid": [str(a)],
                                                                             "decision_note": "出勤記録なし"},
                                     follow_redirects=True)
    assert "元請事業者のみ" in r.get_data(as_text=True) and rows(world_app)[0].status == "未承認"
    w = client(world_app, "w1")  # the worker sees its request but has no action
    assert w.get(f"/workcorrectionview/show/{a}").status_code == 200
    w.post("/workcorrectionview/action_post", data={"action": "approve", "rowid": [str(a)]})
    assert rows(world_app)[0].status == "未承認"
    assert client(world_app, "w2").get(f"/workcorrectionview/show/{a}").status_code == 404
    m = client(world_app, "p-genba")
    r = m.post("/workcorrectionview/action_post", data={"action": "reject", "rowid": [str(a)]}, follow_redirects=True)
    assert "理由を入力" in r.get_data(as_text=True) and rows(world_app)[0].status == "未承認"  # a reason is required
    m.post("/workcorrectionview/action_post", data={"action": "reject", "rowid": [str(a)],
                                                   "decision_note": "この日の出勤記録が確認できません"})
    assert rows(world_app)[0].status == "否認" and rows(world_app)[0].decided_by_name == "p-genba"
    shown = w.get(f"/workcorrectionview/show/{a}").get_data(as_text=True)
    assert "否認の理由" in shown and "この日の出勤記録が確認できません" in shown  # the worker is told why


@pytest.mark.parametrize("flt, expected", [("_flt_0_status=未承認", {"w1", "w2"}), ("_flt_0_work_month=1999-01", set())])
def test_list_filters(world_app, built, flt, expected):
    ids = built
    _file(world_app, "w1", ids["w1"])
    _file(world_app, "w2", ids["w2"])
    page = client(world_app, "p").get(f"/workcorrectionview/list/?{flt}").get_data(as_text=True)
    names = {"w1": "目黒 一郎", "w2": "広尾 二郎"}
    assert {k for k, n in names.items() if n in page} == expected
