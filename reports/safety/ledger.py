"""AZ1 施工体制台帳 (全建統一様式第3号) and AZ3 施工体制台帳（工事担当技術者）.

AZ1: one sheet per first-tier subcontractor (forms.md §1.3): left the 作成建設業者 (the prime: its licence, its
contract with the 発注者, 監督員, 現場代理人, 監理技術者 and 補佐, 専門技術者), right 《下請負人に関する事項》, the
first-tier company as its 再下請負通知書 states it (reports.safety.notice._company: the same lines, one code).
With no subcontractor, one sheet whose right half reads 下請負契約なし. Viewer rule (the seed's table): the prime
(the whole 台帳) and a first-tier company (its own sheet); nobody else.

AZ3 (NOT FOUND as a sheet description, forms.md §1.4; the inference made configurable by being one list): the
technical staff the 台帳 requires — 監理技術者 / 主任技術者 (専任・非専任, 資格), 監理技術者補佐, 専門技術者 (資格,
担当工事内容), 登録基幹技能者 — for every company on the viewer's branch (AZ2–AZ4: the prime the whole tree,
every other company its own branch), in the tree's order.

Values are read under the viewer's row scope, like AZ5: a company's private registration reads 非開示 to others.
"""
from __future__ import annotations

import datetime

from sqlalchemy import select

from portal.app.errors import DomainError
from portal.models import Employer, Site, StructureLink
from portal.models.safety import SafetySubmission, SiteContract, SiteStaff
from portal.people.scoping import using_scope
from reports.base import Viewer
from reports.safety import submission, tree
from reports.safety.notice import ROLES as SUB_ROLES
from reports.safety.notice import Notice, _company
from reports.safety.sheet import Sheet

TITLE = "施工体制台帳"
FORM = "全建統一様式第3号"
PRIME_ROLES = ("監督員", "現場代理人", "監理技術者", "監理技術者補佐", "専門技術者", "元方安全衛生管理者", "統括安全衛生責任者")
ENGINEERS_TITLE = "施工体制台帳（工事担当技術者）"
ENGINEERS_FORM = "CCUS AZ3"
ENGINEER_ROLES = ("監理技術者", "監理技術者補佐", "主任技術者", "専門技術者", "登録基幹技能者")


def _refused(title: str, who: str) -> DomainError:
    return DomainError("form_not_allowed", f"「{title}」を出力する権限がありません（出力できる者: {who}）。", 403)


def build(session, viewer: Viewer, site_id: int, day: datetime.date) -> Notice:
    scope = viewer.scope
    with using_scope(session, scope):
        site = session.get(Site, site_id)
        if site is None:
            raise DomainError("site_not_found", "現場が見つかりません。", 404)
        firsts = [l.lower_employer_id for l in sorted(session.execute(select(StructureLink).where(
            StructureLink.site_id == site_id, StructureLink.status == "承認済",
            StructureLink.upper_employer_id == site.prime_employer_id)).scalars(), key=lambda l: l.id)
            if l.ended_on is None or l.ended_on >= day]
        if scope.is_all or site_id in scope.prime_site_ids:
            shown = firsts
        elif scope.kind == "employer" and scope.employer_id in firsts and site_id in scope.participating_site_ids:
            shown = [scope.employer_id]  # a first-tier company: its own sheet
        else:
            raise _refused(TITLE, "元請、一次下請負業者")
        prime = session.get(Employer, site.prime_employer_id)
        contract = session.execute(select(SiteContract).where(
            SiteContract.site_id == site_id, SiteContract.employer_id == site.prime_employer_id)).scalar_one_or_none()
        agent = session.execute(select(SiteStaff.person_name).where(
            SiteStaff.site_id == site_id, SiteStaff.employer_id == site.prime_employer_id,
            SiteStaff.role == "現場代理人")).scalars().first() or site.site_agent or ""
        own = _company(session, site_id, site.prime_employer_id, PRIME_ROLES)
        sheets = [(session.get(Employer, e).name, _first_tier_half(session, site_id, e)) for e in shown]
    period = tree._period(contract)
    head = [("会社名・事業者ID", f"{prime.name}（{prime.employer_id}）"), ("事業所名・現場ID", f"{site.name}（{site.site_id}）"),
            ("発注者名", site.client_name or ""), ("工事名称", site.name), ("工期", period),
            ("発注者との契約日", f"{contract.contracted_on:%Y/%m/%d}" if contract and contract.contracted_on else ""),
            ("作成日", f"{day:%Y/%m/%d}")]
    return Notice(site_name=site.name, site_code=site.site_id, prime=f"{prime.name}（{prime.employer_id}）",
                  site_agent=agent, orderer=site.client_name or "", day=day, changed_on=None, own=own, sheets=sheets,
                  title=TITLE, form=FORM, left="《作成建設業者に関する事項》", right="《下請負人に関する事項》",
                  none_below="下請負契約なし", head=head)


