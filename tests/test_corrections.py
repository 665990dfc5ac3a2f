"""直接入力・事後補正: who may file, who may approve, deadlines, unregistered sites, bulk decisions, bad input."""
from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from corrections_world import IDS, As, add_device, add_event, world, world_app  # noqa: F401  (fixtures)
from portal.history import corrections as C
from portal.history import histories
from portal.app.errors import DomainError
from portal.models import WorkCorrection, WorkHistory
from portal.people.scoping import ALL, using_scope

JST = ZoneInfo("Asia/Tokyo")
DAY = datetime.date(2026, 10, 10)
TODAY = datetime.date(2026, 11, 5)


def stored(session) -> list:
    session.rollback()
    with using_scope(session, ALL):
        return session.execute(select(WorkCorrection).order_by(WorkCorrection.id)).scalars().all()


def file_direct(session, who, worker, day=DAY, today=TODAY, **kw):
    kw.setdefault("site_code", IDS["X"])
    with As(session, who) as actor:
        c = C.request_direct_input(session, actor, worker_id=worker, work_date=day, reason="card_forgotten",
                                   today=today, **kw)
        session.commit()
        return c.id


def test_deadline_is_the_end_of_the_following_month():
    assert C.deadline(datetime.date(2026, 1, 10)) == datetime.date(2026, 2, 28)
    assert C.deadline(datetime.date(2026, 1, 31)) == datetime.date(2026, 2, 28)
    assert C.deadline(datetime.date(2028, 1, 1)) == datetime.date(2028, 2, 29)
    assert C.deadline(datetime.date(2026, 12, 31)) == datetime.date(2027, 1, 31)
    assert C.deadline(datetime.date(2026, 11, 30)) == datetime.date(2026, 12, 31)


def test_worker_files_a_direct_input_with_roster_defaults_and_a_trail(world):
    ids, s = world
    cid = file_direct(s, "w1", ids["w1"])
    [c] = stored(s)
    assert c.id == cid and c.status == "未承認" and c.kind == "direct"
    assert (c.employer_id, c.site_id, c.work_month) == (ids["S1"], ids["X"], "2026-10")
    assert (c.trade_id, c.position, c.work_content) == (ids["rebar"], "職長", "鉄筋工事")  # from the roster
    assert c.requested_by_kind == "worker" and c.requested_by_name == "w1"
    assert [t["action"] for t in c.trail] == ["申請"]
    assert c.trail[0]["after"]["site_id"] == IDS["X"] and c.trail[0]["after"]["trade"] == "10-01"


def test_employer_files_for_its_worker_but_not_for_others(world):
    ids, s = world
    file_direct(s, "s1", ids["w1"], position="班長", work_content="鉄筋加工")
    [c] = stored(s)
    assert c.requested_by_kind == "employer" and (c.position, c.work_content) == ("班長", "鉄筋加工")
    with pytest.raises(DomainError) as e:  # S1 sees w2 on its roster (2次 below it) but is not w2's employer
        file_direct(s, "s1", ids["w2"])
    assert e.value.code == "requester_not_allowed"
    with pytest.raises(DomainError) as e:  # O cannot even see w1
        file_direct(s, "o", ids["w1"])
    assert e.value.code == "unknown_worker"
    assert len(stored(s)) == 1


@pytest.mark.parametrize("who", ["p-genba", "p", "admin"])
def test_site_manager_prime_and_admin_cannot_file(world, who):
    ids, s = world
    with pytest.raises(DomainError) as e:
        file_direct(s, who, ids["w1"])
    assert e.value.code in ("requester_not_allowed", "unknown_worker")
    assert "現場管理者" in e.value.message or e.value.code == "unknown_worker" or "本人" in e.value.message
    assert stored(s) == []


def test_entry_closes_at_the_end_of_the_following_month(world):
    ids, s = world
    file_direct(s, "w1", ids["w1"], today=datetime.date(2026, 11, 30))  # the last day still open
    with pytest.raises(DomainError) as e:
        file_direct(s, "w1", ids["w1"], day=datetime.date(2026, 10, 11), today=datetime.date(2026, 12, 1))
    assert e.value.code == "deadline_passed"
    assert "期限" in e.value.message and "2026年11月30日" in e.value.message
    assert len(stored(s)) == 1


