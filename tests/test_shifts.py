"""Shifts across midnight (portal.history.shifts, issue 9): which work day a tap belongs to. The rule on its own (the
issue's cases, a property test that arrival order and anything outside the shift length do not matter), the
same cases end to end through POST /api/v1/events (SQLite; the PostgreSQL fast path with
CCUS_TEST_DATABASE_URL), the site's setting on its screen and REST API, and the site board's "on site now"."""
from __future__ import annotations

import datetime
import json
import random
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import select

from corrections_world import As, add_device, add_event, world, world_app  # noqa: F401  (fixtures)
from ingest_world import SITE_A, count, new_device, quiet_worker, recent_day, site_pk, tokyo, worker_pk
from portal.history import shifts
from portal.output import site_board as B
from portal.app.db import db
from portal.history.histories import Tap
from portal.models import Employer, Site, WorkHistory
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import api_token, login_of

JST = ZoneInfo("Asia/Tokyo")
UTC = datetime.timezone.utc
MON = datetime.date(2026, 10, 5)
TUE, WED = MON + datetime.timedelta(days=1), MON + datetime.timedelta(days=2)
ONE = datetime.timedelta(days=1)


def at(day: datetime.date, hh: int, mm: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hh, mm), JST).astimezone(UTC)


def tap(day, hh, mm=0, kind="entry") -> Tap:
    return Tap(at(day, hh, mm), kind, "IC")


def days(taps, rule=shifts.DEFAULT_RULE) -> list[datetime.date]:
    """The work day of each tap, in the order given."""
    found = {t: d for d, t in shifts.assign_days(taps, rule)}
    return [found[t] for t in taps]


# --- the rule --------------------------------------------------------------------------------------------------

def test_entry_21_exit_06_is_one_day_the_day_of_the_entry():
    assert days([tap(MON, 21), tap(TUE, 6, kind="exit")]) == [MON, MON]


def test_a_meal_break_after_midnight_stays_in_the_shift():
    night = [tap(MON, 22), tap(TUE, 1, kind="exit"), tap(TUE, 2), tap(TUE, 4, 30, "exit")]
    assert days(night) == [MON] * 4


def test_a_site_recording_entries_only_gets_a_day_for_each_04_30_start():
    week = [tap(MON + n * ONE, 4, 30) for n in range(5)]  # Monday to Friday, no exits
    assert days(week) == [MON + n * ONE for n in range(5)]


def test_an_ordinary_day_and_an_early_entry_the_next_morning_are_two_days():
    assert days([tap(MON, 8), tap(MON, 17, kind="exit"), tap(TUE, 4, 30)]) == [MON, MON, TUE]


def test_a_forgotten_exit_does_not_carry_the_next_morning_into_the_day_before():
    assert days([tap(MON, 8), tap(MON, 18), tap(TUE, 8)]) == [MON, MON, TUE]


def test_an_entry_more_than_the_break_after_the_exit_starts_a_new_day():
    assert days([tap(MON, 21), tap(TUE, 1, kind="exit"), tap(TUE, 3, 1)]) == [MON, MON, TUE]
    assert days([tap(MON, 21), tap(TUE, 1, kind="exit"), tap(TUE, 3)]) == [MON, MON, MON]  # two hours: a break


def test_the_sites_max_shift_hours_bound_how_long_an_exit_may_follow_its_entry():
    late = [tap(MON, 20), tap(TUE, 13, kind="exit")]  # 17 hours
    assert days(late) == [MON, TUE]
    assert days(late, shifts.ShiftRule.of_site(18)) == [MON, MON]
    night = [tap(MON, 20), tap(TUE, 5, kind="exit")]  # 9 hours
    assert days(night) == [MON, MON]
    assert days(night, shifts.ShiftRule.of_site(8)) == [MON, TUE]
    assert shifts.ShiftRule.of_site(None) == shifts.DEFAULT_RULE == shifts.ShiftRule.of_site(16)


@pytest.mark.parametrize("value", [0, 24, -1, "8", 8.5, True, None])
def test_max_shift_hours_out_of_range_is_refused_with_a_code(value):
    with pytest.raises(Exception) as raised:
        shifts.check_max_shift_hours(value)
    assert getattr(raised.value, "code", None) == "invalid_max_shift_hours" and "1〜23" in raised.value.message