def _first_tier_half(session, site_id: int, employer_id: int) -> list:
    """《下請負人に関する事項》: the first-tier company's half of its approved 再下請負通知書 (frozen at approval:
    what it submitted, its own registration included), else what the viewer's scope reads of it today."""
    row = session.execute(select(SafetySubmission).where(
        SafetySubmission.site_id == site_id, SafetySubmission.employer_id == employer_id,
        SafetySubmission.form == "AZ5")).scalar_one_or_none()
    frozen = submission.approved(row)
    if frozen is None:
        return [("再下請負通知書", "未承認（現在の登録内容）")] + _company(session, site_id, employer_id, SUB_ROLES)
    return [("再下請負通知書", f"承認済（{row.snapshot_day:%Y/%m/%d}）")] + list(frozen.own)


def engineers(session, viewer: Viewer, site_id: int, day: datetime.date) -> Sheet:
    """AZ3: the technical staff of every company on the viewer's branch, in the tree's order."""
    t = tree.build(session, viewer, site_id, day)  # the viewer rule of AZ2–AZ4 and the branch's order
    ids = [b.employer_id for b in t.boxes]
    with using_scope(session, viewer.scope):
        staff: dict[int, list] = {}
        for s in session.execute(select(SiteStaff).where(
                SiteStaff.site_id == site_id, SiteStaff.employer_id.in_(ids), SiteStaff.role.in_(ENGINEER_ROLES))
                .order_by(SiteStaff.id)).scalars():
            staff.setdefault(s.employer_id, []).append(s)
    rows = []
    for b in t.boxes:
        people = sorted(staff.get(b.employer_id, []), key=lambda s: ENGINEER_ROLES.index(s.role))
        for s in people or [None]:
            rows.append([f"{b.name}（{b.code}）", tree.TIER_LABELS[b.tier] if b.tier < len(tree.TIER_LABELS) else f"{b.tier}次",
                         s.role if s else "（登録なし）", s.person_name if s else "",
                         ("専任" if s.full_time else "非専任") if s and s.role in ("監理技術者", "主任技術者") else "",
                         (s.qualification or "") if s else "", (s.work_scope or "") if s else ""])
    return Sheet(title=ENGINEERS_TITLE, form=ENGINEERS_FORM,
                 head=[("事業所名・現場ID", f"{t.site_name}（{t.site_code}）"), ("元請名・事業者ID", t.prime),
                       ("発注者名", t.client), ("工期", t.period), ("作成日", f"{day:%Y/%m/%d}")],
                 columns=[("会社名・事業者ID", 34), ("次", 6), ("役割", 16), ("氏名", 18), ("専任・非専任", 10),
                          ("資格内容", 28), ("担当工事内容", 24)],
                 rows=rows, per_page=25, file_name=f"工事担当技術者_{t.site_code}_{day:%Y%m%d}")
