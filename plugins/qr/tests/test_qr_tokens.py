"""Signed worker QR and rotating site tokens: plain functions, and the QR images read back with zxing-cpp."""
from __future__ import annotations

import pytest

from ccus_qr import images, tokens
from qr_helpers import decode_png

pytestmark = pytest.mark.once  # no database: the PostgreSQL pass of ./dev.sh test leaves it out

KEY = tokens.qr_key({"CCUS_CREDENTIAL_KEY": "one installation", "SECRET_KEY": "x"})
WORKER = "30154216388821"
NOW = 1_750_000_000


def test_worker_qr_round_trip_through_an_image():
    payload = tokens.sign_worker(KEY, WORKER, issued=NOW)
    assert decode_png(images.png(payload)) == [payload]
    assert tokens.check_worker(KEY, payload, now=NOW + 3600) == (WORKER, "ok")


def test_keys_differ_per_installation():
    other = tokens.qr_key({"CCUS_CREDENTIAL_KEY": "another installation", "SECRET_KEY": "x"})
    assert other != KEY
    assert tokens.qr_key({"CCUS_QR_KEY": "qr only", "CCUS_CREDENTIAL_KEY": "one installation"}) != KEY
    payload = tokens.sign_worker(other, WORKER, issued=NOW)
    assert tokens.check_worker(KEY, payload, now=NOW) == (None, "foreign")  # genuine elsewhere, refused here
    assert tokens.check_worker(KEY, _tamper(payload, 1, tokens.installation(KEY)), now=NOW) == (None, "forged")


def test_codes_of_the_first_format_are_still_read():
    body = f"CCUSW1.{WORKER}.{NOW}"
    old = f"{body}.{tokens._mac(KEY, body)}"  # as printed before the installation tag
    assert tokens.check_worker(KEY, old, now=NOW) == (WORKER, "ok") and tokens.issued_at(old) == NOW
    assert tokens.check_worker(KEY, _tamper(old, 1, "17788930382321"), now=NOW) == (None, "forged")


def _tamper(payload: str, index: int, value: str) -> str:
    parts = payload.split(".")
    parts[index] = value
    return ".".join(parts)


@pytest.mark.parametrize("make, reason", [
    (lambda p: _tamper(p, 2, "17788930382321"), "forged"),  # another worker's ID under this signature
    (lambda p: _tamper(p, 3, str(NOW + 60)), "forged"),  # a later issue time
    (lambda p: p[:-1] + ("A" if p[-1] != "A" else "B"), "forged"),
    (lambda p: p + ".x", "malformed"),
    (lambda p: "hello", "malformed"),
    (lambda p: _tamper(p, 2, "123"), "malformed"),
    (lambda p: _tamper(p, 2, "３０１５４２１６３８８８２１"), "malformed"),  # full-width digits are digits to Python
    (lambda p: None, "malformed"),
])
def test_forged_or_malformed_worker_qr_names_nobody(make, reason):
    payload = tokens.sign_worker(KEY, WORKER, issued=NOW)
    assert tokens.check_worker(KEY, make(payload), now=NOW) == (None, reason)


def test_worker_qr_expires():
    payload = tokens.sign_worker(KEY, WORKER, issued=NOW)
    day = 86400
    assert tokens.check_worker(KEY, payload, now=NOW + 30 * day - 1)[1] == "ok"
    assert tokens.check_worker(KEY, payload, now=NOW + 30 * day + 1) == (None, "expired")
    assert tokens.check_worker(KEY, payload, now=NOW + 2 * day, max_age_days=1) == (None, "expired")
    assert tokens.check_worker(KEY, payload, now=NOW - 60)[1] == "ok"  # a scanner's clock a minute behind
    assert tokens.check_worker(KEY, payload, now=NOW - 3600) == (None, "not_yet_valid")


def test_site_token_rotates_and_the_previous_one_is_still_accepted():
    period = 30
    start = (NOW // period) * period
    token, remaining = tokens.current_site_token(KEY, 7, now=start + 10, period=period)
    assert remaining == pytest.approx(20)
    assert tokens.current_site_token(KEY, 7, now=start + 29, period=period)[0] == token  # same window
    later, _ = tokens.current_site_token(KEY, 7, now=start + period, period=period)
    assert later != token
    assert tokens.check_site_token(KEY, 7, token, now=start + 10, period=period) is not None
    assert tokens.check_site_token(KEY, 7, token, now=start + period + 5, period=period) is not None  # grace
    assert tokens.check_site_token(KEY, 7, token, now=start + 2 * period + 1, period=period) is None  # too old
    assert tokens.check_site_token(KEY, 8, token, now=start + 10, period=period) is None  # another device
    assert tokens.check_site_token(KEY, 7, "", now=start + 10, period=period) is None
    assert decode_png(images.png(f"https://portal.example/qr/scan/7/{token}")) == [f"https://portal.example/qr/scan/7/{token}"]
