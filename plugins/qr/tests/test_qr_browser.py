"""The site QR as people use it, in Debian's chromium (Playwright): the kiosk tablet shows the QR, the image on
its screen is decoded (zxing-cpp), and the worker's phone, logged in, opens the URL and presses 入場."""
from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

from qr_helpers import MEGURO, decode_png, events_of, register_qr_device

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CCUS_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def served(demo_app):
    demo_app.config["WTF_CSRF_ENABLED"] = True  # the phone posts the real form with its token
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def chromium():
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), f"Debian chromium not found at {CHROMIUM}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def _shown_url(kiosk) -> str:
    kiosk.wait_for_selector("#qr svg")
    [url] = decode_png(kiosk.locator("#qr").screenshot())  # what a phone's camera would read off the screen
    return url


def test_kiosk_qr_scanned_by_a_workers_phone(demo_app, served, chromium):
    device_pk, key = register_qr_device(demo_app, settings={"period": 10})
    kiosk = chromium.new_page(viewport={"width": 800, "height": 1000}, locale="ja-JP")
    kiosk.goto(f"{served}/qr/kiosk/")
    kiosk.fill("#key", key)
    kiosk.click("#setup button")
    url = _shown_url(kiosk)
    assert url.startswith(f"{served}/qr/scan/{device_pk}/")
    assert kiosk.inner_text("header") != "現場QRコード"  # the site's name

    entry = next(e for e in demo_app.logins if e["login"] == MEGURO)
    phone = chromium.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP")
    phone.goto(url)  # not logged in yet: the login form, then back to the scan page
    phone.fill("input[name=username]", entry["login"])
    phone.fill("input[name=password]", entry["password"])
    phone.click("input[type=submit], button[type=submit]")
    phone.wait_for_load_state("networkidle")
    if "/qr/scan/" not in phone.url:
        phone.goto(url)
    phone.click("button[value=entry]")
    assert "入場を記録しました" in phone.inner_text("#result")
    assert events_of(demo_app, device_pk) == [(MEGURO, "entry", "QR")]

    # the tablet shows a new token once the period is over; the key stays on the tablet across reloads
    kiosk.wait_for_function("url => document.querySelector('#qr').dataset.url !== url", arg=url, timeout=15000)
    assert _shown_url(kiosk) != url
    kiosk.reload()
    assert _shown_url(kiosk).startswith(f"{served}/qr/scan/{device_pk}/")


def test_keyboard_wedge_gate_reads_codes_off_the_workers_screen(demo_app, served, chromium):
    """The worker shows 私のQRコード on the phone; the gate's handheld reader (a keyboard wedge: zxing-cpp reads
    the phone's screen, the code is typed with Enter) gets a big green answer, a forged code a red one with its
    reason; during an outage the scan is queued and delivered once the portal is back."""
    from ccus_qr import tokens

    device_pk, key = register_qr_device(demo_app)
    gate = chromium.new_context(viewport={"width": 800, "height": 900}, locale="ja-JP").new_page()
    gate.goto(f"{served}/qr/gate/")
    gate.fill("#key", key)
    gate.select_option("#kind", "entry")
    gate.click("#setup button")
    gate.wait_for_selector("#gate:not([hidden])")
    assert gate.evaluate("document.activeElement.id") == "code"

    entry = next(e for e in demo_app.logins if e["role"] == "worker" and e["worker_id"] == MEGURO)
    phone = chromium.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP")
    phone.goto(f"{served}/login/")
    phone.fill("input[name=username]", entry["login"])
    phone.fill("input[name=password]", entry["password"])
    phone.click("input[type=submit], button[type=submit]")
    phone.wait_for_load_state("networkidle")
    phone.goto(f"{served}/qr/mine/")
    [code] = decode_png(phone.locator("#worker-qr").screenshot())  # the reader's camera on the phone's screen

    gate.click("header")  # a tap somewhere on the terminal: the focus comes back to the input
    assert gate.evaluate("document.activeElement.id") == "code"
    gate.keyboard.type(code)  # what a wedge scanner does: keystrokes, then Enter
    gate.keyboard.press("Enter")
    gate.wait_for_selector("#answer.ok")
    assert "入場を記録しました" in gate.inner_text("#answer")
    assert events_of(demo_app, device_pk) == [(MEGURO, "entry", "QR")]

    forged = tokens.sign_worker(tokens.qr_key({"SECRET_KEY": "an attacker's key"}), MEGURO)
    gate.keyboard.type(forged)
    gate.keyboard.press("Enter")
    gate.wait_for_selector("#answer.ng")
    assert "他のシステムで発行された" in gate.inner_text("#answer")

    gate.context.set_offline(True)  # a short outage: the scan is kept on the terminal
    gate.keyboard.type(code)
    gate.keyboard.press("Enter")
    gate.wait_for_selector("#answer.queued")
    assert "未送信 1 件" in gate.inner_text("#queue")
    assert len(events_of(demo_app, device_pk)) == 2  # the forged one, kept for the audit; nothing new
    gate.context.set_offline(False)
    gate.wait_for_function("() => document.querySelector('#queue').textContent === ''", timeout=15000)
    assert [e[0] for e in events_of(demo_app, device_pk)] == [MEGURO, None, MEGURO]
