"""提出 → 承認 / 差戻し of the forms a subcontractor hands its upper company for a site (AZ5 再下請負通知書, AZ6
作業員名簿), as plain functions over a session (forms.md §3: kensuma's flow, Greenfile's versioning rule).

- :func:`submit`: the company itself, or the prime of the site acting for it (代行, recorded as such), once every
  company directly below it has its own form of that kind approved; a returned or approved form may be
  submitted again (a 変更届).
- :func:`decide`: the upper company approves, or returns it with a reason from :data:`RETURN_REASONS` and a free
  text; the prime may decide for any upper company of its site (代行, recorded).
- Approval freezes the snapshot: the form built as the company itself sees it (its own registration, its own
  workers' items) on the day of the approval. Until then a form always reflects the latest data; after it, an
  edit shows as a pending 変更届 (:func:`pending_change`) and the approved document does not move.
- The prime's 施工体制台帳 takes each first-tier company's half from its approved 通知書 (reports.safety.ledger).

The structure (who is above whom) is company facts and is read under a reviewed ALL scope, like the 名簿's
first-tier line; every submission row itself is read and written under the viewer's scope (its model's rule).
"""
from __future__ import annotations

import dataclasses
import datetime

from sqlalchemy import select

from portal.app.clock import TOKYO, now
from portal.app.errors import DomainError
from portal.models import Employer, StructureLink
from portal.models.safety import APPROVED, RETURN_REASONS, RETURNED, SUBMITTED, SafetySubmission
from portal.people.scoping import ALL, ROLE_EMPLOYER, employer_scope, using_scope
from reports.base import Viewer
from reports.safety import notice, roster

FORMS = {"AZ5": notice.TITLE, "AZ6": roster.TITLE}


def _form(form: str) -> str:
    if form not in FORMS:
        raise DomainError("unknown_form", f"提出できる書類ではありません（{form}）。", 404)
    return FORMS[form]


def _links(session, site_id: int) -> list:
    with using_scope(session, ALL):
        return [(l.upper_employer_id, l.lower_employer_id) for l in session.execute(select(StructureLink).where(
            StructureLink.site_id == site_id, StructureLink.status == "承認済", StructureLink.ended_on.is_(None))).scalars()]


def company_viewer(session, employer_id: int) -> Viewer:
    """The company itself as the viewer of its own form (what it submits)."""
    with using_scope(session, ALL):
        name = session.get(Employer, employer_id).name
    return Viewer(user_id=None, username="", display_name=name, role=ROLE_EMPLOYER,
                  scope=employer_scope(session, employer_id), employer_id=employer_id)


def _plain(value):
    """The form's data as JSON: dates tagged, tuples as lists (read back by :func:`_typed`)."""
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in (sorted(value) if isinstance(value, set) else value)]
    return value


def _typed(value):
    if isinstance(value, dict):
        if set(value) == {"$date"}:
            return datetime.date.fromisoformat(value["$date"])
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return value


def build_as_company(session, form: str, site_id: int, employer_id: int, day: datetime.date):
    viewer = company_viewer(session, employer_id)
    if form == "AZ5":
        return notice.build(session, viewer, site_id, employer_id, day)
    return roster.build(session, viewer, site_id, employer_id, day)


def _row(session, site_id: int, employer_id: int, form: str) -> SafetySubmission | None:
    return session.execute(select(SafetySubmission).where(
        SafetySubmission.site_id == site_id, SafetySubmission.employer_id == employer_id,
        SafetySubmission.form == form)).scalar_one_or_none()


def submit(session, viewer: Viewer, site_id: int, employer_id: int, form: str) -> SafetySubmission:
    title = _form(form)
    scope = viewer.scope
    links = _links(session, site_id)
    upper = next((u for u, l in links if l == employer_id), None)
    own = scope.kind == "employer" and scope.employer_id == employer_id and site_id in scope.participating_site_ids
    proxy = scope.kind == "employer" and site_id in scope.prime_site_ids and not own
    if not (own or proxy) or upper is None:
        raise DomainError("submission_not_allowed", f"「{title}」を提出できるのは、当該下請負業者（または元請の代行）です。", 403)
    with using_scope(session, scope):
        below = [l for u, l in links if u == employer_id]
        waiting = [b for b in below if (r := _row(session, site_id, b, form)) is None or r.status != APPROVED]
        if waiting:
            with using_scope(session, ALL):
                names = "、".join(session.get(Employer, b).name for b in waiting)
            raise DomainError("lower_not_approved", f"下位の会社の「{title}」が承認されていないため提出できません（{names}）。", 409)
        row = _row(session, site_id, employer_id, form)
        if row is not None and row.status == SUBMITTED:
            raise DomainError("already_submitted", f"「{title}」は提出済みです（上位会社の承認または差戻しを待っています）。", 409)
        if row is None:
            row = SafetySubmission(site_id=site_id, employer_id=employer_id, upper_employer_id=upper, form=form)
            session.add(row)
        row.upper_employer_id, row.status = upper, SUBMITTED
        row.submitted_at, row.submitted_by, row.submitted_by_proxy = now(), viewer.username, proxy
        row.decided_at = row.decided_by = row.return_reason = row.return_note = None
        row.decided_by_proxy = False
        session.commit()
    return row


