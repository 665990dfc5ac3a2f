"""A real browser: Debian's chromium driven by Playwright (never a downloaded browser) logs in as each role
through the real login form, with CSRF on, and checks what the menu and the lists show."""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CCUS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def live_server(demo_app):
    demo_app.config["WTF_CSRF_ENABLED"] = True  # the real form, with its token
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM) or os.path.exists(CHROMIUM), f"Debian chromium not found at {CHROMIUM}"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def log_in(browser, base, entry):
    page = browser.new_page(locale="ja-JP")
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", entry["login"])
    page.fill("input[name=password]", entry["password"])
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def menu_text(page) -> str:
    return page.text_content(".navbar")  # text_content: the closed dropdowns' items too


def list_rows(page, path) -> str:
    page.goto(path)
    return page.inner_text("body")


def test_admin_sees_security_and_every_worker(browser, live_server, demo_app):
    entry = next(e for e in demo_app.logins if e["role"] == "admin")
    page = log_in(browser, live_server, entry)
    nav = menu_text(page)
    for category in ("マスタ", "技能者", "現場・施工体制", "就業履歴", "管理"):
        assert category in nav
    assert "/users/list/" in page.content()  # FAB's security menu is the administrator's
    page.goto(f"{live_server}/workerview/list/")
    assert "記録数: 60" in page.inner_text("body")  # the test demo has 60 workers
    page.close()


def test_employer_sees_own_workers_not_others(browser, live_server, demo_app):
    entry = next(e for e in demo_app.logins if e["role"] == "employer")  # (株)基金一次建設
    page = log_in(browser, live_server, entry)
    nav = menu_text(page)
    assert "技能者" in nav and "/users/list/" not in page.content()
    rows = list_rows(page, f"{live_server}/workerview/list/?psize_WorkerView=100")
    assert "建設 未来" in rows  # its own worker
    assert "目黒 一郎" in rows  # a 2次 worker below it on A現場工事 (roster)
    page.goto(f"{live_server}/workerpersonalview/list/?psize_WorkerPersonalView=100")
    personal = page.inner_text("body")
    assert "建設 未来" in personal and "目黒 一郎" not in personal  # personal items: own workers only
    page.close()


def test_worker_sees_only_itself(browser, live_server, demo_app):
    entry = next(e for e in demo_app.logins if e["role"] == "worker")
    page = log_in(browser, live_server, entry)
    nav = menu_text(page)
    # the menu holds what a worker uses (portal.people.offers); 事業者 and 作業員名簿 stay readable, from its portal
    assert "マスタ" not in nav and "作業員名簿" not in nav and "就業履歴カレンダー" in nav
    assert "/structurelinkview/list/" not in page.content()  # no structure screens
    rows = list_rows(page, f"{live_server}/workerview/list/")
    assert entry["worker_id"] in rows
    assert rows.count("詳細型") + rows.count("簡略型") == 1
    page.close()


def test_wrong_password_is_refused_in_japanese(browser, live_server, demo_app):
    entry = next(e for e in demo_app.logins if e["role"] == "worker")
    page = log_in(browser, live_server, {"login": entry["login"], "password": "wrong-password"})
    assert "/login" in page.url
    assert "ログイン" in page.inner_text("body")
    page.close()