def test_approval_closes_at_the_end_of_the_following_month(world):
    ids, s = world
    cid = file_direct(s, "w1", ids["w1"], today=datetime.date(2026, 11, 30))
    with As(s, "p") as actor, pytest.raises(DomainError) as e:
        C.approve(s, actor, cid, today=datetime.date(2026, 12, 1))
    assert e.value.code == "deadline_passed" and "承認" in e.value.message
    [c] = stored(s)
    assert c.status == "未承認" and c.decided_at is None and len(c.trail) == 1
    with As(s, "p") as actor:  # a late request can still be closed by rejecting it
        C.reject(s, actor, cid, note="期限切れ", today=datetime.date(2026, 12, 1))
        s.commit()
    assert stored(s)[0].status == "否認"


def test_only_the_sites_prime_contractor_approves(world):
    ids, s = world
    cid = file_direct(s, "w1", ids["w1"])
    for who, code in (("s1", "not_prime_contractor"), ("w1", "not_prime_contractor"), ("q", "unknown_correction"),
                      ("o", "unknown_correction")):
        with As(s, who) as actor, pytest.raises(DomainError) as e:
            C.approve(s, actor, cid, today=TODAY)
        assert e.value.code == code, who
        s.rollback()
    assert stored(s)[0].status == "未承認"
    with As(s, "p-genba") as actor:  # the prime's 現場管理者 assigned to the site
        c = C.approve(s, actor, cid, today=TODAY)
        s.commit()
    c = stored(s)[0]
    assert c.status == "承認済" and c.decided_by_name == "p-genba" and c.decided_at is not None
    assert [t["action"] for t in c.trail] == ["申請", "承認"]
    with As(s, "p") as actor, pytest.raises(DomainError) as e:
        C.approve(s, actor, cid, today=TODAY)
    assert e.value.code == "not_pending"


def test_each_role_sees_only_its_requests(world):
    ids, s = world
    c1 = file_direct(s, "w1", ids["w1"])
    c2 = file_direct(s, "s2", ids["w2"])
    c3 = file_direct(s, "w3", ids["w3"], site_code=IDS["Y"])
    c4 = file_direct(s, "w1", ids["w1"], site_code=None, site_name="新宿の新築現場", day=DAY + datetime.timedelta(days=1))
    expected = {"admin": {c1, c2, c3, c4}, "p": {c1, c2}, "p-genba": {c1, c2}, "s1": {c1, c4}, "s2": {c2},
                "o": {c3}, "q": {c3}, "w1": {c1, c4}, "w2": {c2}, "w3": {c3}}
    for who, ids_seen in expected.items():
        s.rollback()
        with As(s, who):
            got = set(s.execute(select(WorkCorrection.id)).scalars())
            count = s.execute(select(func.count()).select_from(WorkCorrection)).scalar()
        assert got == ids_seen and count == len(ids_seen), who


def test_a_site_not_yet_registered_gets_its_site_id_later(world):
    ids, s = world
    cid = file_direct(s, "w1", ids["w1"], site_code=None, site_name="新宿の新築現場")
    c = stored(s)[0]
    assert c.site_id is None and c.site_name == "新宿の新築現場" and "現場ID未付与" in c.site_label
    with As(s, "p") as actor, pytest.raises(DomainError) as e:  # the prime cannot see it yet
        C.approve(s, actor, cid, today=TODAY)
    assert e.value.code == "unknown_correction"
    s.rollback()
    with As(s, "w1") as actor, pytest.raises(DomainError) as e:
        C.attach_site_id(s, actor, cid, "99999999999971", today=TODAY)
    assert e.value.code == "unknown_site"
    s.rollback()
    with As(s, "w1") as actor, pytest.raises(DomainError) as e:
        C.attach_site_id(s, actor, cid, IDS["X"], today=datetime.date(2026, 12, 1))
    assert e.value.code == "deadline_passed"
    s.rollback()
    assert stored(s)[0].site_id is None
    with As(s, "w1") as actor:
        C.attach_site_id(s, actor, cid, IDS["X"], today=TODAY)
        s.commit()
    with As(s, "p") as actor:
        C.approve(s, actor, cid, today=TODAY)
        s.commit()
    c = stored(s)[0]
    assert c.site_id == ids["X"] and c.status == "承認済"
    assert [t["action"] for t in c.trail] == ["申請", "現場ID付与", "承認"]
    assert c.trail[1]["before"] == {"site_name": "新宿の新築現場"} and c.trail[1]["after"] == {"site_id": IDS["X"]}


