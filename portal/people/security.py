"""Roles, the security manager and the user ↔ employer/worker link.

Roles are declared in code (FAB builtin roles, regexes over view and permission names):
- Admin (システム管理者): everything;
- Employer (事業者責任者): everything of its employer, scoped by portal.people.scoping;
- SiteManager (現場管理者): the sites assigned to it;
- Worker (技能者): logs in with the 14-digit worker ID, sees only its own records.
Devices are not users: they authenticate with device API keys on their own routes (portal.views.api).
"""
from __future__ import annotations

import logging

from flask import current_app, g, jsonify, make_response, request
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import (
    PermissionModelView,
    PermissionViewModelView,
    RoleModelView,
    UserDBModelView,
    UserGroupModelView,
    ViewMenuModelView,
)
from flask_appbuilder.utils.limit import Limit
from flask_appbuilder.views import expose
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from portal.app.errors import JsonAnswers, token_answers
from portal.app.list_guards import ListGuards, guarded
from portal.models.users import PortalUser
from portal.people.scoping import ROLE_ADMIN, ROLE_EMPLOYER, ROLE_SITE_MANAGER, ROLE_WORKER

ROLE_LABELS = {
    ROLE_ADMIN: "システム管理者",
    ROLE_EMPLOYER: "事業者責任者",
    ROLE_SITE_MANAGER: "現場管理者",
    ROLE_WORKER: "技能者",
}

log = logging.getLogger(__name__)


class PortalUserDBModelView(ListGuards, UserDBModelView):
    add_columns = UserDBModelView.add_columns + ["employer", "worker"]
    edit_columns = ["first_name", "last_name", "username", "active", "email", "roles", "employer", "worker"]
    show_columns = ["first_name", "last_name", "username", "active", "email", "roles", "employer", "worker",
                    "login_count", "last_login"]
    # Never searchable: password hashes and secrets (FAB has leaked through list filters before).
    search_columns = ["first_name", "last_name", "username", "email", "active", "roles", "employer"]


READ = "can_list|can_show|can_get|can_info"
WRITE = READ + "|can_add|can_edit|can_delete|can_post|can_put"


def fab_roles() -> dict:
    """A fresh FAB_ROLES config for one app: builtin roles, whose permissions live in code, not the database.
    :func:`grant` fills it as views are registered, so a view and the roles that may use it are declared in
    one place (portal.views)."""
    own_account = [
        ("^PortalUserDBModelView$", "^(can_userinfo|resetmypassword|userinfoedit)$"),
        ("^(UserInfoEditView|ResetMyPasswordView)$", "^(can_this_form_get|can_this_form_post)$"),
    ]
    return {role: list(own_account) for role in (ROLE_EMPLOYER, ROLE_SITE_MANAGER, ROLE_WORKER)}


def grant(fab_roles_config: dict, roles, name: str, permissions: str = READ) -> None:
    """Let ``roles`` use view, API or menu item ``name`` with ``permissions`` (a regex alternation)."""
    for role in roles:
        if role != ROLE_ADMIN:  # the administrator gets every permission from FAB itself
            fab_roles_config[role].append((f"^{name}$", f"^({permissions})$"))


def auth_limits() -> list:
    """The login form's limit (AUTH_RATE_LIMIT, POST only) for every other place that checks a secret: the JSON
    login, the first password change, the password reset."""
    return [Limit(limit_value=lambda: current_app.config["AUTH_RATE_LIMIT"], key_func=get_remote_address,
                  methods=("POST",), exempt_when=lambda: not current_app.config.get("AUTH_RATE_LIMITED"),
                  error_message="試行回数が多すぎます。しばらくしてから再度お試しください。")]


