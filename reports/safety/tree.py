"""AZ2 工事作業所災害防止協議会兼施工体系図 (全建統一様式第4号): the site's companies as a tree, laid out in Python
(forms.md §1.6, kensuma's rule): a depth-first walk where every leaf takes one row and a parent stands on the
first row of its subtree; a column per tier (元請, 1次, 2次 …). The Excel draws the boxes and lines with cell
borders (openpyxl cannot keep shapes), the PDF is an SVG of the same layout (reports.safety.tree_files).

Viewer rule (AZ2–AZ4): the prime sees the whole tree of its site; every other company its own branch (itself
and the companies below it; the prime's name heads the sheet). Only approved (承認済), not ended links are on the
tree. Each box prints what the viewer's row scope reads: the company (the public directory), its 建設業許可
(public), and its contract and persons on the site (SiteContract, SiteStaff: the viewer's branch).
"""
from __future__ import annotations

import dataclasses
import datetime
import re

from sqlalchemy import select

from portal.app.errors import DomainError
from portal.models import Employer, Site, StructureLink
from portal.models.safety import APPROVED, ConstructionLicense, SafetySubmission, SiteContract, SiteStaff
from portal.people.scoping import using_scope
from reports.base import Viewer
from reports.safety import REVISION, submission
from reports.safety.rules import branch_of

TITLE = "工事作業所災害防止協議会兼施工体系図"
FORM = "全建統一様式第4号"
TIER_LABELS = ["元請", "1次", "2次", "3次", "4次", "5次", "6次", "7次", "8次", "9次"]


@dataclasses.dataclass
class Box:
    employer_id: int
    name: str
    code: str  # 事業者ID
    tier: int
    parent: int | None  # the upper company's employer pk
    lines: list  # the box's text lines after the name
    row: int = 0  # leaf-row of the layout
    children: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Tree:
    site_name: str
    site_code: str
    prime: str
    client: str
    period: str
    day: datetime.date
    boxes: list  # in depth-first order
    rows: int  # leaf rows
    revision: str = REVISION
    title: str = TITLE  # the same drawing serves the 下請負業者編成表 (build's ``root_id``)
    form: str = FORM
    version: str = ""  # SUBMITTED_VERSION when drawn from the approved 通知書

    @property
    def tiers(self) -> int:
        return max((b.tier for b in self.boxes), default=0) + 1

    def edges(self) -> set:
        return {(b.parent, b.employer_id) for b in self.boxes if b.parent is not None}


def _period(contract) -> str:
    if contract is None or contract.period_start is None:
        return ""
    end = f"{contract.period_end:%Y/%m/%d}" if contract.period_end else ""
    return f"{contract.period_start:%Y/%m/%d}〜{end}"


def layout(boxes: dict, root: int) -> list:
    """Depth-first order from ``root``, setting each box's leaf row: a leaf takes the next row; a parent the row
    its first leaf will take (nothing is placed between a parent and its first descendant). Iterative: a deep
    tree cannot exhaust the stack."""
    order, next_row, stack = [], 0, [root]
    while stack:
        box = boxes[stack.pop()]
        order.append(box)
        box.row = next_row
        if box.children:
            stack.extend(reversed(box.children))
        else:
            next_row += 1
    return order


LINEUP_TITLE = "下請負業者編成表"
LINEUP_FORM = "全建統一様式第1号-乙"


