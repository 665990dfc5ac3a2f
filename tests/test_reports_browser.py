"""The report job page in a real browser (Debian's chromium): the progress bar and the download link appear
without a reload (the page polls the JSON status), and the file downloads."""
from __future__ import annotations

import pytest

from tests.test_browser import browser, live_server, log_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_progress_bar_moves_and_the_link_appears_without_a_reload(browser, live_server, demo_app, tmp_path):  # noqa: F811
    entry = next(e for e in demo_app.logins if e["role"] == "employer")
    page = log_in(browser, live_server, entry)
    page.goto(f"{live_server}/reports/")
    assert "2-4" in page.inner_text("#report-menu")
    page.click("text=就業履歴一覧(月別カレンダー)")
    page.wait_for_selector("#report-rows")
    page.click("button[value=pdf]")
    page.wait_for_selector("#job-bar")
    page.evaluate("window.__same_page = true")  # gone if the page reloads
    seen = []
    for _ in range(300):
        seen.append(page.evaluate("document.getElementById('job-bar').getAttribute('aria-valuenow')"))
        if page.is_visible("#job-download"):
            break
        page.wait_for_timeout(100)
    assert page.is_visible("#job-download"), seen
    assert page.evaluate("window.__same_page === true")
    assert page.inner_text("#job-bar") == "100%" and page.inner_text("#job-label") == "完了"
    values = [int(v) for v in seen]
    assert values == sorted(values)  # it only moves forward
    with page.expect_download() as download:
        page.click("#job-download")
    path = tmp_path / "report.pdf"
    download.value.save_as(path)
    assert path.read_bytes()[:5] == b"%PDF-"
    page.close()