def decide(session, viewer: Viewer, submission_id: int, approve: bool, reason: str | None = None,
           note: str | None = None) -> SafetySubmission:
    scope = viewer.scope
    with using_scope(session, scope):
        row = session.get(SafetySubmission, submission_id)
        if row is None:
            raise DomainError("submission_not_found", "提出された書類が見つかりません。", 404)
        title = _form(row.form)
        upper = scope.kind == "employer" and scope.employer_id == row.upper_employer_id
        proxy = scope.kind == "employer" and row.site_id in scope.prime_site_ids and not upper
        if not (upper or proxy) or scope.employer_id == row.employer_id:
            raise DomainError("decision_not_allowed", f"「{title}」を承認・差戻しできるのは提出先の上位会社（または元請）です。", 403)
        if row.status != SUBMITTED:
            raise DomainError("not_submitted", f"「{title}」は提出されていません（状態: {row.status}）。", 409)
        if not approve:
            if reason not in RETURN_REASONS:
                raise DomainError("invalid_return_reason", f"差戻し理由を選んでください（{'、'.join(RETURN_REASONS)}）。")
            if reason == "その他" and not (note or "").strip():
                raise DomainError("return_note_required", "差戻し理由が「その他」のときは補足を入力してください。")
        day = now().astimezone(TOKYO).date()
        if approve:
            made = build_as_company(session, row.form, row.site_id, row.employer_id, day)
            row.snapshot, row.snapshot_day = _plain(dataclasses.asdict(made)), day
        row.status = APPROVED if approve else RETURNED
        row.return_reason, row.return_note = (None, None) if approve else (reason, (note or "").strip()[:500] or None)
        row.decided_at, row.decided_by, row.decided_by_proxy = now(), viewer.username, proxy
        session.commit()
    return row


def approved(row: SafetySubmission | None):
    """The approved form (notice.Notice / roster.Roster) frozen in ``row``, or None."""
    if row is None or row.snapshot is None:
        return None
    data = _typed(row.snapshot)
    if row.form == "AZ5":
        data["own"] = [tuple(p) for p in data["own"]]
        data["sheets"] = [(name, [tuple(p) for p in lines]) for name, lines in data["sheets"]]
        return notice.Notice(**data)
    data["worker_pks"] = set(data["worker_pks"])
    return roster.Roster(**data)


def pending_change(session, row: SafetySubmission) -> list[str]:
    """What differs between the approved form and the data today (a 変更届 to submit), in Japanese."""
    frozen = approved(row)
    if frozen is None:
        return []
    current = build_as_company(session, row.form, row.site_id, row.employer_id, frozen.day)
    if row.form == "AZ5":
        before = [("自社", *p) for p in frozen.own] + [(n, *p) for n, lines in frozen.sheets for p in lines]
        after = [("自社", *p) for p in current.own] + [(n, *p) for n, lines in current.sheets for p in lines]
        return sorted({f"{who}の{label}" for who, label, _v in set(before) ^ set(after)})
    old = {w["worker_code"]: w for w in frozen.workers}
    new = {w["worker_code"]: w for w in current.workers}
    found = [f"追加: {new[c]['name']}" for c in new.keys() - old.keys()]
    found += [f"削除: {old[c]['name']}" for c in old.keys() - new.keys()]
    found += [f"変更: {new[c]['name']}" for c in new.keys() & old.keys()
              if {k: v for k, v in new[c].items() if k != "number"} != {k: v for k, v in old[c].items() if k != "number"}]
    return sorted(found)


def rows_of(session, scope, site_id: int) -> dict:
    """(employer pk, form) → its submission row, as the viewer's scope reads them."""
    with using_scope(session, scope):
        return {(r.employer_id, r.form): r for r in session.execute(
            select(SafetySubmission).where(SafetySubmission.site_id == site_id)).scalars()}
