"""Monthly calendar (report 2-3 / 2-4) and the worker's summary figures, per viewer's scope."""
from __future__ import annotations

import datetime

import pytest

from corrections_world import As, add_history, world, world_app  # noqa: F401  (fixtures)
from portal.output import work_calendar as K
from portal.app.errors import DomainError


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


def test_employer_month_keeps_a_former_workers_days(october):
    """Histories filed under S1 for a worker S1 no longer sees (he works for O now): S1's own past days stay on
    its list, the worker shown by 技能者ID only (this line made the list fail before)."""
    ids, s = october
    add_history(s, ids, "w3", d(6), site="Y", employer="S1", position="一般")
    with As(s, "s1"):
        rows = K.employer_month(s, 2026, 10, employer_id=ids["S1"])
    former = [r for r in rows if r.worker.id == ids["w3"]]
    assert len(former) == 1 and isinstance(former[0].worker, K.HiddenWorker)
    assert (former[0].worker.worker_id, former[0].worker.name) == ("93845751166921", "非開示")
    assert former[0].cells == {6: "IC"} and former[0].counts["counted"] == 1
    assert {r.worker.id for r in rows} == {ids["w1"], ids["w3"]}
    with As(s, "o"):  # O sees w3 (its worker) but not S1's histories
        assert K.employer_month(s, 2026, 10) == []


def reference_lines(histories, trades) -> dict:
    """The calendar lines computed the plain way, history by history in date order (the figures the grouped
    query must reproduce): (worker, site, counted) → (cells, counts, trade, position, work content, hazardous,
    reasons)."""
    lines = {}
    for h in sorted(histories, key=lambda h: (h.worker_id, h.site_id or 0, not h.counted, h.work_date)):
        line = lines.setdefault((h.worker_id, h.site_id, h.counted),
                                {"cells": {}, "counts": dict.fromkeys(K.COLUMNS, 0), "trade": "", "position": "",
                                 "work_content": "", "hazardous": False, "reasons": set()})
        line["cells"][h.work_date.day] = "/".join(K.marks(h.methods))
        line["counts"][K.column_of(h)] += 1
        line["trade"] = trades[h.trade_id] if h.trade_id else line["trade"]
        line["position"] = h.position or line["position"]
        line["work_content"] = h.work_content or line["work_content"]
        line["hazardous"] = line["hazardous"] or h.hazardous_work
        if not h.counted:
            line["reasons"].add(K.NOT_COUNTED_REASONS.get(h.not_counted_reason or "", h.not_counted_reason or ""))
    return lines


def test_grouped_lines_equal_the_plain_computation(world):
    """Random months (sites with and without a registration, counted or not for each reason, roster values that
    change or go empty within the month, several marks a day): the grouped query gives exactly the lines of
    the plain computation over the same histories, for every viewer."""
    import random

    from sqlalchemy import select

    from portal.models import Trade, WorkHistory
    from portal.people.scoping import ALL, using_scope

    ids, s = world
    rng = random.Random(2026)
    reasons = [None, *K.NOT_COUNTED_COLUMN, "unknown_reason"]
    for worker in ("w1", "w2", "w3"):
        for site in ("X", "Y", None):
            for day in rng.sample(range(1, 32), 9):
                counted = rng.random() < 0.5
                add_history(s, ids, worker, d(day), site=site, employer=rng.choice(["S1", "S2", "O"]),
                            trade=rng.choice(["rebar", "tobi", None]), position=rng.choice(["職長", "一般", "", None]),
                            work_content=rng.choice(["鉄筋工事", "", None, "型枠, 100% ; :x"]),
                            methods=rng.choice(["IC", "直接,IC", "", "顔,QR,電話", "API"]), counted=counted,
                            reason=None if counted else rng.choice(reasons), hazardous_work=rng.random() < 0.2)
    with using_scope(s, ALL):
        trades = {t.id: str(t) for t in s.execute(select(Trade)).scalars()}
    for login in ("admin", "p", "p-genba", "s1", "s2", "o", "q", "w1"):
        with As(s, login):
            histories = s.execute(select(WorkHistory).where(WorkHistory.work_date >= d(1),
                                                            WorkHistory.work_date <= d(31))).scalars().all()
            labels = K.site_labels(s, {h.site_id for h in histories})
            expected = {(w, labels.get(site, ("現場未登録",))[0], counted): line
                        for (w, site, counted), line in reference_lines(histories, trades).items()}
            got = {(r.worker.id, r.site_label, r.counted): r for r in K.employer_month(s, 2026, 10)}
        assert set(got) == set(expected), login
        for key, line in expected.items():
            r = got[key]
            assert (r.cells, r.counts, r.trade, r.position, r.work_content, r.hazardous, r.reasons) == (
                line["cells"], line["counts"], line["trade"], line["position"], line["work_content"],
                line["hazardous"], line["reasons"]), (login, key)
        assert expected, login  # every viewer sees some of the month


def test_employer_month_reads_in_a_fixed_number_of_statements(october):
    """One employer's month costs the same few statements with 2 workers as with 12: lines grouped in the
    database, their workers in the same query, no load per history or per worker."""
    from sqlalchemy import event

    from portal.app.db import db

    ids, s = october
    statements = []

    def count(*_args):
        statements.append(1)

    def reading() -> int:
        statements.clear()
        s.expunge_all()
        with As(s, "s1"):
            event.listen(db.engine, "before_cursor_execute", count)
            try:
                rows = K.employer_month(s, 2026, 10)
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
        return len(statements), len(rows)

    few, lines_before = reading()
    import random

    from portal.demo import add_worker, make_id
    from portal.models import Employer
    from portal.people.scoping import ALL, using_scope

    rng, taken = random.Random(7), set()
    with using_scope(s, ALL):
        s1 = s.get(Employer, ids["S1"])
        extra = [add_worker(s, worker_id=make_id(rng, "21", taken), name=f"追加 {n}", kana=f"ツイカ {n}",
                            employer=s1, birth=datetime.date(1990, 1, 1)).id for n in range(10)]
        s.commit()
    for n, worker_id in enumerate(extra):
        ids[f"x{n}"] = worker_id
        add_history(s, ids, f"x{n}", d(7), trade="tobi")
        add_history(s, ids, f"x{n}", d(8), counted=False, reason="site_unapproved")
    many, lines_after = reading()
    assert lines_after == lines_before + 20
    assert many == few <= 4