def test_bulk_decisions_skip_invisible_and_refused_rows(world):
    ids, s = world
    a = file_direct(s, "w1", ids["w1"])
    b = file_direct(s, "s2", ids["w2"])
    late = file_direct(s, "w2", ids["w2"], day=datetime.date(2026, 9, 30), today=datetime.date(2026, 10, 31))
    other = file_direct(s, "w3", ids["w3"], site_code=IDS["Y"])
    with As(s, "p") as actor:
        done, problems = C.decide_many(s, actor, [a, None, b, late, other], approve_them=True, today=TODAY)
        s.commit()
    assert done == 2 and len(problems) == 3
    assert any("表示できない" in p for p in problems) and any("期限" in p for p in problems)
    status = {c.id: c.status for c in stored(s)}
    assert status == {a: "承認済", b: "承認済", late: "未承認", other: "未承認"}
    with As(s, "p") as actor:
        done, problems = C.decide_many(s, actor, [late], approve_them=False, note="期限切れ", today=TODAY)
        s.commit()
    assert done == 1 and not problems and {c.id: c.status for c in stored(s)}[late] == "否認"


def test_waiting_counts_and_ages(world):
    ids, s = world
    file_direct(s, "w1", ids["w1"])
    file_direct(s, "s2", ids["w2"], day=datetime.date(2026, 10, 20))
    file_direct(s, "w3", ids["w3"], site_code=IDS["Y"])
    with using_scope(s, ALL):  # the first request was filed four days before "today"
        first = s.execute(select(WorkCorrection).order_by(WorkCorrection.id)).scalars().first()
        first.requested_at = datetime.datetime(2026, 11, 1, 3, 0, tzinfo=datetime.timezone.utc)
        s.commit()
    with As(s, "p"):
        w = C.waiting(s, today=TODAY)
    assert w.count == 2 and w.oldest_days == 4
    assert [(label, n) for label, n, _d, _dl in w.by_site] == [("現場X（36265810102371）", 2)]
    with As(s, "p"):
        assert C.waiting(s, today=datetime.date(2026, 11, 25)).expiring == 2
        assert C.waiting(s, today=datetime.date(2026, 11, 5)).expiring == 0


@pytest.mark.parametrize("kw, code", [
    ({"position": "社長"}, "invalid_position"),
    ({"reason": "sleepy"}, "invalid_reason"),
    ({"day": datetime.date(2026, 11, 6)}, "future_work_date"),
    ({"day": "2026-13-01"}, "invalid_work_date"),
    ({"site_code": "12345"}, "invalid_id"),
    ({"site_code": "99999999999971"}, "unknown_site"),
    ({"site_code": None, "site_name": "  "}, "site_required"),
    ({"trade_id": 999999}, "unknown_trade"),
])
def test_bad_input_is_refused_and_nothing_is_stored(world, kw, code):
    ids, s = world
    reason = kw.pop("reason", "card_forgotten")
    day = kw.pop("day", DAY)
    kw.setdefault("site_code", IDS["X"])
    with As(s, "w1") as actor, pytest.raises(DomainError) as e:
        C.request_direct_input(s, actor, worker_id=ids["w1"], work_date=day, reason=reason, today=TODAY, **kw)
    assert e.value.code.startswith(code.split("_")[0]) if code == "invalid_id" else e.value.code == code
    assert e.value.message and all(ord(ch) < 0x3000 for ch in e.value.message[:0])  # message present
    assert any("\u3040" <= ch <= "\u9fff" for ch in e.value.message)  # Japanese
    assert stored(s) == []


def test_a_second_open_request_for_the_same_day_and_site_is_refused(world):
    ids, s = world
    file_direct(s, "w1", ids["w1"])
    with pytest.raises(DomainError) as e:
        file_direct(s, "s1", ids["w1"])
    assert e.value.code == "duplicate_request"
    assert len(stored(s)) == 1


