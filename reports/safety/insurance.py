"""AZ7 社会保険加入状況 (the former 全建統一様式第5号-別紙, merged into the 名簿 since 改訂5版; CCUS prints it on its
own): the workers of one company on one site in the order of its 作業員名簿, with the 健康保険 and 年金保険 by name,
the 雇用保険 as its 区分 or the last 4 digits of the 被保険者番号, and 建退共・中退共 (forms.md §1.5).

The rows are the 名簿's own (reports.safety.roster.build): the same viewer rule (AZ5–AZ7), the same cells
through may_see (非開示 where the viewer may not see the 社会保険 item), the same privacy (no 健康保険 記号・番号, no
基礎年金番号, only the last 4 digits of the 雇用保険 number exist to print).
"""
from __future__ import annotations

import datetime

from reports.base import Viewer
from reports.safety import roster
from reports.safety.sheet import Sheet

TITLE = "社会保険加入状況"
FORM = "全建統一様式第5号-別紙（CCUS AZ7）"
KEYS = ("number", "name", "worker_code", "health_insurance", "pension", "employment", "kentaikyo", "chutaikyo")
COLUMNS = [("番号", 5), ("氏名", 20), ("技能者ID", 17), ("健康保険（名称）", 20), ("年金保険（名称）", 16),
           ("雇用保険（被保険者番号の下4桁）", 18), ("建退共", 8), ("中退共", 8)]
NOTE = ("健康保険欄は名称（健康保険組合・協会けんぽ・建設国保・国民健康保険）、年金保険欄は名称、雇用保険欄は被保険者番号の"
        "下4けた（日雇は「日雇保険」、事業主等は「適用除外」）。健康保険の記号・番号、基礎年金番号は記載しない。")


def build(session, viewer: Viewer, site_id: int, employer_id: int, day: datetime.date) -> Sheet:
    r = roster.build(session, viewer, site_id, employer_id, day, TITLE)
    return Sheet(title=TITLE, form=FORM, head=roster.header_lines(r), columns=COLUMNS,
                 rows=[[w[k] for k in KEYS] for w in r.workers], per_page=roster.PER_PAGE, note=NOTE,
                 file_name=f"社会保険加入状況_{r.site_code}_{r.company_code}_{day:%Y%m%d}", worker_pks=r.worker_pks)
