"""2-4 就業履歴一覧(月別カレンダー): an employer's workers in one month, optionally at one site
(所属事業主、元請、上位下請). The lines are those of 2-3, one block per worker."""
from __future__ import annotations

from portal.output import work_calendar
from reports import calendar, register
from reports.base import OWN_EMPLOYER, PRIME, UPPER, Output, Params, Report, Viewer


def default_employer(viewer: Viewer, params: Params) -> int | None:
    """The 事業者責任者's own company unless another is chosen; a 現場管理者 lists its sites' companies."""
    if params.employer is not None:
        return params.employer
    return viewer.employer_id if viewer.role == "Employer" else None


def build(session, viewer: Viewer, params: Params) -> Output:
    employer_id = default_employer(viewer, params)
    rows = work_calendar.employer_month(session, params.year, params.month, employer_id=employer_id,
                                        site_id=params.site)
    workers: set = set()
    names = []
    if employer_id is not None:
        from portal.models import Employer

        employer = session.get(Employer, employer_id)
        names.append(employer.name if employer is not None else "")
    if params.site is not None:
        labels = work_calendar.site_labels(session, [params.site])
        names.append(labels.get(params.site, ("", ""))[0])
    return Output(columns=calendar.columns(params), rows=calendar.lines(session, viewer, params, rows, workers),
                  total=len(rows) + 1, workers=workers,
                  subtitle="　".join([f"{params.year}年{params.month}月", *filter(None, names)]))


REPORT = register(Report(
    id="2-4", title="就業履歴一覧(月別カレンダー)", parties=(OWN_EMPLOYER, PRIME, UPPER),
    filters=("month", "site", "employer"), build=build, paper="A3",
    note="所属事業者の技能者ごとの月別カレンダー（現場で絞り込めます）。"))
