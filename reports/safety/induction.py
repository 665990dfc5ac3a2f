"""第7号 新規入場時等教育実施報告書: one company's 新規入場時教育 of one day on one site, 14 attendees a page
(forms.md §1.10). The attendees are the company's workers on the site whose roster row (施工体制技能者登録) has
that day as its 受入教育実施年月日, in the 名簿's order and with the 名簿's cells (reports.safety.roster.build: the
viewer rule of AZ5–AZ7, each name through may_see). The form asks the attendees to sign their names by hand
(「受講者に氏名を自筆させること」): the printed name is for finding one's line, the signature column stays blank, as
do the lines the 講師 fills in (実施場所, 時刻, 方法, 内容, 資料).
"""
from __future__ import annotations

import datetime

from sqlalchemy import select

from portal.models.safety import SiteStaff
from portal.people.scoping import using_scope
from reports.base import Viewer
from reports.safety import roster
from reports.safety.sheet import Sheet

TITLE = "新規入場時等教育実施報告書"
FORM = "全建統一様式第7号"
PER_PAGE = 14
COLUMNS = [("番号", 5), ("氏名（印字）", 22), ("技能者ID", 17), ("職種", 16), ("受講者氏名（自筆）", 30)]
FILL_IN = ["実施場所", "開始・終了時刻（時間数）", "教育方法", "教育内容", "講師（会社名・氏名）", "資料"]


def build(session, viewer: Viewer, site_id: int, employer_id: int, held_on: datetime.date,
          today: datetime.date) -> Sheet:
    r = roster.build(session, viewer, site_id, employer_id, today, TITLE)
    with using_scope(session, viewer.scope):
        agent = session.execute(select(SiteStaff.person_name).where(
            SiteStaff.site_id == site_id, SiteStaff.employer_id == employer_id,
            SiteStaff.role == "現場代理人")).scalars().first() or ""
    attendees = [(pk, w) for pk, w in zip(r.order, r.workers) if w["entry_education_on"] == held_on]
    rows = [[n, w["name"], w["worker_code"], w["trade"], None] for n, (_pk, w) in enumerate(attendees, start=1)]
    head = [("提出日", f"{today:%Y/%m/%d}"), ("作業所名・現場ID", f"{r.site_name}（{r.site_code}）"),
            ("作業所長", f"{r.site_agent} 殿"), ("会社名・事業者ID", f"{r.company}（{r.company_code}）"),
            ("現場代理人", agent), ("教育の種類", "新規入場時"), ("実施日", f"{held_on:%Y/%m/%d}")]
    return Sheet(title=TITLE, form=FORM, head=head, columns=COLUMNS, rows=rows, per_page=PER_PAGE,
                 footer=[(label, "") for label in FILL_IN], worker_pks={pk for pk, _w in attendees},
                 file_name=f"新規入場時等教育実施報告書_{r.site_code}_{r.company_code}_{held_on:%Y%m%d}")
