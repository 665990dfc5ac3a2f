"""Who may produce which safety form, as plain functions over a scope (the seed's AZ table)."""
from __future__ import annotations

from portal.app.errors import DomainError
from portal.people.scoping import Scope


def branch_of(scope: Scope, site_id: int) -> frozenset:
    """The companies at or below the viewer on one site (the prime: the whole tree); empty if not on the site."""
    return dict(scope.lower_by_site).get(site_id, frozenset())


def check_company(scope: Scope, site_id: int, employer_id: int, title: str) -> None:
    """AZ5–AZ7 (and the per-company 名簿): the prime of the site, the company itself, an upper company for the
    companies below it on that site; a 現場管理者 the same on its assigned sites. Nobody else, no worker."""
    if scope.is_all:
        return
    if scope.kind == "employer" and employer_id in branch_of(scope, site_id):
        return
    raise DomainError("form_not_allowed", f"「{title}」を出力する権限がありません（出力できる者: 元請、当該下請負業者、"
                                          f"その上位の下請負業者）。", 403)