class PortalSecurityApi(JsonAnswers, SecurityApi):
    """FAB's JSON login, rate limited like the form; a worker still on the initial password gets no token.
    Its answers are the portal's (a code and a Japanese message), and its OpenAPI entry says all of them."""

    limits = auth_limits()

    @expose("/login", methods=["POST"])
    def login(self):
        """Log in with a login ID (a worker: its 14-digit 技能者ID) and password; returns a JWT
        ---
        post:
          summary: Log in and get a JWT (access token, optionally a refresh token)
          description: >-
            Failed logins are counted per client address and per login ID, in a store all server processes share:
            past the limit the answer is 429 with Retry-After, whether or not the ID exists.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [username, password, provider]
                  properties:
                    username: {type: string, description: "Login ID", example: "93845751166921"}
                    password: {type: string}
                    provider: {type: string, enum: [db]}
                    refresh: {type: boolean, description: "Also return a refresh token"}
          responses:
            200:
              description: Logged in
              content:
                application/json:
                  schema:
                    type: object
                    required: [access_token]
                    properties:
                      access_token: {type: string}
                      refresh_token: {type: string}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              description: "password_change_required: a worker still on the initial password logs in on the screens first"
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/PortalError'
            413:
              $ref: '#/components/responses/413'
            429:
              description: "too_many_requests: too many failed logins from this address or for this ID"
              headers:
                Retry-After:
                  description: Seconds to wait before retrying
                  schema: {type: integer}
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/PortalError'
            500:
              $ref: '#/components/responses/500'
            503:
              $ref: '#/components/responses/503'
        """
        from portal.people.passwords import must_change_password

        response = super().login()
        locked = g.pop("ccus_login_locked", None)
        if locked is not None:  # FAB's @safe would turn an exception into a 500: answer the lock here
            response = make_response(jsonify({"code": "too_many_requests", "message": LOCKED_MESSAGE}), 429)
            response.headers["Retry-After"] = str(locked)
            return response
        if response.status_code == 200:
            user = self.appbuilder.sm.find_user(username=str((request.get_json(silent=True) or {}).get("username", "")))
            if user is not None and must_change_password(self.appbuilder.session, user.worker_id):
                return make_response(jsonify({"code": "password_change_required", "message":
                                              "初期パスワードの変更が必要です。画面からログインして変更してください。"}), 403)
        return response


class PortalSecurityManager(SecurityManager):
    user_model = PortalUser
    security_api = PortalSecurityApi
    userdbmodelview = PortalUserDBModelView
    rolemodelview = guarded(RoleModelView)
    groupmodelview = guarded(UserGroupModelView)
    permissionmodelview = guarded(PermissionModelView)
    viewmenumodelview = guarded(ViewMenuModelView)
    permissionviewmodelview = guarded(PermissionViewModelView)

    def create_jwt_manager(self, app):
        manager = super().create_jwt_manager(app)
        token_answers(manager)  # a missing or bad token: 401 with a code, not flask-jwt-extended's {"msg"} / 422
        return manager

    def add_permission_role(self, role, perm_view):
        """FAB's grant, as one indexed look-up and one insert of the role-permission link. FAB's own checks
        ``perm_view not in role.permissions`` and merges the role: it loads every permission the role has (each
        with its permission and view joined) for each of the ~500 grants an app's start makes, which cost
        30-90 s of every start over an empty database."""
        if not perm_view:
            return
        if role.id is None or perm_view.id is None:  # not stored yet: FAB's way
            return super().add_permission_role(role, perm_view)
        link = self.role_model.permissions.property.secondary
        session = self.session
        try:
            if session.execute(select(link.c.id).where(link.c.role_id == role.id,
                                                       link.c.permission_view_id == perm_view.id)).first():
                return
            session.execute(link.insert().values(role_id=role.id, permission_view_id=perm_view.id))
            session.commit()  # FAB commits each grant too; the commit expires role.permissions for its next reader
        except Exception:
            log.exception("could not grant %s to %s", perm_view, role.name)
            session.rollback()

    def auth_user_db(self, username, password):
        """FAB's check, behind the per-account limit (portal.people.login_limits): a locked name is refused before its
        password is looked at (429 with Retry-After), whether or not such an account exists."""
        from werkzeug.exceptions import TooManyRequests

        from portal.people import login_limits

        app = current_app._get_current_object()
        locked = login_limits.locked_for(app, username)
        if locked is not None:
            if request.path.startswith("/api/"):
                g.ccus_login_locked = locked
                return None
            raise TooManyRequests(LOCKED_MESSAGE, retry_after=locked)
        user = super().auth_user_db(username, password)
        if user is None:
            login_limits.failed(app, username)
        else:
            login_limits.cleared(app, username)
        return user

    def reset_password(self, userid, password):
        """A new password (the worker's reset with the card's code, an administrator's reset) unlocks the login."""
        from portal.people import login_limits

        super().reset_password(userid, password)
        user = self.get_user_by_id(userid)
        if user is not None:
            login_limits.cleared(current_app._get_current_object(), user.username)


LOCKED_MESSAGE = "ログインの失敗が続いたため、このIDは一時的にロックされています。しばらくしてから再度お試しください。"
