"""Progress toward the next skill level: thresholds per evaluation field, distinct days, 職長/班長 days, scope."""
from __future__ import annotations

import datetime

from sqlalchemy import update

from corrections_world import As, add_history, world, world_app  # noqa: F401  (fixtures)
from portal.output import evaluation as E
from portal.models import Worker, WorkHistory
from portal.people.scoping import ALL, using_scope

D0 = datetime.date(2020, 1, 1)


def test_thresholds_per_field_with_defaults():
    assert E.DAYS_PER_YEAR == 215
    assert E.requirements(None) == {2: E.Requirement(645), 3: E.Requirement(1505, leader_days=215),
                                    4: E.Requirement(2150, foreman_days=645)}
    assert E.requirements("鉄筋")[3] == E.Requirement(1505, leader_days=645)
    assert E.requirements("とび")[3] == E.Requirement(1720, leader_days=430)
    assert E.requirements("とび")[2] == E.Requirement(645)  # not overridden: the default
    assert E.requirements("未知の分野") == E.DEFAULT_REQUIREMENTS


def _bulk(s, ids, n, **kw):
    """n histories on consecutive days from D0 (inserted in one go)."""
    with using_scope(s, ALL):
        s.add_all([WorkHistory(worker_id=ids[kw.get("worker", "w1")], site_id=ids["X"], work_date=D0 + datetime.timedelta(days=i),
                               employer_id=ids["S1"], trade_id=ids["rebar"], position=kw.get("position", "一般"),
                               methods="IC", counted=True, valid_for_evaluation=True) for i in range(n)])
        s.commit()


def test_days_are_distinct_and_only_valid_counted_ones_count(world):
    ids, s = world
    _bulk(s, ids, 644)
    day = D0 + datetime.timedelta(days=10)
    add_history(s, ids, "w1", day, site="Y", employer="S1")  # a second site the same day: still one day
    add_history(s, ids, "w1", D0 + datetime.timedelta(days=700), counted=False, reason="site_unapproved")
    add_history(s, ids, "w1", D0 + datetime.timedelta(days=701), valid=False)
    with As(s, "w1"):
        [p] = E.progress(s, ids["w1"])
    assert (p.field, p.evaluable, p.current_level, p.next_level) == ("鉄筋", True, 1, 2)
    assert p.days == 644 and p.shortfall == {"days": 1, "leader_days": 0, "foreman_days": 0} and not p.met
    assert p.percent == 99
    add_history(s, ids, "w1", D0 + datetime.timedelta(days=702))
    with As(s, "w1"):
        [p] = E.progress(s, ids["w1"])
    assert p.days == 645 and p.met and p.percent == 100


def test_leader_and_foreman_days_for_levels_3_and_4(world):
    ids, s = world
    _bulk(s, ids, 1505)
    with using_scope(s, ALL):
        s.execute(update(WorkHistory).where(WorkHistory.work_date < D0 + datetime.timedelta(days=300)).values(position="班長"))
        s.execute(update(WorkHistory).where(WorkHistory.work_date < D0 + datetime.timedelta(days=400),
                                            WorkHistory.work_date >= D0 + datetime.timedelta(days=300)).values(position="職長"))
        s.execute(update(Worker).where(Worker.id == ids["w1"]).values(level=2))
        s.commit()
    with As(s, "s1"):  # the employer sees its worker's progress
        [p] = E.progress(s, ids["w1"])
    assert (p.next_level, p.days, p.leader_days, p.foreman_days) == (3, 1505, 400, 100)
    assert p.requirement == E.Requirement(1505, leader_days=645)  # 鉄筋: 職長+班長 ≥ 645
    assert p.shortfall["leader_days"] == 245 and not p.met
    with using_scope(s, ALL):
        s.execute(update(Worker).where(Worker.id == ids["w1"]).values(level=3))
        s.commit()
    with As(s, "w1"):
        [p] = E.progress(s, ids["w1"])
    assert p.next_level == 4 and p.shortfall == {"days": 2150 - 1505, "leader_days": 0, "foreman_days": 645 - 100}


def test_a_held_trade_without_history_shows_at_zero_and_level_4_has_no_next(world):
    ids, s = world
    with As(s, "w2"):
        [p] = E.progress(s, ids["w2"])  # w2 holds とび工 (06-01), level 2, no history
    assert (p.field, p.days, p.next_level) == ("とび", 0, 3)
    assert p.requirement == E.Requirement(1720, leader_days=430) and p.percent == 0
    with using_scope(s, ALL):
        s.execute(update(Worker).where(Worker.id == ids["w2"]).values(level=4))
        s.commit()
    with As(s, "w2"):
        [p] = E.progress(s, ids["w2"])
    assert p.next_level is None and p.requirement is None and p.shortfall == {}


def test_progress_is_empty_outside_the_viewers_scope(world):
    ids, s = world
    _bulk(s, ids, 5)
    for who in ("w2", "o", "q"):
        with As(s, who):
            assert E.progress(s, ids["w1"]) == [], who