BASE = at(MON, 0)
taps_strategy = st.lists(
    st.builds(lambda minutes, kind: Tap(BASE + datetime.timedelta(minutes=minutes), kind, "IC"),
              st.integers(0, 4 * 24 * 60).map(lambda m: m - m % 30), st.sampled_from(["entry", "exit", "work"])),
    max_size=14)
rules_strategy = st.builds(shifts.ShiftRule.of_site, st.integers(*shifts.MAX_SHIFT_HOURS_RANGE))


def _assigned(taps, rule):
    return sorted((t.at, t.kind, d) for d, t in shifts.assign_days(taps, rule))


@settings(max_examples=300, deadline=None)
@given(taps_strategy, rules_strategy, st.randoms(use_true_random=False))
def test_arrival_order_does_not_matter(taps, rule, rnd):
    shuffled = list(taps)
    rnd.shuffle(shuffled)
    assert _assigned(shuffled, rule) == _assigned(taps, rule)


@settings(max_examples=300, deadline=None)
@given(taps_strategy, rules_strategy)
def test_a_taps_day_depends_only_on_the_shift_length_before_it(taps, rule):
    for day, t in shifts.assign_days(taps, rule):
        window = [x for x in taps if t.at - rule.max_shift <= x.at <= t.at]
        assert (day, t) in shifts.assign_days(window, rule)  # what the ingest reads is enough
        calendar = t.at.astimezone(JST).date()
        assert day in (calendar, calendar - ONE)  # so recompute and rebuild read the calendar days around


@settings(max_examples=300, deadline=None)
@given(taps_strategy, rules_strategy, st.integers(0, 4 * 24 * 60), st.sampled_from(["entry", "exit", "work"]))
def test_a_late_tap_moves_only_taps_up_to_the_shift_length_after_it(taps, rule, minutes, kind):
    late = Tap(BASE + datetime.timedelta(minutes=minutes), kind, "API")
    before = dict((t, d) for d, t in shifts.assign_days(taps, rule))
    after = dict((t, d) for d, t in shifts.assign_days(taps + [late], rule))
    moved = {t for t in taps if before[t] != after[t]}
    assert all(late.at <= t.at <= late.at + rule.max_shift for t in moved)


# --- end to end: POST /api/v1/events, one tap per request, in either order --------------------------------------

