"""Each role's portal as its users live in it, in a real browser (Debian's chromium through Playwright), at
desktop size and on a 390×844 phone: every screen a role walks is Japanese (no English leftovers), shows no raw
value (``object at 0x``, True, False, None, codes such as cardreader or entry), never answers 500, and on the
phone never scrolls sideways. Screenshots of each landing page go to the test artifacts (portal.demo.testing.artifacts:
test-artifacts/screens, not committed)."""
from __future__ import annotations

import re

import pytest

from portal.demo.testing import artifacts
from tests.test_browser import browser, live_server, log_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

# What each role walks (beyond its landing page and the pages its landing page links to on the phone).
WALKS = {
    "admin": ["/workerview/list/", "/workerview/show/1", "/workerinsuranceview/list/", "/deviceview/list/",
              "/auditlogview/list/", "/entryexiteventview/list/", "/workhistoryview/list/", "/siteview/list/"],
    "prime": ["/site-board/", "/workerview/list/", "/structurelinkview/list/", "/workhistoryview/list/",
              "/deviceview/list/"],
    "employer": ["/workerview/list/", "/employerview/list/", "/workertradeview/list/", "/affiliationview/list/",
                 "/workcorrectionview/list/"],
    "site_manager": ["/site-board/", "/workhistoryview/list/", "/entryexiteventview/list/"],
    "worker": ["/worker/", "/work-calendar/", "/corrections/new", "/disclosure/", "/workerview/list/"],
}
PHONE_WALKS = {"worker": ["/worker/", "/work-calendar/", "/corrections/new", "/disclosure/"]}

# Latin words a Japanese screen may show: names of things, units and the language switch.
ALLOWED = {"ccus", "jst", "api", "qr", "ic", "id", "ok", "fax", "name", "english", "pdf", "csv", "png", "excel",
           "email", "url", "no", "tel",
           "admin"}  # the demo administrator's login name, shown in the audit log
RAW = re.compile(r"object at 0x|\b(True|False|None|cardreader|entry|exit|Database Error)\b")


def leftovers(text: str) -> list[str]:
    """English words and raw values in a page's visible text (IDs and names written in Latin letters aside)."""
    # whole words of letters only: an API key's prefix (2bffeab1) or an e-mail address is no English
    words = {w for w in re.findall(r"(?<![\w@.])[A-Za-z][A-Za-z'’]{2,}(?![\w@])", text)
             if w.lower() not in ALLOWED and not w.isupper()}
    return sorted(words | {m.group(0) for m in RAW.finditer(text)})


def walk(page, base, paths, phone: bool) -> list[str]:
    problems = []
    for path in paths:
        response = page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        if response is None or response.status >= 500:
            problems.append(f"{path}: {response.status if response else 'no answer'}")
            continue
        text = page.inner_text("body")
        found = [w for w in leftovers(text) if not w.isupper()]  # names in romaji and codes are written in capitals
        if found:
            problems.append(f"{path}: {found[:8]}")
        if page.evaluate("document.documentElement.lang") not in ("ja", "en"):
            problems.append(f"{path}: no lang")
        if phone:
            wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if wide > 1:
                problems.append(f"{path}: scrolls sideways by {wide}px on the phone")
    return problems


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("role", list(WALKS))
def test_each_role_walks_its_portal_in_japanese(browser, live_server, demo_app, role, size):  # noqa: F811
    entry = next(e for e in demo_app.logins if e["role"] == role)
    context = browser.new_context(locale="ja-JP", viewport=DESKTOP if size == "desktop" else PHONE,
                                  is_mobile=size == "phone", has_touch=size == "phone")
    page = context.new_page()
    page.goto(f"{live_server}/login/")
    page.fill("input[name=username]", entry["login"])
    page.fill("input[name=password]", entry["password"])
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts("screens") / f"{role}-{size}-landing.png"), full_page=True)
    landing = page.url.removeprefix(live_server)
    paths = [landing] + (PHONE_WALKS.get(role, []) if size == "phone" else WALKS[role])
    problems = walk(page, live_server, paths, phone=size == "phone")
    context.close()
    assert not problems, f"{role} ({size}): " + "; ".join(problems)


def test_a_click_on_a_day_of_the_desktop_grid_shows_why_it_counts_or_not(browser, live_server, demo_app):  # noqa: F811
    entry = next(e for e in demo_app.logins if e["role"] == "worker")
    context = browser.new_context(locale="ja-JP", viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server}/login/")
    page.fill("input[name=username]", entry["login"])
    page.fill("input[name=password]", entry["password"])
    page.click("input[type=submit], button[type=submit]")
    page.goto(f"{live_server}/work-calendar/")
    link = page.locator("a.ccus-day-link").first
    target = link.get_attribute("href").removeprefix("#")
    note = page.locator(f"#{target}")
    assert not note.is_visible()  # on a desktop the notes wait for a click on their day
    link.click()
    assert note.is_visible() and ("計上" in note.inner_text())
    assert page.locator(".ccus-day-note:visible").count() == 1
    context.close()
