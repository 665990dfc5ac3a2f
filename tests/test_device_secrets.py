"""Secret device settings (issue 14): a phone device's Twilio auth_token (declared ``writeOnly`` in the plugin's
settings_schema) is stored encrypted, masked on every screen and in the REST API, write-only in the edit form
(empty keeps it, 削除 removes it), and still what the plugin checks the provider's signature with."""
from __future__ import annotations

import base64
import re

import pytest
from twilio.request_validator import RequestValidator

from ingest_world import SITE_A, new_device
from portal.devices import credentials, settings as device_settings
from portal.app.db import db
from portal.models import Device
from portal.people.scoping import ALL, using_scope
from portal.demo.testing import api_token

TOKEN = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"


def _stored(app, pk) -> dict | None:
    with app.app_context(), using_scope(db.session, ALL):
        return db.session.get(Device, pk).settings


@pytest.fixture
def phone(demo_app, client_for):
    """A phone device on site A whose settings its prime contractor saved on the 機器の設定 screen."""
    pk, key = new_device(demo_app, SITE_A, "phone")
    prime, _entry = client_for("prime")
    saved = prime.post(f"/devices/manage/settings/{pk}", data={"auth_token": TOKEN, "signature": "twilio",
                                                               "numbers": "03-1234-0000"}, follow_redirects=True)
    assert "設定を保存しました" in saved.get_data(as_text=True)
    return pk, key, prime


def test_the_token_is_stored_encrypted_with_the_credential_key(demo_app, phone):
    pk, _key, _prime = phone
    stored = _stored(demo_app, pk)
    assert TOKEN not in str(stored) and set(stored["auth_token"]) == {"sealed"}
    keys = credentials.keys_from_config(demo_app.config)  # the key that encrypts face templates
    assert keys.decrypt(stored["auth_token"]["sealed"].encode()).decode() == TOKEN
    assert stored["numbers"] == ["03-1234-0000"] and stored["signature"] == "twilio"  # the rest as it was


def test_every_screen_and_the_api_mask_it(demo_app, phone, client_for):
    pk, _key, prime = phone
    pages = {"list": prime.get("/devices/manage/"), "edit": prime.get(f"/devices/manage/settings/{pk}")}
    admin, entry = client_for("admin")
    pages["admin list"] = admin.get("/deviceview/list/")
    pages["show"] = admin.get(f"/deviceview/show/{pk}")
    api = demo_app.test_client()
    headers = {"Authorization": f"Bearer {api_token(api, entry['login'], entry['password'])}"}
    pages["REST list"] = api.get("/api/v1/devices/?q=(page_size:100)", headers=headers)
    pages["REST show"] = api.get(f"/api/v1/devices/{pk}", headers=headers)
    for path, page in pages.items():
        text = page.get_data(as_text=True)
        assert page.status_code == 200, path
        assert TOKEN not in text and "sealed" not in text, path
    assert device_settings.MASK in pages["show"].get_data(as_text=True)
    assert "03-1234-0000" in pages["show"].get_data(as_text=True)  # what is not secret is still shown
    [row] = [r for r in pages["REST list"].get_json()["result"] if r["id"] == pk]
    assert row["settings"]["auth_token"] == device_settings.MASK and "key_hash" not in row
    assert pages["REST show"].get_json()["result"]["settings"]["auth_token"] == device_settings.MASK
    edit = pages["edit"].get_data(as_text=True)
    field = re.search(r'<input[^>]*id="s-auth_token"[^>]*>', edit, re.S).group(0)
    assert 'type="password"' in field and 'value=""' in field and "設定済み" in edit


def _signed_call(demo_app, key, token):
    form = {"From": "+819012345678", "To": "+81312340000", "CallSid": "CA-secret", "AccountSid": "AC1"}
    url = "http://localhost/api/v1/phone/calls"
    return demo_app.test_client().post("/api/v1/phone/calls", data=form, headers={
        "Authorization": "Basic " + base64.b64encode(f"phone:{key}".encode()).decode(),
        "X-Twilio-Signature": RequestValidator(token).compute_signature(url, form)})


def test_the_form_keeps_replaces_or_removes_it_and_the_plugin_still_verifies_with_it(demo_app, phone):
    pk, key, prime = phone
    assert _signed_call(demo_app, key, TOKEN).status_code == 200  # the plugin decrypted it to check the signature
    assert _signed_call(demo_app, key, OTHER).status_code == 403
    prime.post(f"/devices/manage/settings/{pk}", data={"auth_token": "", "signature": "twilio", "numbers": ""})
    stored = _stored(demo_app, pk)
    assert "numbers" not in stored and set(stored["auth_token"]) == {"sealed"}  # empty: the token kept
    bad = prime.post(f"/devices/manage/settings/{pk}", data={"auth_token": "not hex"})
    assert bad.status_code == 422 and "not hex" not in bad.get_data(as_text=True)  # the typed secret not echoed
    prime.post(f"/devices/manage/settings/{pk}", data={"auth_token": OTHER})
    assert _signed_call(demo_app, key, OTHER).status_code == 200 and _signed_call(demo_app, key, TOKEN).status_code == 403
    prime.post(f"/devices/manage/settings/{pk}", data={"auth_token": "", "auth_token__clear": "1"})
    assert "auth_token" not in (_stored(demo_app, pk) or {})
    r = _signed_call(demo_app, key, OTHER)
    assert r.status_code == 403 and r.get_json()["code"] == "signature_not_configured"


@pytest.mark.once
def test_unsealing_passes_plain_values_and_drops_what_the_key_cannot_open():
    from cryptography.fernet import Fernet

    keys = credentials.CredentialKeys(hash_key=b"k", fernet=Fernet(Fernet.generate_key()))
    other = credentials.CredentialKeys(hash_key=b"k", fernet=Fernet(Fernet.generate_key()))
    schema = {"properties": {"auth_token": {"type": "string", "writeOnly": True},
                             "pin": {"type": "string", "format": "password"}, "kind": {"type": "string"}}}
    sealed = device_settings.seal({"auth_token": TOKEN, "pin": "1234", "kind": "entry"}, schema, keys)
    assert sealed["kind"] == "entry" and TOKEN not in str(sealed) and "1234" not in str(sealed)
    assert device_settings.unseal(sealed, keys) == {"auth_token": TOKEN, "pin": "1234", "kind": "entry"}
    assert device_settings.unseal({"auth_token": TOKEN}, keys) == {"auth_token": TOKEN}  # stored before sealing
    assert device_settings.unseal(sealed, other) == {"kind": "entry"}  # the key changed: not set, no crash
    assert device_settings.masked({"auth_token": TOKEN, "kind": "entry"}, {"auth_token"}) == {
        "auth_token": device_settings.MASK, "kind": "entry"}
