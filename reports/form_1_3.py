"""1-3 所属技能者統計情報 (技能者、所属事業主、元請、上位下請): how many current workers a company has, by main
職種 and 技能レベル. Counts only (no worker is named), so they are counted on the tables for a company the
viewer can see in its scope (its own, or one in its sites' structure; a worker: its employers)."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.app.errors import DomainError
from portal.models import Affiliation, Employer, Trade, Worker, WorkerTrade
from reports import register
from reports.base import OWN_EMPLOYER, PRIME, UPPER, WORKER, Column, Output, Params, Report, Viewer

LEVELS = (1, 2, 3, 4)
COLUMNS = ([Column("職種(主たる職種)", width=28)] + [Column(f"レベル{n}", "int", width=9) for n in LEVELS]
           + [Column("計", "int", width=9)])


def employer_of(viewer: Viewer, params: Params) -> int:
    if params.employer is not None:
        if not viewer.scope.is_all and params.employer not in viewer.scope.employer_ids:
            raise DomainError("employer_not_visible", "この事業者の統計は出力できません。", 404)
        return params.employer
    if viewer.employer_id is not None:
        return viewer.employer_id
    own = sorted(viewer.scope.employer_ids)
    if not own:
        raise DomainError("employer_required", "事業者を選んでください。")
    return own[0]


def build(session, viewer: Viewer, params: Params) -> Output:
    employer_id = employer_of(viewer, params)
    w, a, wt, t = Worker.__table__, Affiliation.__table__, WorkerTrade.__table__, Trade.__table__
    # Reviewed Core statement: aggregates of one visible company, nothing of a person leaves it.
    counts = session.execute(
        select(t.c.major_name, t.c.minor_name, w.c.level, func.count(func.distinct(w.c.id)))
        .select_from(w.join(a, a.c.worker_id == w.c.id)
                     .outerjoin(wt, (wt.c.worker_id == w.c.id) & (wt.c.position == 1))
                     .outerjoin(t, t.c.id == wt.c.trade_id))
        .where(a.c.employer_id == employer_id, a.c.status == "承認済", w.c.withdrawn_at.is_(None))
        .group_by(t.c.major_name, t.c.minor_name, w.c.level)).all()
    table: dict[str, dict] = {}
    for major, minor, level, n in counts:
        label = f"{major}-{minor}" if major else "職種未登録"
        table.setdefault(label, dict.fromkeys(LEVELS, 0))[level] = n
    lines = [[label, *[by[n] for n in LEVELS], sum(by.values())] for label, by in sorted(table.items())]
    lines.append(["合計", *[sum(line[i + 1] for line in lines) for i in range(len(LEVELS))],
                  sum(line[-1] for line in lines)])
    name = session.execute(select(Employer.name).where(Employer.id == employer_id)).scalar() or ""
    return Output(columns=COLUMNS, rows=lines, total=len(lines), subtitle=name)


REPORT = register(Report(id="1-3", title="所属技能者統計情報", parties=(WORKER, OWN_EMPLOYER, PRIME, UPPER),
                         filters=("employer",), build=build, note="主たる職種・技能レベル別の所属技能者数。"))
