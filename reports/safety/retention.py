"""The retention of the submitted safety documents, enforced: a submission (its snapshot, who submitted and
decided) is deleted once the day after its keep-until date has come, never before (forms.md §5.3).

The term runs from the 引渡し of the site (the prime's SiteContract.handed_over_on): without one recorded nothing
is purged. A 作業員名簿 (AZ6) is kept as the 作業員名簿 (5 years); a 再下請負通知書 (AZ5) is part of the 台帳 (5 years)
but the 施工体系図 is drawn from those snapshots, so they are kept as long as the 体系図 (10 years).

Called by the purge of expired report files (portal.output.jobs.purge_now: the schedule, Celery's beat) and by
``ccus reports purge``; it runs under a reviewed ALL scope, as the schedule has no user.
"""
from __future__ import annotations

import datetime
import logging

from sqlalchemy import delete, select

from portal.models import Site
from portal.models.safety import SafetySubmission, SiteContract
from portal.people.scoping import ALL, using_scope
from reports.safety.thresholds import keep_until

log = logging.getLogger(__name__)
KEPT_AS = {"AZ5": "施工体系図", "AZ6": "作業員名簿"}  # form → the document whose term it follows


def expired(session, today: datetime.date) -> list[int]:
    """The submissions whose keep-until date is before ``today``."""
    with using_scope(session, ALL):
        handed = session.execute(select(SiteContract.site_id, SiteContract.handed_over_on).join(
            Site, (Site.id == SiteContract.site_id) & (Site.prime_employer_id == SiteContract.employer_id)).where(
            SiteContract.handed_over_on.is_not(None))).all()
        out = []
        for site_id, handed_over_on in handed:
            until = keep_until(handed_over_on)
            forms = [form for form, doc in KEPT_AS.items() if until[doc] < today]
            if forms:
                out += session.execute(select(SafetySubmission.id).where(
                    SafetySubmission.site_id == site_id, SafetySubmission.form.in_(forms))).scalars()
        return sorted(out)


def purge(session, today: datetime.date) -> int:
    """Delete the submissions past their keep-until date; returns how many."""
    ids = expired(session, today)
    if ids:
        with using_scope(session, ALL):
            session.execute(delete(SafetySubmission).where(SafetySubmission.id.in_(ids)))
        session.commit()
        log.info("purged %s safety submissions past their keep-until date", len(ids))
    return len(ids)