def _recorded_day(s, ids, day=DAY):
    """A day the devices recorded for w1 on X (entry and exit), derived into its history."""
    device = add_device(s, ids, name="reader")
    add_event(s, ids, device, datetime.datetime(day.year, day.month, day.day, 8, tzinfo=JST))
    add_event(s, ids, device, datetime.datetime(day.year, day.month, day.day, 17, tzinfo=JST), kind="exit")
    with using_scope(s, ALL):
        histories.recompute(s, [(ids["w1"], ids["X"], day)], today=TODAY)
        s.commit()
        return s.execute(select(WorkHistory.id).where(WorkHistory.work_date == day)).scalar_one()


def history_of(s, ids, site="X", worker="w1", day=DAY):
    s.rollback()
    with using_scope(s, ALL):
        site_cond = WorkHistory.site_id.is_(None) if site is None else WorkHistory.site_id == ids[site]
        return s.execute(select(WorkHistory).where(WorkHistory.worker_id == ids[worker], site_cond,
                                                   WorkHistory.work_date == day)).scalar_one_or_none()


def test_correction_of_a_recorded_day_keeps_before_and_after(world):
    ids, s = world
    hid = _recorded_day(s, ids)
    with As(s, "w1") as actor, pytest.raises(DomainError) as e:
        C.request_correction(s, actor, history_id=hid, reason="change_details", position="職長", today=TODAY)
    assert e.value.code == "no_change"
    s.rollback()
    with As(s, "w2") as actor, pytest.raises(DomainError) as e:  # another worker's day: not even visible
        C.request_correction(s, actor, history_id=hid, reason="change_details", position="班長", today=TODAY)
    assert e.value.code == "unknown_history"
    s.rollback()
    with As(s, "s1") as actor:
        cid = C.request_correction(s, actor, history_id=hid, reason="change_details", position="班長", today=TODAY).id
        s.commit()
    [c] = stored(s)
    assert c.kind == "correction" and c.position == "班長" and c.trade_id == ids["rebar"]
    assert c.trail[0]["before"]["position"] == "職長" and c.trail[0]["after"]["position"] == "班長"
    h = history_of(s, ids)  # pending: the recorded day is unchanged
    assert (h.position, h.methods, h.counted) == ("職長", "IC", True)
    with As(s, "p") as actor:
        C.approve(s, actor, cid, today=TODAY)
        s.commit()
    h = history_of(s, ids)
    assert (h.position, h.methods, h.counted, h.valid_for_evaluation) == ("班長", "IC,直接", True, True)
    c = stored(s)[0]
    assert c.trail[-1]["before"]["position"] == "職長" and c.trail[-1]["after"]["position"] == "班長"


def test_direct_input_counts_only_after_approval_and_a_rejection_removes_it(world):
    ids, s = world
    cid = file_direct(s, "w1", ids["w1"], position="班長")
    h = history_of(s, ids)
    assert (h.methods, h.counted, h.not_counted_reason, h.position) == ("直接", False, "site_unapproved", "班長")
    with As(s, "p") as actor:
        C.approve(s, actor, cid, today=TODAY)
        s.commit()
    h = history_of(s, ids)
    assert (h.methods, h.counted, h.not_counted_reason, h.position) == ("直接", True, None, "班長")
    other = file_direct(s, "w1", ids["w1"], day=DAY + datetime.timedelta(days=3))
    with As(s, "p") as actor:
        C.reject(s, actor, other, note="出勤記録なし", today=TODAY)
        s.commit()
    assert history_of(s, ids, day=DAY + datetime.timedelta(days=3)) is None
    c = stored(s)[1]
    assert c.decision_note == "出勤記録なし" and c.trail[-1]["before"]["counted"] is False and c.trail[-1]["after"] is None