def _post(app, key, events):
    r = app.test_client().post("/api/v1/events", data=json.dumps({"events": events}), content_type="application/json",
                               headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert [x["result"] for x in r.get_json()["results"]] == ["accepted"] * len(events)


_ids = iter(range(10 ** 6))


def _tap(worker, day, hh, mm=0, kind="entry"):
    return {"event_id": f"shift-{next(_ids)}", "worker_id": worker, "site_id": SITE_A, "kind": kind,
            "time": tokyo(day, hh, mm), "method": "API"}


def _days(app, worker) -> dict:
    """{work day: (first entry, last exit)} of the worker's stored histories on site A, in Tokyo time."""
    def local(value):
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        return value.astimezone(JST).strftime("%m-%d %H:%M")

    with app.app_context(), using_scope(db.session, ALL):
        rows = db.session.execute(select(WorkHistory).where(
            WorkHistory.worker_id == worker_pk(app, worker), WorkHistory.site_id == site_pk(app, SITE_A))).scalars()
        return {h.work_date: (local(h.first_entry_at), local(h.last_exit_at)) for h in rows}


def _send_one_by_one(app, events, reverse):
    _device, key = new_device(app)
    for e in (reversed(events) if reverse else events):
        _post(app, key, [e])


@pytest.mark.parametrize("reverse", [False, True])
def test_the_issues_cases_through_the_api_whatever_the_arrival_order(demo_app, reverse):
    worker = quiet_worker(demo_app)
    sun = recent_day(5)  # a Sunday: the four cases on separate weeks' days, far enough apart
    d1, d2, d3 = sun, sun + datetime.timedelta(days=7), sun + datetime.timedelta(days=14)
    week = [d3 + n * ONE for n in range(1, 6)]  # Monday to Friday
    events = [_tap(worker, d1, 21), _tap(worker, d1 + ONE, 6, kind="exit"),  # one day, the entry's
              _tap(worker, d2, 22), _tap(worker, d2 + ONE, 1, kind="exit"), _tap(worker, d2 + ONE, 2),
              _tap(worker, d2 + ONE, 4, 30, "exit"),  # a meal break: one day
              *[_tap(worker, d, 4, 30) for d in week]]  # entries only: five days
    _send_one_by_one(demo_app, events, reverse)
    assert _days(demo_app, worker) == {
        d1: (f"{d1:%m-%d} 21:00", f"{d1 + ONE:%m-%d} 06:00"),
        d2: (f"{d2:%m-%d} 22:00", f"{d2 + ONE:%m-%d} 04:30"),
        **{d: (f"{d:%m-%d} 04:30", None) for d in week}}


@pytest.mark.parametrize("reverse", [False, True])
def test_an_ordinary_day_then_an_early_entry_are_two_days_through_the_api(demo_app, reverse):
    worker, day = quiet_worker(demo_app), recent_day(3) + ONE  # a Monday
    _send_one_by_one(demo_app, [_tap(worker, day, 8), _tap(worker, day, 17, kind="exit"),
                                _tap(worker, day + ONE, 4, 30)], reverse)
    assert _days(demo_app, worker) == {day: (f"{day:%m-%d} 08:00", f"{day:%m-%d} 17:00"),
                                       day + ONE: (f"{day + ONE:%m-%d} 04:30", None)}


def _expected(taps, rule) -> dict:
    out: dict = {}
    for d, t in shifts.assign_days(taps, rule):
        first, last = out.get(d, (None, None))
        if t.kind == "entry":
            first = min(filter(None, (first, t.at)))
        if t.kind == "exit":
            last = max(filter(None, (last, t.at)))
        out[d] = (first, last)
    return {d: tuple(v and v.astimezone(JST).strftime("%m-%d %H:%M") for v in pair) for d, pair in out.items()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_taps_in_random_batches_and_order_give_the_rules_days(demo_app, seed):
    """The write path (PostgreSQL: the fast path's bounded window and its recompute of the days it cannot merge)
    stores exactly the days the rule gives for all taps, however they are cut into batches and ordered."""
    rnd = random.Random(seed)
    worker, start = quiet_worker(demo_app), recent_day(4)
    taps = [Tap(at(start, 0) + datetime.timedelta(minutes=30 * rnd.randrange(3 * 48)),
                rnd.choice(["entry", "entry", "exit", "work"]), "API") for _ in range(16)]
    events = [{"event_id": f"r{seed}-{i}", "worker_id": worker, "site_id": SITE_A, "kind": t.kind,
               "time": t.at.isoformat(), "method": "API"} for i, t in enumerate(taps)]
    rnd.shuffle(events)
    _device, key = new_device(demo_app)
    while events:
        n = rnd.randint(1, 4)
        _post(demo_app, key, events[:n])
        events = events[n:]
    assert _days(demo_app, worker) == _expected(taps, shifts.DEFAULT_RULE)


# --- the site's setting: screen, REST API, and what it changes -------------------------------------------------

def _admin_api(app):
    entry = login_of(app, "admin")
    client = app.test_client()
    return client, {"Authorization": f"Bearer {api_token(client, entry['login'], entry['password'])}"}


def test_the_sites_max_shift_hours_through_the_rest_api_change_the_days(demo_app):
    client, headers = _admin_api(demo_app)
    site = site_pk(demo_app, SITE_A)
    assert client.get(f"/api/v1/sites/{site}", headers=headers).get_json()["result"]["max_shift_hours"] == 16
    worker, day = quiet_worker(demo_app), recent_day(2)
    _send_one_by_one(demo_app, [_tap(worker, day, 20), _tap(worker, day + ONE, 5, kind="exit")], False)
    one_night = {day: (f"{day:%m-%d} 20:00", f"{day + ONE:%m-%d} 05:00")}
    assert _days(demo_app, worker) == one_night
    for bad, code in ((0, "invalid_max_shift_hours"), (24, "invalid_max_shift_hours"), ("夜", "validation_error")):
        r = client.put(f"/api/v1/sites/{site}", headers=headers, json={"max_shift_hours": bad})
        assert r.status_code == 422 and r.get_json()["code"] == code, r.get_json()
    assert client.get(f"/api/v1/sites/{site}", headers=headers).get_json()["result"]["max_shift_hours"] == 16
    assert _days(demo_app, worker) == one_night
    # 8 hours: the 9-hour night is longer than this site's shift; the stored days follow at once
    r = client.put(f"/api/v1/sites/{site}", headers=headers, json={"max_shift_hours": 8})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert client.get(f"/api/v1/sites/{site}", headers=headers).get_json()["result"]["max_shift_hours"] == 8
    assert _days(demo_app, worker) == {day: (f"{day:%m-%d} 20:00", None), day + ONE: (None, f"{day + ONE:%m-%d} 05:00")}
    later = recent_day(1)
    _send_one_by_one(demo_app, [_tap(worker, later, 20), _tap(worker, later + ONE, 5, kind="exit")], True)
    assert _days(demo_app, worker)[later + ONE] == (None, f"{later + ONE:%m-%d} 05:00")  # new taps: the same rule
    assert client.put(f"/api/v1/sites/{site}", headers=headers, json={"max_shift_hours": 10}).status_code == 200
    assert _days(demo_app, worker) == {**one_night, later: (f"{later:%m-%d} 20:00", f"{later + ONE:%m-%d} 05:00")}


def test_the_site_screen_shows_and_checks_the_max_shift_hours(client_for, demo_app):
    client, entry = client_for("prime")
    with demo_app.app_context(), using_scope(db.session, ALL):
        me = db.session.execute(select(Employer.id).where(Employer.employer_id == entry["employer_id"])).scalar()
    assert "最長勤務時間(夜間工事)" in client.get("/siteview/add").get_data(as_text=True)
    before = count(demo_app, Site)
    page = client.post("/siteview/add", data={"site_id": "11112222555571", "name": "夜間現場", "prime_employer": str(me),
                                              "max_shift_hours": "30"}, follow_redirects=True)
    assert "最長勤務時間は1〜23時間です。" in page.get_data(as_text=True)
    assert count(demo_app, Site) == before
    client.post("/siteview/add", data={"site_id": "11112222555571", "name": "夜間現場", "prime_employer": str(me),
                                       "max_shift_hours": "12"}, follow_redirects=True)
    client.post("/siteview/add", data={"site_id": "11112222666671", "name": "昼間現場", "prime_employer": str(me)},
                follow_redirects=True)  # left empty: the default
    with demo_app.app_context(), using_scope(db.session, ALL):
        assert db.session.execute(select(Site.max_shift_hours).where(Site.site_id == "11112222555571")).scalar() == 12
        assert db.session.execute(select(Site.max_shift_hours).where(Site.site_id == "11112222666671")).scalar() == 16


# --- the site board --------------------------------------------------------------------------------------------

def test_the_site_board_keeps_a_night_crew_on_site_after_midnight(world):
    ids, s = world
    gate = add_device(s, ids, name="gate")
    add_event(s, ids, gate, at(MON, 21))  # 目黒: the night crew, no exit yet
    add_event(s, ids, gate, at(MON, 21, 5), worker="w2")
    add_event(s, ids, gate, at(TUE, 0, 30), worker="w2", kind="exit")  # 広尾 left after midnight
    with As(s, "p"):
        assert [o.worker_label for o in B.on_site_now(s, ids["X"], at(MON, 23))] == [
            "目黒 一郎（30154216388821）", "広尾 二郎（17788930382321）"]
        after_midnight = B.board(s, ids["X"], at(TUE, 3))
        assert [o.worker_label for o in after_midnight.on_site] == ["目黒 一郎（30154216388821）"]
        assert B.on_site_now(s, ids["X"], at(TUE, 12, 59)) != []  # within the 16 hours of a shift
        assert B.on_site_now(s, ids["X"], at(TUE, 13, 1)) == []  # an exit forgotten: not on site for ever
    with using_scope(s, ALL):
        s.get(Site, ids["X"]).max_shift_hours = 5
        s.commit()
    with As(s, "p"):
        assert B.on_site_now(s, ids["X"], at(TUE, 1, 59)) != [] and B.on_site_now(s, ids["X"], at(TUE, 2, 1)) == []
