"""機器の設定: a device's settings are edited on a screen and validated against its type's settings_schema; bad
input gets a Japanese message and stores nothing; only who may manage the device reaches it."""
from __future__ import annotations

import pytest

from ingest_world import SITE_A, new_device
from portal.devices import settings as device_settings
from portal.app.db import db
from portal.app.errors import DomainError
from portal.models import Device
from portal.people.scoping import ALL, using_scope

SCHEMA = {"type": "object", "properties": {
    "period": {"type": "integer", "minimum": 10, "maximum": 600, "default": 30, "title": "切替間隔（秒）"},
    "tolerance": {"type": "number", "minimum": 0.3, "maximum": 0.7, "title": "許容値"},
    "kind": {"type": "string", "enum": ["entry", "exit"], "title": "区分"},
    "numbers": {"type": "array", "items": {"type": "string"}, "title": "着信番号"},
}}


def test_a_form_becomes_the_schemas_types():
    assert device_settings.parse(SCHEMA, {"period": " 45 ", "tolerance": "0.5", "kind": "exit",
                                          "numbers": "03-1234-0000\n03-1234-0001, 03-1234-0002"}) == {
        "period": 45, "tolerance": 0.5, "kind": "exit", "numbers": ["03-1234-0000", "03-1234-0001", "03-1234-0002"]}
    assert device_settings.parse(SCHEMA, {"period": "", "kind": ""}) == {}  # empty: the plugin's default


@pytest.mark.parametrize("form, says", [
    ({"period": "5"}, "設定「切替間隔（秒）」: 10以上"),
    ({"period": "601"}, "600以下"),
    ({"period": "abc"}, "整数で入力"),
    ({"period": "1.5"}, "整数で入力"),
    ({"tolerance": "nan"}, "数値で入力"),
    ({"kind": "sideways"}, "選択肢から"),
    ({"period": "9" * 3000}, "長すぎます"),
])
def test_bad_input_is_refused_in_japanese(form, says):
    with pytest.raises(DomainError) as refused:
        device_settings.parse(SCHEMA, form)
    assert refused.value.code == "invalid_device_setting" and says in refused.value.message


def _settings(app, device_id):
    with app.app_context(), using_scope(db.session, ALL):
        return db.session.get(Device, device_id).settings


def test_the_prime_edits_a_qr_kiosks_settings_on_the_screen(client_for, demo_app):
    device_id, _key = new_device(demo_app, SITE_A, "qr")
    client, _entry = client_for("prime")
    page = client.get(f"/devices/manage/settings/{device_id}").get_data(as_text=True)
    assert "機器の設定" in page and "現場QRの切替間隔（秒）" in page and "技能者QRの有効日数" in page
    saved = client.post(f"/devices/manage/settings/{device_id}", data={"period": "60", "max_age_days": ""},
                        follow_redirects=True)
    assert "設定を保存しました" in saved.get_data(as_text=True)
    assert _settings(demo_app, device_id) == {"period": 60}
    bad = client.post(f"/devices/manage/settings/{device_id}", data={"period": "5"})
    assert bad.status_code == 422 and "10以上にしてください" in bad.get_data(as_text=True)
    assert _settings(demo_app, device_id) == {"period": 60}  # nothing stored


def test_others_cannot_reach_a_devices_settings(client_for, demo_app):
    device_id, _key = new_device(demo_app, SITE_A, "qr")
    client, _entry = client_for("employer")  # a subcontractor on site A, not its prime
    page = client.post(f"/devices/manage/settings/{device_id}", data={"period": "99"}, follow_redirects=True)
    assert "機器が見つからないか" in page.get_data(as_text=True) or page.status_code in (302, 403)
    for role in ("site_manager", "worker"):
        other, _e = client_for(role)
        assert other.post(f"/devices/manage/settings/{device_id}", data={"period": "99"}).status_code in (302, 403)
    assert _settings(demo_app, device_id) is None


def test_the_administrator_sees_the_installed_plugins_with_versions_and_sites(client_for, demo_app):
    from importlib.metadata import version

    new_device(demo_app, SITE_A, "qr")
    client, _entry = client_for("admin")
    page = client.get("/devices/manage/plugins")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "インストール済みの機器プラグイン" in html
    row = html[html.index("<code>qr</code>"):].split("</tr>")[0]
    assert "ccus-qr" in row and version("ccus-qr") in row and "QRコード（qr）" in row and SITE_A in row
    card = html[html.index("<code>cardreader</code>"):].split("</tr>")[0]
    assert "ccus-cardreader" in card  # installed, whether or not a site uses it
    for role in ("prime", "employer", "worker"):
        other, _e = client_for(role)
        assert other.get("/devices/manage/plugins").status_code in (302, 403)
