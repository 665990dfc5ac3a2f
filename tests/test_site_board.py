"""The prime contractor's site board: silent devices, who is on site, entries today, what to fix, waiting requests."""
from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update

from corrections_world import As, add_device, add_event, add_history, world, world_app  # noqa: F401  (fixtures)
from portal.history import corrections as C
from portal.output import site_board as B
from portal.models import SiteWorkerRegistration
from portal.people.scoping import ALL, using_scope

JST = ZoneInfo("Asia/Tokyo")
MON, TUE, WED, SAT, SUN = (datetime.date(2026, 10, d) for d in (5, 6, 7, 10, 11))
WEEK = [datetime.date(2026, 10, d) for d in range(5, 12)]  # Mon 5 … Sun 11


def at(day, hour, minute=0):
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST)


def test_a_device_that_sent_nothing_on_a_working_day_is_flagged(world):
    ids, s = world
    reader = add_device(s, ids, name="reader")
    tablet = add_device(s, ids, name="tablet")
    for day in WEEK[:5]:  # the reader sends Monday to Friday; the tablet only on Monday and Tuesday
        add_event(s, ids, reader, at(day, 8))
    for day in (MON, TUE):
        add_event(s, ids, tablet, at(day, 8, 5), worker="w2")
    add_event(s, ids, reader, at(SUN, 9))  # someone worked on Sunday: a working day for the tablet too
    with As(s, "p"):
        flagged = {(d.name, day) for d, day in B.silent_devices(s, ids["X"], WEEK)}
    assert flagged == {("reader", SAT)} | {("tablet", day) for day in WEEK[2:]}  # Saturday: Mon–Sat working


def test_no_flag_without_roster_outside_the_period_before_creation_or_after_revocation(world):
    ids, s = world
    new = add_device(s, ids, name="new", created=at(WED, 12))
    old = add_device(s, ids, name="old", revoked=at(TUE, 18))
    with As(s, "p"):
        flagged = {(d.name, day) for d, day in B.silent_devices(s, ids["X"], [MON, TUE, WED, datetime.date(2026, 10, 8)])}
    # created during Wednesday / revoked during Tuesday: that day is expected too
    assert flagged == {("old", MON), ("old", TUE), ("new", WED), ("new", datetime.date(2026, 10, 8))}
    with using_scope(s, ALL):  # nobody registered on the site from Wednesday on: nothing to miss
        s.execute(update(SiteWorkerRegistration).where(SiteWorkerRegistration.site_id == ids["X"])
                  .values(end_date=TUE))
        s.commit()
    with As(s, "p"):
        flagged = {(d.name, day) for d, day in B.silent_devices(s, ids["X"], [WED, datetime.date(2026, 10, 8)])}
        assert flagged == set()
        assert B.silent_devices(s, ids["X"], [datetime.date(2025, 12, 31)]) == []  # before the 蓄積期間
    assert new and old


def test_silent_devices_follow_the_viewers_scope(world):
    ids, s = world
    add_device(s, ids, "Y", name="y-reader")
    add_device(s, ids, "X", name="x-reader")
    with As(s, "p"):
        assert B.silent_devices(s, ids["Y"], [MON]) == []
        assert [d.name for d, _ in B.silent_devices(s, ids["X"], [MON])] == ["x-reader"]
    with As(s, "p-genba"):
        assert [d.name for d, _ in B.silent_devices(s, ids["X"], [MON])] == ["x-reader"]
    for who in ("s1", "w1"):  # a subcontractor or a worker sees no devices
        with As(s, who):
            assert B.silent_devices(s, ids["X"], [MON]) == [], who


