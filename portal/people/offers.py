"""What a screen offers a principal: menu entries and the edit/delete buttons of rows follow the same rules as
the writes (portal.people.scoping), so nothing is offered that then fails. Permissions (portal.people.security) still decide
what a role may open at all; this narrows the menu to what the principal's scope can use:
- a worker's menu holds what a worker uses (its portal, calendar, correction requests, disclosure, its QR
  code, its reports); the other screens it may read stay reachable from its portal, not from the menu;
- the site board and the device screens only for a prime contractor (or an assigned 現場管理者);
- a row's edit and delete buttons only where :func:`portal.people.scoping.may_write` holds;
- a list's add button (and its add form) only where :func:`portal.people.scoping.may_add` holds: some row the
  principal could fill in passes the same write rule;
- a list's bulk actions only where the view's ``offered_actions`` (portal.app.list_guards) keeps them."""
from __future__ import annotations

from portal.app.db import db
from portal.people.scoping import current_scope, leads_a_site, may_add as scope_may_add, may_write

WORKER_MENU = frozenset({"技能者メニュー", "就業履歴カレンダー", "直接入力・事後補正の申請", "開示設定", "私のQRコード",
                         "帳票出力"})
SITE_LEADER_MENU = frozenset({"現場ボード", "入退場デバイス", "入退場デバイスの登録・失効", "現場管理者の割当"})


def menu_offered(scope, name: str) -> bool:
    """Does the menu entry ``name`` (its plain Japanese name) belong in this principal's menu?"""
    if scope.kind == "worker":
        return name in WORKER_MENU
    if name in SITE_LEADER_MENU:
        return leads_a_site(scope)
    return True


def may_change(item, deleting: bool = False) -> bool:
    """May the request's principal edit (``deleting``: delete) this row? The list's buttons and the edit and
    delete URLs (portal.views.base) both ask this."""
    return may_write(current_scope(db.session), item, deleting=deleting)


def may_add(model) -> bool:
    """May the request's principal add a row of ``model``? The list's add button and the add URL
    (portal.views.base) both ask this."""
    return scope_may_add(current_scope(db.session), model)


def row_buttons(item) -> dict:
    """The edit and delete buttons a list row may show (the template hides the others)."""
    return {"_ccus_edit": may_change(item), "_ccus_delete": may_change(item, deleting=True)}


def install(appbuilder) -> None:
    """Attach the rule to every menu entry (after all views and plugins registered theirs); a category is
    shown when one of its entries is."""
    def entry(name):
        return lambda: menu_offered(current_scope(db.session), name)

    def category(item):
        return lambda: any(child.should_render() for child in item.childs if child.name != "-")

    for item in appbuilder.menu.get_list():
        for child in item.childs:
            child.cond = entry(child.name)
        item.cond = category(item) if item.childs else entry(item.name)
