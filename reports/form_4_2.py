"""4-2 自社に関する現場一覧 (元請、上位下請(元請の公開設定項目のみ)): the sites the viewer's company takes part in,
with its place in each structure (元請 / n次)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.people import structure
from portal.models import Site
from reports import register
from reports.base import PRIME, UPPER, Column, Output, Params, Report, Viewer

COLUMNS = [Column("現場ID", width=16), Column("現場名", width=26), Column("元請事業者", width=20),
           Column("自社の立場", width=10), Column("施工場所", width=20), Column("工事内容", width=20),
           Column("蓄積期間(開始)", "date", width=12), Column("蓄積期間(終了)", "date", width=12)]


def build(session, viewer: Viewer, params: Params) -> Output:
    sites = session.execute(select(Site).options(selectinload(Site.prime_employer)).order_by(Site.name)).scalars().all()
    lines = []
    for s in sites:
        tier = structure.tier_of(session, s.id, viewer.employer_id) if viewer.employer_id else None
        role = "元請" if tier == 0 else (f"{tier}次" if tier else "")
        lines.append([s.site_id, s.name, s.prime_employer.name if s.prime_employer else "", role, s.location or "",
                      s.work_content or "", s.accumulation_start, s.accumulation_end])
    return Output(columns=COLUMNS, rows=lines, total=len(lines), subtitle=f"{len(lines)}現場")


REPORT = register(Report(id="4-2", title="自社に関する現場一覧", parties=(PRIME, UPPER), filters=(), build=build))
