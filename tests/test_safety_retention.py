"""The retention of the submitted safety documents: a submission is deleted once its keep-until date (from the
site's 引渡し: 作業員名簿 5 years, 再下請負通知書 as long as the 施工体系図 drawn from it, 10 years) has passed, never
before; a site without a recorded 引渡し keeps everything; the scheduled purge of report files does it too."""
from __future__ import annotations

import datetime

from sqlalchemy import select

from corrections_world import world, world_app  # noqa: F401  (fixtures)
from portal.models.safety import APPROVED, SafetySubmission, SiteContract
from portal.output import jobs
from portal.people.scoping import ALL, using_scope
from reports.safety import retention

HANDED = datetime.date(2020, 3, 31)


def _seed(s, ids, handed=HANDED):
    with using_scope(s, ALL):
        if handed:
            s.add(SiteContract(site_id=ids["X"], employer_id=ids["P"], handed_over_on=handed))
        s.add(SiteContract(site_id=ids["X"], employer_id=ids["S1"], handed_over_on=datetime.date(2000, 1, 1)))  # not the prime's
        rows = {}
        for site, employer, upper, form in (("X", "S1", "P", "AZ5"), ("X", "S1", "P", "AZ6"), ("X", "S2", "S1", "AZ6"),
                                            ("Y", "O", "Q", "AZ6")):
            row = SafetySubmission(site_id=ids[site], employer_id=ids[employer], upper_employer_id=ids[upper], form=form,
                                   status=APPROVED, snapshot={"day": {"$date": "2020-01-10"}},
                                   snapshot_day=datetime.date(2020, 1, 10))
            s.add(row)
            rows[(site, employer, form)] = row
        s.commit()
        return {k: r.id for k, r in rows.items()}


def _left(s):
    with using_scope(s, ALL):
        return set(s.execute(select(SafetySubmission.id)).scalars())


def test_submissions_are_purged_after_their_keep_until_date_and_never_before(world):
    ids, s = world
    rows = _seed(s, ids)
    everything = set(rows.values())
    # the last day kept: 2025-03-31 for the 名簿, 2030-03-31 for the 通知書 (the 体系図's term)
    assert retention.purge(s, datetime.date(2025, 3, 31)) == 0 and _left(s) == everything
    assert retention.purge(s, datetime.date(2025, 4, 1)) == 2
    assert _left(s) == {rows[("X", "S1", "AZ5")], rows[("Y", "O", "AZ6")]}  # site Y: no 引渡し recorded
    assert retention.purge(s, datetime.date(2030, 3, 31)) == 0
    assert retention.purge(s, datetime.date(2030, 4, 1)) == 1 and _left(s) == {rows[("Y", "O", "AZ6")]}
    assert retention.purge(s, datetime.date(2099, 1, 1)) == 0  # idempotent; Y is kept for ever without an 引渡し


def test_the_scheduled_purge_deletes_them_too(world_app, world):
    ids, s = world
    handed = datetime.date.today() - datetime.timedelta(days=6 * 366)  # the 名簿 is past its 5 years today
    rows = _seed(s, ids, handed)
    s.commit()
    jobs.purge_now(world_app)  # its own session, like the schedule's thread and Celery's beat
    s.expire_all()
    assert _left(s) == {rows[("X", "S1", "AZ5")], rows[("Y", "O", "AZ6")]}
