"""The signed worker QR in the portal: the worker's own page, the employer's print, resolving at a gate."""
from __future__ import annotations

import time

from ccus_qr import plugin, tokens
from portal.devices import Refused, device_types
from portal.devices.testing import operator, unsaved_device as Device
from qr_helpers import MEGURO, decode_png, employer_login_of, logged_in, other_employer_login


def _resolve(app, credential, device_type="qr", settings=None):
    with operator(app):
        found = plugin.ccus_resolve_worker(device=Device(device_type=device_type, settings=settings),
                                           credential=credential)
        return f"refused:{found.code}" if isinstance(found, Refused) else found


def test_device_type_comes_through_the_entry_point(demo_app):
    types = device_types(demo_app.extensions["ccus_plugins"])
    assert (types["qr"].label, types["qr"].mark) == ("QRコード", "QR")


def test_worker_sees_their_own_qr(demo_app):
    worker = next(e for e in demo_app.logins if e["role"] == "worker")
    page = logged_in(demo_app, worker).get("/qr/mine/").get_data(as_text=True)
    assert "私のQRコード" in page and worker["login"] in page and "<svg" in page and "有効期限" in page


def test_employer_prints_a_qr_that_resolves_at_the_gate(demo_app):
    client = logged_in(demo_app, employer_login_of(demo_app, MEGURO))
    assert "目黒 一郎" in client.get(f"/qr/print/?worker_id={MEGURO}").get_data(as_text=True)
    r = client.get(f"/qr/print/qr.png?worker_id={MEGURO}")
    assert r.status_code == 200 and r.mimetype == "image/png"
    [payload] = decode_png(r.data)  # read back from the image, as a scanner would
    assert payload.startswith(f"CCUSW2.{tokens.installation(tokens.qr_key(demo_app.config))}.{MEGURO}.")
    assert _resolve(demo_app, payload) == MEGURO
    assert _resolve(demo_app, payload, device_type="cardreader") is None  # not ours to answer


def test_another_employer_cannot_print_the_worker(demo_app):
    client = logged_in(demo_app, other_employer_login(demo_app, MEGURO))
    r = client.get(f"/qr/print/qr.png?worker_id={MEGURO}", headers={"Referer": "/qr/print/"},
                   follow_redirects=True)
    assert "登録できる自社の技能者に見つかりません" in r.get_data(as_text=True) and r.mimetype == "text/html"


def test_workers_and_employers_see_only_their_screen(client_for):
    worker, _ = client_for("worker")
    assert worker.get(f"/qr/print/?worker_id={MEGURO}").status_code in (302, 403)
    site_manager, _ = client_for("site_manager")
    for path in ("/qr/mine/", "/qr/print/"):
        r = site_manager.get(path)
        assert r.status_code in (302, 403) and "<svg" not in r.get_data(as_text=True)


def test_forged_expired_or_foreign_qr_is_refused_with_its_code(demo_app):
    key = tokens.qr_key(demo_app.config)
    old = tokens.sign_worker(key, MEGURO, issued=int(time.time()) - 10 * 86400)
    assert _resolve(demo_app, old) == MEGURO
    assert _resolve(demo_app, old, settings={"max_age_days": 7}) == "refused:expired"  # the device allows a week
    foreign = tokens.sign_worker(tokens.qr_key({"SECRET_KEY": "somebody else's"}), MEGURO)
    assert _resolve(demo_app, foreign) == "refused:foreign"
    altered = foreign.replace(f".{tokens.installation(tokens.qr_key({'SECRET_KEY': 'somebody else' + chr(39) + 's'}))}.",
                              f".{tokens.installation(key)}.")
    assert _resolve(demo_app, altered) == "refused:forged"
    assert _resolve(demo_app, "CCUSW1.30154216388821.1.xyz") == "refused:forged"
    assert _resolve(demo_app, "hello") == "refused:malformed"
    assert _resolve(demo_app, "hello", device_type="cardreader") is None  # another type's credential: not ours


def test_settings_are_bounded():
    assert plugin.setting(Device(settings={"period": 1}), "period") == 10
    assert plugin.setting(Device(settings={"period": "x"}), "period") == tokens.DEFAULT_PERIOD
    assert plugin.setting(Device(settings=None), "max_age_days") == tokens.DEFAULT_MAX_AGE_DAYS
