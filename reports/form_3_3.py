"""3-3 施工体制登録事業者一覧 (技能者(自社のみ)、元請、上位下請): the companies registered in a site's structure.
A company gets the links its scope shows; a worker gets only its own companies (自社のみ): the sites where an
employer registered it, and that employer."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.people import structure
from portal.models import SiteWorkerRegistration
from reports import register
from reports.base import PRIME, UPPER, WORKER, Column, Output, Params, Report, Viewer
from reports.form_3_2 import links

COLUMNS = [Column("現場", width=28), Column("次数", "int", width=6), Column("事業者ID", width=16),
           Column("事業者名", width=22), Column("上位事業者", width=22), Column("状態", width=8)]


def build(session, viewer: Viewer, params: Params) -> Output:
    if viewer.scope.kind == "worker":
        stmt = select(SiteWorkerRegistration).options(selectinload(SiteWorkerRegistration.site),
                                                      selectinload(SiteWorkerRegistration.employer))
        if params.site is not None:
            stmt = stmt.where(SiteWorkerRegistration.site_id == params.site)
        seen, lines = set(), []
        for r in session.execute(stmt).scalars():
            if (r.site_id, r.employer_id) in seen:
                continue
            seen.add((r.site_id, r.employer_id))
            lines.append([str(r.site), structure.tier_of(session, r.site_id, r.employer_id), r.employer.employer_id,
                          r.employer.name, "", "登録済"])
    else:
        lines = [[str(ln.site), ln.tier, ln.lower_employer.employer_id, ln.lower_employer.name, ln.upper_employer.name,
                  ln.status] for ln in links(session, viewer, params.site)]
    return Output(columns=COLUMNS, rows=lines, total=len(lines), subtitle=f"{len(lines)}件")


REPORT = register(Report(id="3-3", title="施工体制登録事業者一覧", parties=(WORKER, PRIME, UPPER), filters=("site",),
                         build=build, note="技能者は自社のみ。"))