def build(session, viewer: Viewer, site_id: int, day: datetime.date, root_id: int | None = None,
          submitted: bool = False) -> Tree:
    """The tree of the viewer's branch; with ``root_id``, AZ4 下請負業者編成表: the branch of that first-tier
    company (the prime may ask for any, a first-tier company for itself). ``submitted``: the version assembled
    from the approved 再下請負通知書 (:func:`from_snapshots`), not from today's data."""
    scope = viewer.scope
    with using_scope(session, scope):
        site = session.get(Site, site_id)
        if site is None or (not scope.is_all and not branch_of(scope, site_id)):
            raise DomainError("form_not_allowed", f"「{TITLE}」を出力する権限がありません（出力できる者: 元請、各社は自社の系列）。", 403)
        root = site.prime_employer_id if scope.is_all or site_id in scope.prime_site_ids else scope.employer_id
        if root_id is not None:
            first = session.execute(select(StructureLink.id).where(
                StructureLink.site_id == site_id, StructureLink.status == "承認済", StructureLink.ended_on.is_(None),
                StructureLink.upper_employer_id == site.prime_employer_id,
                StructureLink.lower_employer_id == root_id)).first()
            if first is None or not (scope.is_all or root_id in branch_of(scope, site_id)):
                raise DomainError("form_not_allowed", f"「{LINEUP_TITLE}」を出力する権限がありません（出力できる者: 元請、"
                                                      f"当該一次下請負業者）。", 403)
            root = root_id
        links = session.execute(select(StructureLink).where(
            StructureLink.site_id == site_id, StructureLink.status == "承認済")).scalars().all()
        links = [l for l in links if l.ended_on is None or l.ended_on >= day]
        children: dict[int, list] = {}
        parent_of: dict[int, int] = {}
        for l in sorted(links, key=lambda l: l.id):
            if l.lower_employer_id not in parent_of:
                children.setdefault(l.upper_employer_id, []).append(l.lower_employer_id)
                parent_of[l.lower_employer_id] = l.upper_employer_id
        members, todo = [root], [root]
        while todo:  # the viewer's branch: root and everything below it
            for child in children.get(todo.pop(), []):
                if child not in members:
                    members.append(child)
                    todo.append(child)
        employers = {e.id: e for e in session.execute(select(Employer).where(Employer.id.in_(members))).scalars()}
        licences: dict[int, list] = {}
        for lic in session.execute(select(ConstructionLicense).where(ConstructionLicense.employer_id.in_(members))
                                   .order_by(ConstructionLicense.id)).scalars():
            licences.setdefault(lic.employer_id, []).append(lic.text)
        contracts = {c.employer_id: c for c in session.execute(select(SiteContract).where(
            SiteContract.site_id == site_id, SiteContract.employer_id.in_(members))).scalars()}
        staff: dict[int, list] = {}
        for s in session.execute(select(SiteStaff).where(SiteStaff.site_id == site_id, SiteStaff.employer_id.in_(members))
                                 .order_by(SiteStaff.id)).scalars():
            staff.setdefault(s.employer_id, []).append(s)
        prime = session.get(Employer, site.prime_employer_id)
        prime_contract = contracts.get(site.prime_employer_id)
        frozen = from_snapshots(session, site_id, site.prime_employer_id, root, children) if submitted else None
    if frozen is not None:
        children, parent_of, members, snapshot_lines = frozen
        with using_scope(session, scope):
            employers |= {e.id: e for e in session.execute(select(Employer).where(
                Employer.id.in_([m for m in members if m not in employers]))).scalars()}
    tiers = {root: 0 if root == site.prime_employer_id else _tier_of(root, parent_of, site.prime_employer_id)}
    boxes = {}
    # the 編成表's boxes name the 登録基幹技能者 too (forms.md §1.6)
    roles = ("現場代理人", "監理技術者", "主任技術者", "専門技術者", "安全衛生責任者") + (("登録基幹技能者",) if root_id else ())
    for employer_id in members:
        parent = parent_of.get(employer_id) if employer_id != root else None
        tier = tiers[employer_id] if parent is None else tiers[parent] + 1
        tiers[employer_id] = tier
        e, c = employers[employer_id], contracts.get(employer_id)
        lines = ["許可 " + "、".join(licences.get(employer_id, [])) if licences.get(employer_id) else "許可 —"]
        if c is not None and c.work_content:
            lines.append(f"工事内容 {c.work_content}" + ("（特定専門工事）" if c.specialty_work else ""))
        for person in staff.get(employer_id, []):
            if person.role in roles:
                lines.append(f"{person.role} {person.person_name}" + ("（専任）" if person.full_time else ""))
        if _period(c):
            lines.append(f"工期 {_period(c)}")
        if frozen is not None and employer_id != site.prime_employer_id:  # the prime's own box is its own data
            lines = snapshot_lines[employer_id]
        boxes[employer_id] = Box(employer_id, e.name, e.employer_id, tier, parent, lines,
                                 children=list(children.get(employer_id, [])))
    order = layout(boxes, root)
    titles = {} if root_id is None else {"title": LINEUP_TITLE, "form": LINEUP_FORM}
    if submitted:
        titles["version"] = SUBMITTED_VERSION
    return Tree(**titles, site_name=site.name, site_code=site.site_id, prime=f"{prime.name}（{prime.employer_id}）",
                client=site.client_name or "", period=_period(prime_contract), day=day, boxes=order,
                rows=max((b.row for b in order), default=0) + 1)


