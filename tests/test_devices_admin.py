"""Device registration: the key is shown once and stored hashed; only installed types; administrators and the
site's prime contractor register and revoke; the same from the command line."""
from __future__ import annotations

import hashlib
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from ingest_world import MEGURO, SITE_A, event, new_device, recent_day
from portal.app.db import db
from portal.devices.keys import authenticate_device, register_device, revoke_device
from portal.devices import device_types
from portal.app.errors import DomainError, ScopeError
from portal.models import Device, Site
from portal.people.scoping import ALL, employer_scope, using_scope


def test_a_key_is_stored_only_as_its_hash_and_authenticates_until_revoked(demo_app):
    device_id, key = new_device(demo_app)
    assert re.fullmatch(r"ccus_[0-9a-f]{8}_[A-Za-z0-9_-]{40,}", key)
    with demo_app.app_context(), using_scope(db.session, ALL):
        row = db.session.execute(text("select * from devices where id = :i"), {"i": device_id}).mappings().one()
        assert key not in " ".join(str(v) for v in row.values())
        assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest() and key.startswith(f"ccus_{row['key_prefix']}_")
        assert authenticate_device(db.session, key).id == device_id
        with pytest.raises(DomainError) as bad:
            authenticate_device(db.session, key + "x")
        assert (bad.value.code, bad.value.status) == ("invalid_device_key", 401)
        revoke_device(db.session, str(device_id))
        db.session.commit()
        with pytest.raises(DomainError) as revoked:
            authenticate_device(db.session, key)
        assert revoked.value.code == "revoked_device_key"


def test_only_installed_types_and_only_the_prime_contractor(demo_app):
    with demo_app.app_context():
        installed = device_types(demo_app.extensions["ccus_plugins"])
        with using_scope(db.session, ALL), pytest.raises(DomainError) as unknown:
            register_device(db.session, SITE_A, "telepathy", installed=installed)
        assert unknown.value.code == "unknown_device_type"
        with using_scope(db.session, ALL):
            site = db.session.execute(select(Site).where(Site.site_id == SITE_A)).scalar_one()
        prime, other = site.prime_employer_id, site.prime_employer_id + 1
        with using_scope(db.session, employer_scope(db.session, other)), pytest.raises((DomainError, ScopeError)):
            register_device(db.session, SITE_A, "api", installed=installed)
        db.session.rollback()
        with using_scope(db.session, employer_scope(db.session, prime)):
            device, _key = register_device(db.session, SITE_A, "api", "正門", installed=installed)
            db.session.commit()
            assert device.name == "正門"


def _csrf_free_post(client, url, data):
    return client.post(url, data=data, follow_redirects=True)


def test_prime_registers_on_its_site_sees_the_key_once_and_revokes(client_for, demo_app):
    client, _entry = client_for("prime")
    page = client.get("/devices/manage/")
    assert page.status_code == 200 and "入退場デバイスの登録・失効" in page.get_data(as_text=True)
    with demo_app.app_context(), using_scope(db.session, ALL):
        site_id = db.session.execute(select(Site.id).where(Site.site_id == SITE_A)).scalar_one()
    shown = client.post("/devices/manage/add", data={"site": site_id, "device_type": "api", "name": "北ゲート"})
    html = shown.get_data(as_text=True)
    key = re.search(r"(ccus_[0-9a-f]{8}_[A-Za-z0-9_-]+)", html).group(1)
    assert shown.headers["Cache-Control"] == "no-store" and "今回だけ" in html
    again = client.get("/devices/manage/").get_data(as_text=True)
    assert "北ゲート" in again and key not in again  # listed, but the key is never shown again
    r = demo_app.test_client().post("/api/v1/events", json={"events": [event(MEGURO, recent_day(2), 8)]},
                                    headers={"Authorization": f"Bearer {key}"})
    assert r.get_json()["accepted"] == 1
    with demo_app.app_context(), using_scope(db.session, ALL):
        device = db.session.execute(select(Device).where(Device.name == "北ゲート")).scalar_one()
        assert device.last_seen_at is not None
    done = _csrf_free_post(client, f"/devices/manage/revoke/{device.id}", {})
    assert "失効させました" in done.get_data(as_text=True)
    r = demo_app.test_client().post("/api/v1/events", json={"events": []}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 401 and r.get_json()["code"] == "revoked_device_key"


def test_others_cannot_register_or_revoke(client_for, demo_app):
    device_id, _key = new_device(demo_app)
    with demo_app.app_context(), using_scope(db.session, ALL):
        site_id = db.session.execute(select(Site.id).where(Site.site_id == SITE_A)).scalar_one()
    client, _entry = client_for("employer")  # a subcontractor on site A, not its prime
    page = client.get("/devices/manage/").get_data(as_text=True)
    assert "機器を登録できる現場がありません" in page
    client.post("/devices/manage/add", data={"site": site_id, "device_type": "api", "name": "偽ゲート"})
    client.post(f"/devices/manage/revoke/{device_id}", data={})
    for role in ("site_manager", "worker"):
        other, _e = client_for(role)
        assert other.get("/devices/manage/").status_code in (302, 403)
        other.post(f"/devices/manage/revoke/{device_id}", data={})
    with demo_app.app_context(), using_scope(db.session, ALL):
        assert db.session.execute(select(Device).where(Device.name == "偽ゲート")).first() is None
        assert db.session.get(Device, device_id).revoked_at is None


def test_the_command_line(demo_app, tmp_path):
    from portal.app.cli import main

    env = {"CCUS_DATABASE_URL": demo_app.config["SQLALCHEMY_DATABASE_URI"], "CCUS_INSTANCE": str(tmp_path),
           "CCUS_SECRET_KEY": demo_app.config["SECRET_KEY"]}
    runner = CliRunner()
    listed = runner.invoke(main, ["devices"], env=env)
    assert listed.exit_code == 0, listed.output
    assert re.search(r"^api\tAPI\t外部システム連携$", listed.output, re.M)
    added = runner.invoke(main, ["devices", "add", "--site", SITE_A, "--type", "api", "--name", "連携システム"], env=env)
    assert added.exit_code == 0, added.output
    key = added.output.strip().splitlines()[-1]
    with demo_app.app_context():
        device = authenticate_device(db.session, key)
        assert (device.name, device.device_type) == ("連携システム", "api")
        prefix = device.key_prefix
    bad = runner.invoke(main, ["devices", "add", "--site", SITE_A, "--type", "telepathy"], env=env)
    assert bad.exit_code != 0 and "unknown_device_type" in bad.output
    revoked = runner.invoke(main, ["devices", "revoke", prefix], env=env)
    assert revoked.exit_code == 0, revoked.output
    with demo_app.app_context(), pytest.raises(DomainError):
        authenticate_device(db.session, key)
    assert runner.invoke(main, ["devices", "revoke", "nope"], env=env).exit_code != 0
    rebuilt = runner.invoke(main, ["histories", "rebuild", "--check"], env=env)
    assert rebuilt.exit_code == 0 and "差異はありません" in rebuilt.output, rebuilt.output
    assert runner.invoke(main, ["histories", "rebuild", "--month", "2026-13"], env=env).exit_code != 0
