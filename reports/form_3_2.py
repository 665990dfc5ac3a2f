"""3-2 下位事業者一覧 (元請、上位下請): the companies below the viewer in each site's structure (施工体制),
from the structure links the viewer's scope shows (the prime: the whole tree; an upper sub: its branch)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.models import StructureLink
from reports import register
from reports.base import PRIME, UPPER, Column, Output, Params, Report, Viewer

COLUMNS = [Column("現場", width=28), Column("次数", "int", width=6), Column("上位事業者", width=22),
           Column("下位事業者ID", width=16), Column("下位事業者名", width=22), Column("状態", width=8),
           Column("担当工事内容", width=22), Column("承認日時", "datetime", width=16)]


def links(session, viewer: Viewer, site_id: int | None):
    stmt = (select(StructureLink).options(selectinload(StructureLink.site), selectinload(StructureLink.upper_employer),
                                          selectinload(StructureLink.lower_employer))
            .order_by(StructureLink.site_id, StructureLink.tier, StructureLink.id))
    if site_id is not None:
        stmt = stmt.where(StructureLink.site_id == site_id)
    return session.execute(stmt).scalars().all()


def build(session, viewer: Viewer, params: Params) -> Output:
    below = dict(viewer.scope.lower_by_site)
    found = [ln for ln in links(session, viewer, params.site)
             if viewer.scope.is_all or (ln.lower_employer_id != viewer.employer_id
                                        and ln.upper_employer_id in below.get(ln.site_id, ()))]
    lines = [[str(ln.site), ln.tier, ln.upper_employer.name, ln.lower_employer.employer_id, ln.lower_employer.name,
              ln.status, ln.work_scope or "", ln.approved_at] for ln in found]
    return Output(columns=COLUMNS, rows=lines, total=len(lines), subtitle=f"{len(lines)}件")


REPORT = register(Report(id="3-2", title="下位事業者一覧", parties=(PRIME, UPPER), filters=("site",), build=build))
