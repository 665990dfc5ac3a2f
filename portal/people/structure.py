"""施工体制 rules: who may be invited where, at which tier, and who may change a link's status; and who may be
put on a site roster (作業員名簿). Plain functions over a session; portal.people.validation applies them on every
flush (screens, REST API, CLI alike) and portal.people.scoping decides which company may make which change."""
from __future__ import annotations

import datetime

from sqlalchemy import select

from portal.app.errors import DomainError
from portal.models import Affiliation, Site, SiteWorkerRegistration, StructureLink

# Status changes each side may make: the upper company invites (招待中) and may end the link (解除);
# only the lower company approves (承認済) or declines (否認) an invitation.
UPPER_CHANGES = {("招待中", "解除"), ("承認済", "解除")}
LOWER_CHANGES = {("招待中", "承認済"), ("招待中", "否認"), ("承認済", "解除")}


def tier_of(session, site_id: int, employer_id: int) -> int | None:
    """0 for the prime, n for an approved n次 subcontractor, None when the employer is not in the approved
    structure of the site."""
    prime = session.execute(select(Site.__table__.c.prime_employer_id).where(Site.__table__.c.id == site_id)).scalar()
    if prime == employer_id:
        return 0
    t = StructureLink.__table__
    return session.execute(select(t.c.tier).where(t.c.site_id == site_id, t.c.lower_employer_id == employer_id,
                                                  t.c.status == "承認済")).scalar()


def check_link(session, link: StructureLink, site_id: int, upper_id: int, lower_id: int) -> None:
    """A new or changed link: the inviting company must itself be in the approved structure (or the prime);
    the tier follows from it (upper's tier + 1)."""
    upper_tier = tier_of(session, site_id, upper_id)
    if upper_tier is None:
        raise DomainError("upper_not_in_structure",
                          "招待する事業者がこの現場の施工体制に（承認済で）登録されていません。")
    if link.tier is None or link.id is None:
        link.tier = upper_tier + 1
    elif link.tier != upper_tier + 1:
        raise DomainError("invalid_tier", f"階層は上位事業者の次（{upper_tier + 1}次）です。")
    if lower_id == session.execute(select(Site.__table__.c.prime_employer_id).where(Site.__table__.c.id == site_id)).scalar():
        raise DomainError("invalid_structure_link", "元請事業者を下位に招待することはできません。")


def status_change_allowed(side: str, before: str | None, after: str) -> bool:
    if before == after:
        return True
    return (before, after) in (UPPER_CHANGES if side == "upper" else LOWER_CHANGES)


def check_registration(session, site_id: int, worker_id: int, employer_id: int,
                       today: datetime.date | None = None) -> None:
    """Only a worker whose link to the employer is 承認済 can be put on a roster, and only by an employer that
    is in the site's approved structure."""
    a = Affiliation.__table__
    approved = session.execute(select(a.c.id).where(a.c.worker_id == worker_id, a.c.employer_id == employer_id,
                                                    a.c.status == "承認済")).first()
    if approved is None:
        raise DomainError("worker_not_affiliated",
                          "この技能者は所属事業者として承認されていないため（取消を含む）、作業員名簿に登録できません。")
    if tier_of(session, site_id, employer_id) is None:
        raise DomainError("employer_not_in_structure", "この事業者はこの現場の施工体制に登録されていません。")


def on_roster(day: datetime.date):
    """The criterion: a roster row (作業員名簿) in force on ``day``."""
    r = SiteWorkerRegistration
    return ((r.start_date.is_(None)) | (r.start_date <= day)) & ((r.end_date.is_(None)) | (r.end_date >= day))


def roster_on(session, site_id: int, day: datetime.date) -> list[SiteWorkerRegistration]:
    """The roster (作業員名簿) of a site as it stood on ``day``."""
    r = SiteWorkerRegistration
    return list(session.execute(select(r).where(r.site_id == site_id, on_roster(day))).scalars())