def test_board_shows_who_is_on_site_entries_and_what_to_fix(world):
    ids, s = world
    reader = add_device(s, ids, name="reader")
    add_event(s, ids, reader, at(TUE, 7, 50))
    add_event(s, ids, reader, at(TUE, 8, 10), worker="w2")
    add_event(s, ids, reader, at(TUE, 12), worker="w2", kind="exit")
    add_event(s, ids, reader, at(TUE, 8, 30), worker=None, code="99999999999921")
    add_history(s, ids, "w2", MON, employer="S2", counted=False, reason="worker_not_registered")
    add_history(s, ids, "w2", datetime.date(2026, 8, 31), employer="S2", counted=False, reason="site_unapproved")
    add_history(s, ids, "w1", MON)
    with As(s, "w1") as actor:
        C.request_direct_input(s, actor, worker_id=ids["w1"], work_date=datetime.date(2026, 10, 2),
                               reason="card_forgotten", site_code="36265810102371", today=TUE)
        s.commit()
    with As(s, "p"):
        board = B.board(s, ids["X"], at(TUE, 9))
    assert [o.worker_label for o in board.on_site] == ["目黒 一郎（30154216388821）", "広尾 二郎（17788930382321）",
                                                      "未登録の技能者（99999999999921）"]
    assert board.entries_today == 2 and board.events_today == 4  # two known workers; the unknown one counted apart
    # newest first; August is past correcting; the pending direct input shows until the prime decides
    assert [(h.work_date, h.not_counted_reason) for h in board.to_fix] == [
        (MON, "worker_not_registered"), (datetime.date(2026, 10, 2), "site_unapproved")]
    assert board.waiting.count == 1
    # before 10:00 today is not judged; the reader sent nothing on the six working days before (Sunday is off)
    assert sorted(day for _d, day in board.silent) == [datetime.date(2026, 9, 29), datetime.date(2026, 9, 30)] + [
        datetime.date(2026, 10, d) for d in (1, 2, 3, 5)]
    with As(s, "p"):
        later = B.board(s, ids["X"], at(TUE, 13))
    assert [o.worker_label for o in later.on_site] == ["目黒 一郎（30154216388821）", "未登録の技能者（99999999999921）"]
    assert TUE not in {day for _d, day in later.silent}  # after 10:00 today is judged: the reader did send
    with As(s, "q"):
        assert B.board(s, ids["X"], at(TUE, 9)) is None


def _no_induction(s, ids, *workers):
    with using_scope(s, ALL):
        s.execute(update(SiteWorkerRegistration).where(SiteWorkerRegistration.worker_id.in_([ids[w] for w in workers]))
                  .values(entry_education_on=None))
        s.commit()


def test_roster_rows_without_induction_show_on_the_board_those_on_site_first(world):
    ids, s = world
    _no_induction(s, ids, "w1", "w2")
    reader = add_device(s, ids, name="reader")
    add_event(s, ids, reader, at(TUE, 8), worker="w2")
    add_event(s, ids, reader, at(MON, 8), worker="w2", kind="exit")
    with As(s, "p"):
        board = B.board(s, ids["X"], at(TUE, 9))
        assert [(n.registration.worker_id, n.first_tap) for n in board.not_inducted] == [(ids["w2"], MON), (ids["w1"], None)]
        assert board.not_inducted_total == 2
        shown, total = B.not_inducted(s, ids["X"], TUE, limit=1)  # a large site: the first rows, all counted
        assert ([n.registration.worker_id for n in shown], total) == ([ids["w2"]], 2)
    with As(s, "p-genba"):
        assert [n.registration.worker_id for n in B.board(s, ids["X"], at(TUE, 9)).not_inducted] == [ids["w2"], ids["w1"]]
    with using_scope(s, ALL):  # w1 educated: w2 is left; then w2 too: nothing
        s.execute(update(SiteWorkerRegistration).where(SiteWorkerRegistration.worker_id == ids["w1"])
                  .values(entry_education_on=TUE))
        s.commit()
    with As(s, "p"):
        assert [n.registration.worker_id for n in B.board(s, ids["X"], at(TUE, 9)).not_inducted] == [ids["w2"]]
    with using_scope(s, ALL):
        s.execute(update(SiteWorkerRegistration).where(SiteWorkerRegistration.worker_id == ids["w2"])
                  .values(entry_education_on=TUE))
        s.commit()
    with As(s, "p"):
        assert B.board(s, ids["X"], at(TUE, 9)).not_inducted == []
    with As(s, "q"):  # not q's site: no board
        assert B.board(s, ids["X"], at(TUE, 9)) is None


def test_a_refused_tap_is_no_first_entry(world):
    ids, s = world
    _no_induction(s, ids, "w2")
    reader = add_device(s, ids, name="reader")
    event = add_event(s, ids, reader, at(MON, 8), worker="w2")
    from portal.models import EntryExitEvent

    with using_scope(s, ALL):
        s.execute(update(EntryExitEvent).where(EntryExitEvent.id == event).values(refusal="credential_revoked"))
        s.commit()
    with As(s, "p"):
        assert [(n.registration.worker_id, n.first_tap) for n in B.not_inducted(s, ids["X"], TUE)[0]] == [(ids["w2"], None)]
