"""The list guards (portal.app.list_guards) on the portal's views and FAB's security screens: every list that offers
actions still answers its action_post (an override without FAB's route once took the bulk approvals away), an
unknown action is a 400 page and a sort by an unknown column falls back to the default order."""
from __future__ import annotations

from flask_appbuilder.baseviews import BaseCRUDView


def test_every_list_with_actions_keeps_its_action_post_route(demo_app):
    rules = {r.rule for r in demo_app.url_map.iter_rules()}
    with_actions = [v for v in demo_app.appbuilder.baseviews if isinstance(v, BaseCRUDView) and v.actions]
    assert any(v.__class__.__name__ == "WorkCorrectionView" for v in with_actions)
    missing = [v.__class__.__name__ for v in with_actions if f"{v.route_base}/action_post" not in rules]
    assert missing == []


def test_unknown_actions_and_sorts_are_answered_not_500(client_for):
    c, _ = client_for("admin")
    for base in ("/workcorrectionview", "/roles"):
        bad = c.post(f"{base}/action_post", data={"action": "no_such_action", "rowid": ["1"]})
        assert bad.status_code == 400, base
        assert "エラーコード" in bad.get_data(as_text=True)
    listed = c.get("/roles/list/?_oc_RoleModelView=no_such_column&_od_RoleModelView=sideways")
    assert listed.status_code == 200
