"""Guards for Flask-AppBuilder's list screens against hostile query values: FAB answers a sort by an unknown column
(KeyError) and an action_post with an unknown or empty action (AttributeError) with a 500; a bulk action the
view does not offer the principal (``offered_actions``) is refused with 403. The portal's own model
views (portal.views.base.PortalModelView) and FAB's security screens (roles, users, groups, permissions) both use
them."""
from __future__ import annotations

from flask import abort, request
from flask_appbuilder import expose

from portal.app import errors


class ListGuards:
    def _get_list_widget(self, filters, order_column="", order_direction="", **kwargs):
        if order_column not in self.order_columns:  # only what the list offers (not a property, not a hidden column)
            order_column, order_direction = "", ""
        if order_direction not in ("", "asc", "desc"):
            order_direction = "asc"
        return super()._get_list_widget(filters, order_column=order_column, order_direction=order_direction, **kwargs)

    action_refusal: tuple | None = None  # (code, Japanese message) of the 403 for an action not offered

    def offered_actions(self) -> dict:
        """The bulk actions offered to the principal (a view narrows them to what its scope may run): the list
        shows only these, and action_post refuses the others."""
        return self.actions

    @expose("/action_post", methods=["POST"])  # an override without it takes FAB's route away (the bulk actions 404)
    def action_post(self):
        name = request.form.get("action")
        if name not in self.actions:
            abort(400)  # the Japanese 400 page: no such action on this list
        if name not in self.offered_actions():
            abort(errors.error_response(403, *(self.action_refusal or ())))  # Japanese: an action it may not run
        return super().action_post()


def guarded(view_class):
    """``view_class`` with the guards, under the same class name: FAB derives the endpoint and the permission
    names from it, so menus, url_for and the roles' permissions stay as they are."""
    return type(view_class.__name__, (ListGuards, view_class), {"__module__": __name__})