SUBMITTED_VERSION = "提出版（承認済の再下請負通知書から作成）"
NOT_APPROVED = "再下請負通知書 未承認"
BOX_ROLES = ("現場代理人", "監理技術者", "主任技術者", "専門技術者", "安全衛生責任者")
CODE_IN_NAME = re.compile(r"（(\d{14})）$")  # 「会社名（事業者ID）」 of a 通知書's line


def _snapshot_lines(own: list, approved_on: datetime.date) -> list:
    """A box's lines from the 《自社に関する事項》 the company submitted (reports.safety.notice._company)."""
    values = [(label, value) for label, value in own if value]
    lines = ["許可 " + "、".join(v for l, v in values if l == "建設業の許可") if any(l == "建設業の許可" for l, _v in values)
             else "許可 —"]
    lines += [f"工事内容 {v}" for l, v in values if l == "工事名称及び工事内容"]
    lines += [f"{l} {v}" for l, v in values if l in BOX_ROLES]
    lines += [f"工期 {v}" for l, v in values if l == "工期" and v != "〜"]
    return lines + [f"再下請負通知書 承認済（{approved_on:%Y/%m/%d}）"]


def from_snapshots(session, site_id: int, prime_id: int, root: int, live_children: dict):
    """The tree as the approved 再下請負通知書 (AZ5 snapshots) tell it, as the viewer's scope reads them: the prime's
    first tier from its own contracts (the live structure), below that each company's subcontractors as its
    approved 通知書 names them, each box's lines from what the company submitted. A company without an approved
    通知書 is drawn as such, with nothing below it. Returns (children, parent_of, members, lines by company)."""
    rows = {r.employer_id: r for r in session.execute(select(SafetySubmission).where(
        SafetySubmission.site_id == site_id, SafetySubmission.form == "AZ5",
        SafetySubmission.status == APPROVED)).scalars()}
    notices = {e: submission.approved(r) for e, r in rows.items()}
    named = {e: [m.group(1) for _name, sheet in n.sheets if (m := CODE_IN_NAME.search(dict(sheet).get("会社名・事業者ID", "")))]
             for e, n in notices.items()}
    wanted = {c for found in named.values() for c in found}
    codes = dict(session.execute(select(Employer.employer_id, Employer.id).where(Employer.employer_id.in_(wanted))).all()) \
        if wanted else {}
    children, parent_of, lines, members, todo = {}, {}, {}, [root], [root]
    while todo:
        upper = todo.pop()
        if upper == prime_id:
            below = list(live_children.get(prime_id, []))
        elif upper not in notices:
            below, lines[upper] = [], [NOT_APPROVED]
        else:
            lines[upper] = _snapshot_lines(notices[upper].own, rows[upper].snapshot_day)
            below = [codes[c] for c in named[upper] if c in codes]
        for child in below:
            if child not in parent_of and child not in members:
                children.setdefault(upper, []).append(child)
                parent_of[child] = upper
                members.append(child)
                todo.append(child)
    return children, parent_of, members, lines


def _tier_of(employer_id: int, parent_of: dict, prime_id: int) -> int:
    tier, current, seen = 0, employer_id, set()
    while current != prime_id and current in parent_of and current not in seen:
        seen.add(current)
        current = parent_of[current]
        tier += 1
    return tier
