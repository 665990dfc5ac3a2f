"""Security headers on every answer: CSP with frame-ancestors 'none', X-Frame-Options, nosniff, Referrer-Policy;
HSTS only over HTTPS (directly, or as a configured trusted proxy reports it). And in Debian's chromium the
policy breaks nothing FAB's pages and the QR kiosk run: no CSP violation is reported while they load, and the
approval screens cannot be framed by another site."""
from __future__ import annotations

import pytest

from portal.demo.testing import _dispose, make_app

from test_browser import CHROMIUM, CHROMIUM_ARGS, browser, live_server, log_in  # noqa: F401  (fixtures)

PAGES = ["/login/", "/api/v1/events", "/no-such-page/", "/api/v1/workers/", "/qr/kiosk/", "/static/appbuilder/css/ab.css"]


def _assert_headers(response, https: bool):
    h = response.headers
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert "object-src 'none'" in h["Content-Security-Policy"] and "default-src 'self'" in h["Content-Security-Policy"]
    assert h["X-Frame-Options"] == "DENY"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"
    assert ("Strict-Transport-Security" in h) is https


def test_every_answer_carries_the_security_headers_and_hsts_only_over_https(app):
    client = app.test_client()
    for path in PAGES:
        _assert_headers(client.get(path), https=False)
        _assert_headers(client.get(path, base_url="https://portal.example"), https=True)
    # a forwarded scheme is believed only from a configured trusted proxy
    _assert_headers(client.get("/login/", headers={"X-Forwarded-Proto": "https"}), https=False)


def test_behind_a_trusted_proxy_hsts_follows_the_forwarded_scheme(app, tmp_path):
    proxied = make_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "proxied", CCUS_TRUSTED_PROXIES=1,
                       FAB_UPDATE_PERMS=False)
    try:
        client = proxied.test_client()
        _assert_headers(client.get("/login/", headers={"X-Forwarded-Proto": "https"}), https=True)
        _assert_headers(client.get("/login/", headers={"X-Forwarded-Proto": "http"}), https=False)
    finally:
        _dispose(proxied)


@pytest.mark.browser
def test_fab_pages_and_the_kiosk_run_under_the_policy_and_cannot_be_framed(browser, live_server, demo_app):  # noqa: F811
    from portal.demo.testing import login_of

    page = log_in(browser, live_server, login_of(demo_app, "employer"))
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    for path in ["/workerview/list/", "/workerview/add", "/swagger/v1", "/qr/kiosk/"]:
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
    page.goto(f"{live_server}/workerview/list/")
    page.click(".dropdown-toggle >> nth=0")  # FAB's menus run their (inline) scripts
    assert violations == []
    # another site framing the approval screens gets an empty frame
    framing = browser.new_page()
    framing.set_content(f'<iframe id="f" src="{live_server}/login/"></iframe>')
    framing.wait_for_timeout(1500)
    frame = framing.frame_locator("#f")
    assert frame.locator("input[name=username]").count() == 0
    page.close()
    framing.close()