def test_worker_missing_from_the_roster_counts_once_the_prime_approves(world):
    ids, s = world
    # O has no place in X's structure: a day there could never count, so the request is refused, nothing stored
    with pytest.raises(DomainError) as refused:
        file_direct(s, "w3", ids["w3"], trade_id=ids["tobi"], position="一般", work_content="足場")
    assert refused.value.code == "not_in_structure" and "施工体制" in refused.value.message
    s.rollback()
    assert stored(s) == []
    from portal.demo import link
    from portal.models import Employer, Site

    with using_scope(s, ALL):  # P invites O onto X (approved): w3, still not on X's roster, may file
        link(s, s.get(Site, ids["X"]), s.get(Employer, ids["P"]), s.get(Employer, ids["O"]), 1)
        s.commit()
    cid = file_direct(s, "w3", ids["w3"], trade_id=ids["tobi"], position="一般", work_content="足場")
    c = stored(s)[0]
    assert c.employer_id == ids["O"]  # its employer, not a roster's
    with As(s, "p") as actor:
        C.approve(s, actor, cid, today=TODAY)
        s.commit()
    h = history_of(s, ids, worker="w3")
    assert h.counted is True and h.methods == "直接"  # the prime vouched for the day


def test_an_approval_is_refused_once_the_employer_has_left_the_structure(world):
    ids, s = world
    cid = file_direct(s, "w2", ids["w2"])  # S2 under S1 under P on X
    from portal.models import StructureLink

    with using_scope(s, ALL):  # S1 ends S2's link before the work day: S2 no longer has a place that day
        sl = s.execute(select(StructureLink).where(StructureLink.lower_employer_id == ids["S2"])).scalar_one()
        sl.status, sl.ended_on = "解除", DAY - datetime.timedelta(days=1)
        s.commit()
    with As(s, "p") as actor:
        with pytest.raises(DomainError) as refused:
            C.approve(s, actor, cid, today=TODAY)
    assert refused.value.code == "not_in_structure"
    s.rollback()
    assert stored(s)[0].status == "未承認"


def test_site_less_request_shows_unregistered_then_moves_to_the_site(world):
    ids, s = world
    cid = file_direct(s, "w1", ids["w1"], site_code=None, site_name="新宿の新築現場")
    h = history_of(s, ids, site=None)
    assert (h.counted, h.not_counted_reason, h.methods) == (False, "site_unregistered", "直接")
    with As(s, "w1") as actor:
        C.attach_site_id(s, actor, cid, IDS["X"], today=TODAY)
        s.commit()
    assert history_of(s, ids, site=None) is None
    assert history_of(s, ids).not_counted_reason == "site_unapproved"
    with As(s, "p") as actor:
        C.approve(s, actor, cid, today=TODAY)
        s.commit()
    assert history_of(s, ids).counted is True


def test_rebuild_from_events_keeps_approved_corrections(world):
    ids, s = world
    cid = file_direct(s, "w1", ids["w1"])
    with As(s, "p") as actor:
        C.approve(s, actor, cid, today=TODAY)
        s.commit()
    with using_scope(s, ALL):
        assert histories.rebuild(s, "2026-10", write=False, today=TODAY) == []  # the stored history is what a rebuild gives


def test_an_approved_direct_input_survives_a_late_device_event(world):
    """A reader's buffered tap for the same day arrives after the approval: the day keeps the approved details and
    shows both marks (ingest recomputes days that have day inputs)."""
    from flask import current_app

    from portal.ingest import ingest
    from portal.models import Device

    ids, s = world
    cid = file_direct(s, "w1", ids["w1"], position="班長")
    with As(s, "p") as actor:
        C.approve(s, actor, cid, today=TODAY)
        s.commit()
    device_id = add_device(s, ids, name="reader")
    with using_scope(s, ALL):
        device = s.get(Device, device_id)
    tap = {"event_id": "late-1", "worker_id": IDS["w1"], "site_id": IDS["X"], "kind": "entry",
           "time": "2026-10-10T08:00:00+09:00", "method": "API"}
    outcome = ingest(s, device, [tap], plugins=current_app.extensions["ccus_plugins"],
                     now=datetime.datetime(2026, 10, 11, 9, tzinfo=JST))
    assert outcome.results[0]["result"] == "accepted"
    h = history_of(s, ids)
    assert (h.counted, h.position, h.methods) == (True, "班長", "API,直接")
    assert h.first_entry_at is not None
