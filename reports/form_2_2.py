"""2-2 就業履歴一覧(月別集約) (所属事業主、元請、上位下請): 2-4's lines summed per worker and site, with 就業内容
(職種・立場・作業内容・有害物質の取扱い) and 社会保険加入状況 (through the disclosure rule)."""
from __future__ import annotations

from portal.output import work_calendar
from reports import register
from reports.base import OWN_EMPLOYER, PRIME, UPPER, Column, Output, Params, Report, Viewer
from reports.form_2_4 import default_employer
from reports.items import Items, insurance_of, insurance_text

COLUMNS = ([Column("技能者ID", width=16), Column("技能者名", width=14), Column("現場", width=26),
            Column("元請事業者", width=16), Column("計上・非計上", width=8)]
           + [Column(label, "int", width=10) for label in work_calendar.COLUMNS.values()]
           + [Column("職種", width=16), Column("立場", width=6), Column("作業内容", width=16),
              Column("有害物質の取扱い・有害業務への従事", width=8), Column("健康保険", width=8), Column("年金保険", width=8),
              Column("雇用保険", width=8)])


def build(session, viewer: Viewer, params: Params) -> Output:
    employer_id = default_employer(viewer, params)
    lines = work_calendar.employer_month(session, params.year, params.month, employer_id=employer_id,
                                         site_id=params.site)
    ids = {r.worker.id for r in lines}
    items, shown, insured = Items(session, viewer, ids), set(), insurance_of(session, ids)

    def rows():
        for r in lines:
            shown.add(r.worker.id)
            insurance = [items.cell(r.worker.id, "social_insurance", v) for v in insurance_text(insured.get(r.worker.id))]
            yield ([r.worker.worker_id, r.worker.name, r.site_label, r.prime_label, r.label]
                   + [r.counts[k] for k in work_calendar.COLUMNS]
                   + [r.trade, r.position, r.work_content, "有" if r.hazardous else "無"] + insurance)

    return Output(columns=COLUMNS, rows=rows(), total=len(lines), workers=shown,
                  subtitle=f"{params.year}年{params.month}月")


REPORT = register(Report(
    id="2-2", title="就業履歴一覧(月別集約)", parties=(OWN_EMPLOYER, PRIME, UPPER), filters=("month", "site", "employer"),
    build=build, note="日毎の就業履歴を月別に集約、就業内容(職種・立場・作業内容・有害物質取り扱い状況)、保険加入状況。"))
