"""直接入力・事後補正 screens: the request form per role, bad input and deadlines on screen, the approval list with
its waiting figures and bulk FAB actions (rows the user cannot see are skipped)."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from corrections_world import IDS, As, built, world_app  # noqa: F401  (fixtures)
from portal.history import corrections as C
from portal.app.db import db
from portal.demo import DEMO_PASSWORD
from portal.models import WorkCorrection
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import login


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


def test_a_direct_input_outside_the_employers_structure_is_refused_with_a_reason(world_app, built):
    """O (w3's employer) has no place in site X's structure: a day there could never count, so the request is
    refused before anything is stored, on screen (Japanese, who can fix it) and in the domain (a stable code)."""
    ids = built
    with world_app.app_context(), using_scope(db.session, ALL):  # the form says so before it is sent
        from portal.output.day_notes import site_choices

        warned = {c.code: c.warning for c in site_choices(db.session, ids["w3"], C.today_in_tokyo())}
        assert "施工体制" in warned[IDS["X"]] and "施工体制" not in warned[IDS["Y"]]
        inside = {c.code: c.warning for c in site_choices(db.session, ids["w2"], C.today_in_tokyo())}
        assert "施工体制" not in inside[IDS["X"]]
    r = client(world_app, "w3").post("/corrections/new", data=form())
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "施工体制" in page and "招待" in page
    assert rows(world_app) == []
    with world_app.app_context():
        s = db.session
        with As(s, "o") as actor:
            with pytest.raises(C.DomainError) as refused:
                C.request_direct_input(s, actor, worker_id=ids["w3"], work_date=recent_day(), reason="card_forgotten",
                                       site_code=IDS["X"])
        assert refused.value.code == "not_in_structure"
        s.rollback()
    # a request filed without a 現場ID gets none outside the structure either
    c = client(world_app, "w3")
    assert c.post("/corrections/new", data=form(site_code="", site_name="現場X（仮）")).status_code == 302
    [pending] = rows(world_app)
    r = c.post(f"/corrections/attach/{pending.id}", data={"site_code": IDS["X"]}, follow_redirects=True)
    assert "施工体制" in r.get_data(as_text=True) and rows(world_app)[0].site_id is None
    assert _file(world_app, "w2", ids["w2"])  # S2 below S1 below P: in the structure, accepted


def test_the_fix_form_of_a_day_the_user_may_not_correct_is_403_without_a_form(world_app, built):
    from corrections_world import add_history

    ids = built
    closed_day = C.today_in_tokyo().replace(day=1) - datetime.timedelta(days=40)
    with world_app.app_context(), using_scope(db.session, ALL):
        open_id = add_history(db.session, ids, "w1", recent_day())
        closed_id = add_history(db.session, ids, "w1", closed_day)
    w1 = client(world_app, "w1")
    assert 'name="reason"' in w1.get(f"/corrections/fix/{open_id}").get_data(as_text=True)
    r = w1.get(f"/corrections/fix/{closed_id}")
    assert r.status_code == 403 and "期限" in r.get_data(as_text=True) and "<form" not in r.get_data(as_text=True)
    assert w1.post(f"/corrections/fix/{closed_id}", data={"reason": "change_details", "position": "一般"}).status_code == 403
    for who in ("p", "s2"):  # the prime reads w1's day, S2 is not its employer: neither may file for it
        r = client(world_app, who).get(f"/corrections/fix/{open_id}")
        assert r.status_code in (403, 404) and 'name="reason"' not in r.get_data(as_text=True), who
    assert rows(world_app) == []
    calendar = w1.get(f"/work-calendar/?ym={closed_day:%Y-%m}").get_data(as_text=True)
    assert f"/corrections/fix/{closed_id}" not in calendar  # a closed day offers no correction
    calendar = w1.get(f"/work-calendar/?ym={recent_day():%Y-%m}").get_data(as_text=True)
    assert f"/corrections/fix/{open_id}" in calendar and f'href="#day-{open_id}"' in calendar
    assert f'id="day-{open_id}"' in calendar  # the grid's cell opens the day's note


def test_approve_and_reject_are_offered_only_to_who_may_decide(world_app, built):
    ids = built
    a = _file(world_app, "w1", ids["w1"])
    prime = client(world_app, "p")
    for path in ("/workcorrectionview/list/", f"/workcorrectionview/show/{a}"):
        page = prime.get(path).get_data(as_text=True)
        assert "approve_menu_item" in page or "btn-action-WorkCorrectionView.action-approve" in page, path
    assert 'id="decision_note"' in prime.get("/workcorrectionview/list/").get_data(as_text=True)
    for who in ("s1", "w1", "admin"):  # the requester's employer, the worker, the administrator: nobody's prime
        c = client(world_app, who)
        for path in ("/workcorrectionview/list/", f"/workcorrectionview/show/{a}"):
            page = c.get(path).get_data(as_text=True)
            assert "approve_menu_item" not in page and "action-approve" not in page, (who, path)
            assert 'id="decision_note"' not in page, (who, path)
    with world_app.app_context():
        s = db.session
        with As(s, "p") as actor:
            C.approve(s, actor, a)
            s.commit()
    page = prime.get(f"/workcorrectionview/show/{a}").get_data(as_text=True)
    assert "action-approve" not in page  # decided: nothing left to decide
