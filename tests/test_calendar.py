"""Monthly calendar (report 2-3 / 2-4) and the worker's summary figures, per viewer's scope."""
from __future__ import annotations

import datetime

import pytest

from corrections_world import As, add_history, world, world_app  # noqa: F401  (fixtures)
from portal import work_calendar as K
from portal.errors import DomainError


def d(day, month=10):
    return datetime.date(2026, month, day)


@pytest.fixture
def october(world):
    ids, s = world
    add_history(s, ids, "w1", d(1), methods="IC")
    add_history(s, ids, "w1", d(2), methods="直接,IC")
    add_history(s, ids, "w1", d(3), methods="直接", counted=False, reason="site_unapproved", position="班長")
    add_history(s, ids, "w1", d(5), methods="IC", counted=False, reason="outside_period")
    add_history(s, ids, "w1", d(4), site=None, methods="直接", counted=False, reason="site_unregistered")
    add_history(s, ids, "w1", d(2), site="Y", methods="顔")  # two sites on one day
    add_history(s, ids, "w1", d(30, 9), methods="IC")  # another month
    add_history(s, ids, "w2", d(1), employer="S2", trade="tobi", position="一般", methods="QR")
    return ids, s


def test_worker_month_rows_marks_and_totals(october):
    ids, s = october
    with As(s, "w1"):
        m = K.worker_month(s, ids["w1"], 2026, 10)
    assert len(m.days) == 31 and m.days[0] == (1, "木") and m.kentaikyo == "加入"
    lines = {(r.site_label, r.label): r for r in m.rows}
    x = lines[("現場X（36265810102371）", "計上")]
    assert x.cells == {1: "IC", 2: "IC/直接"} and x.counts == {"counted": 2, "unapproved": 0, "unregistered": 0}
    assert (x.trade, x.position, x.work_content, x.prime_label) == ("10-01 鉄筋工・鉄筋工", "職長", "鉄筋工事", "(株)P建設")
    nx = lines[("現場X（36265810102371）", "非計上")]
    assert nx.cells == {3: "直接", 5: "IC"} and nx.counts["unapproved"] == 2
    assert nx.reasons == {"元請現場未承認", "就業履歴蓄積期間外"}
    assert lines[("現場未登録", "非計上")].counts["unregistered"] == 1
    assert lines[("現場Y（45678901234571）", "計上")].cells == {2: "顔"}
    assert m.totals == {"counted": 3, "unapproved": 2, "unregistered": 1}


def test_summary_counts_days_records_and_not_counted_by_reason(october):
    ids, s = october
    with As(s, "w1"):
        summary = K.worker_summary(s, ids["w1"])
        october_only = K.worker_summary(s, ids["w1"], since=d(1), until=d(31))
    assert summary.work_days == 3 and summary.history_count == 4  # 9/30, 10/1, 10/2 (two sites)
    assert summary.not_counted == {"unapproved": 2, "unregistered": 1}
    assert summary.not_counted_by_reason == {"元請現場未承認": 1, "就業履歴蓄積期間外": 1, "元請現場未登録": 1}
    assert (october_only.work_days, october_only.history_count) == (2, 3)


def test_each_viewer_sees_only_its_scope(october):
    ids, s = october
    with As(s, "w2"):
        assert K.worker_month(s, ids["w1"], 2026, 10) is None
        assert K.worker_summary(s, ids["w1"]).history_count == 0
    with As(s, "q"):  # prime of Y: the worker's row on Y only (w1 is not on Y's roster: no worker record either)
        assert K.worker_month(s, ids["w1"], 2026, 10) is None
    with As(s, "p"):  # prime of X: sees w1 (on its roster) and only the histories on X
        m = K.worker_month(s, ids["w1"], 2026, 10)
    assert {r.site_label for r in m.rows} == {"現場X（36265810102371）"}
    assert m.kentaikyo == "加入"  # a 作業員名簿 item: the prime sees it for workers on its roster
    with As(s, "s1"):
        m = K.worker_month(s, ids["w1"], 2026, 10)
    assert m.totals == {"counted": 3, "unapproved": 2, "unregistered": 1}


def test_employer_month_lists_its_workers_only(october):
    ids, s = october
    with As(s, "s1"):
        mine = K.employer_month(s, 2026, 10, employer_id=ids["S1"])
        everything = K.employer_month(s, 2026, 10)  # S1 also sees w2 on X (2次 below it)
    assert {r.worker.id for r in mine} == {ids["w1"]}
    assert {r.worker.id for r in everything} == {ids["w1"], ids["w2"]}
    with As(s, "s2"):
        rows = K.employer_month(s, 2026, 10)
    assert {r.worker.id for r in rows} == {ids["w2"]}
    with As(s, "o"):
        assert K.employer_month(s, 2026, 10) == []
    with As(s, "p"):
        rows = K.employer_month(s, 2026, 10, site_id=ids["X"])
    assert sum(r.counts["counted"] for r in rows) == 3  # w1 twice, w2 once: all on X


def test_bad_month_is_refused():
    with pytest.raises(DomainError) as e:
        K.month_bounds(2026, 13)
    assert e.value.code == "invalid_month" and "年月" in e.value.message


def test_marks_are_ordered_and_deduplicated():
    assert K.marks("直接, IC,IC、顔") == ["IC", "顔", "直接"]
    assert K.marks("") == [] and K.marks(None) == []
