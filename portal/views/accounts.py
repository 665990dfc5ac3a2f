"""Account screens: the forced first password change of a worker (confirmed with the card's 本人確認番号), the
password reset that does not reveal whether an ID exists, and the JSON login API with the same rate limit as
the login form. Rules live in portal.people.passwords."""
from __future__ import annotations

from flask import current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_login import current_user

from portal.people import passwords
from portal.devices.credentials import keys_from_config
from portal.people.security import auth_limits


class FirstLoginView(BaseView):
    """初期パスワードの変更: a worker who logs in with the initial password lands here until it is changed."""

    route_base = "/first-login"
    default_view = "form"
    limits = auth_limits()
    FIELDS = [("current_password", "現在の（初期）パスワード", "password"),
              ("security_code", "本人確認番号（カード裏面の4桁）", "password"),
              ("new_password", "新しいパスワード", "password"), ("confirm", "新しいパスワード（確認）", "password")]

    def _render(self):
        return self.render_template("accounts/form.html", title="初期パスワードの変更", fields=self.FIELDS,
                                    submit="変更する", intro=["初めてログインしたときは、パスワードの変更が必要です。",
                                                           "カード裏面に印字された4桁の本人確認番号を入力してください。"])

    @expose("/", methods=["GET"])
    def form(self):
        if not current_user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login)
        return self._render()

    @expose("/", methods=["POST"])
    def change(self):
        if not current_user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login)
        f = request.form
        passwords.change_initial_password(
            self.appbuilder.session, self.appbuilder.sm, keys_from_config(current_app.config), current_user,
            f.get("current_password", ""), f.get("security_code", ""), f.get("new_password", ""), f.get("confirm", ""))
        flash("パスワードを変更しました。", "success")
        return redirect(self.appbuilder.get_url_for_index)


class PasswordResetView(BaseView):
    """パスワードを忘れた場合 (public): 技能者ID, 本人確認番号, new password. Employers ask their administrator."""

    route_base = "/password-reset"
    default_view = "form"
    limits = auth_limits()
    FIELDS = [("login_id", "ログインID（技能者ID）", "text"), ("security_code", "本人確認番号（カード裏面の4桁）", "password"),
              ("new_password", "新しいパスワード", "password"), ("confirm", "新しいパスワード（確認）", "password")]

    @expose("/", methods=["GET"])
    def form(self):
        return self.render_template("accounts/form.html", title="パスワードの再設定", fields=self.FIELDS,
                                    submit="再設定する", intro=[
                                        "技能者の方は、技能者IDとカード裏面の本人確認番号で新しいパスワードを設定できます。",
                                        "事業者の方は、システム管理者にパスワードの再設定を依頼してください。"])

    @expose("/", methods=["POST"])
    def reset(self):
        f = request.form
        passwords.reset_with_security_code(
            self.appbuilder.session, self.appbuilder.sm, keys_from_config(current_app.config), f.get("login_id", ""),
            f.get("security_code", ""), f.get("new_password", ""), f.get("confirm", ""),
            current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"])
        flash("パスワードを再設定しました。新しいパスワードでログインしてください。", "success")
        return redirect(self.appbuilder.get_url_for_login)


EXEMPT_ENDPOINTS = {"FirstLoginView.form", "FirstLoginView.change", "AuthDBView.logout", "static",
                    "appbuilder.static", "LocaleView.index"}


def enforce_first_login():
    """before_request: a worker on the initial password may only change it (or log out)."""
    if request.endpoint in EXEMPT_ENDPOINTS or request.endpoint is None or request.path.startswith("/static"):
        return None
    if request.path.startswith("/api/"):
        return None  # the API refuses such a worker a token (PortalSecurityApi)
    if not current_user or not current_user.is_authenticated or not getattr(current_user, "worker_id", None):
        return None
    if g.get("ccus_password_ok"):
        return None
    from portal.app.db import db

    if passwords.must_change_password(db.session, current_user.worker_id):
        return redirect(url_for("FirstLoginView.form"))
    g.ccus_password_ok = True
    return None


def register(appbuilder) -> None:
    appbuilder.add_view_no_menu(FirstLoginView)
    appbuilder.add_view_no_menu(PasswordResetView)
    current_app.before_request(enforce_first_login)

