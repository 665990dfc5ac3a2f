"""Card UIDs as credentials in the portal: the device type, the enrolment screen and CLI, resolving a UID."""
from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from cardreader_helpers import MEGURO, employer_login_of, other_employer_login
from ccus_cardreader import cards, plugin
from ccus_cardreader.cli import main as cli
from portal.devices import DomainError, device_types
from portal.devices.testing import (
    StoredCredential, credentials_of, installation_keys, logged_in, operator, unsaved_device,
)

UID = "04A1B2C3D4E5F6"


def _cards(app) -> list[StoredCredential]:
    return credentials_of(app, "cardreader")


def _resolve(app, credential, device_type="cardreader"):
    with operator(app):
        return plugin.ccus_resolve_worker(device=unsaved_device(device_type), credential=credential)


def _logged_in(app, entry):
    return logged_in(app, entry)


def _post_card(client, worker, uid):
    """Enrol through the screen; returns the page shown after the redirect (with the flashed message)."""
    r = client.post("/cardreader/cards/", data={"worker_id": worker, "secret": uid},
                    headers={"Referer": "/cardreader/cards/"}, follow_redirects=True)
    return r.get_data(as_text=True)


def test_device_type_comes_through_the_entry_point(demo_app):
    types = device_types(demo_app.extensions["ccus_plugins"])
    assert (types["cardreader"].label, types["cardreader"].mark) == ("ICカードリーダー", "IC")


@pytest.mark.parametrize("raw, uid", [("04a1b2c3", "04A1B2C3"), ("04:A1:B2:C3", "04A1B2C3"),
                                      ("04 a1-b2 c3 d4 e5 f6", "04A1B2C3D4E5F6"), ("0123456789ABCDEF", "0123456789ABCDEF")])
def test_uid_is_normalised(raw, uid):
    assert cards.normalise_uid(raw) == uid


@pytest.mark.parametrize("raw", ["", "04A1B2", "04A1B2C3D", "ZZA1B2C3", "04" * 11, None])
def test_malformed_uid_is_refused(raw):
    with pytest.raises(DomainError) as e:
        cards.normalise_uid(raw)
    assert e.value.code == "invalid_card_uid" and not e.value.message.isascii()


def test_employer_enrols_a_card_stored_as_a_hash_and_it_resolves(demo_app):
    client = _logged_in(demo_app, employer_login_of(demo_app, MEGURO))
    assert _resolve(demo_app, UID) is None
    r = client.post("/cardreader/cards/", data={"worker_id": MEGURO, "secret": "04 a1 b2 c3 d4 e5 f6"})
    assert r.status_code == 302, r.get_data(as_text=True)
    [cred] = _cards(demo_app)
    assert UID not in (cred.lookup_hash or "") and cred.payload is None and cred.label == "ICカード（末尾 E5F6）"
    page = client.get("/cardreader/cards/").get_data(as_text=True)
    assert "目黒 一郎" in page and "末尾 E5F6" in page and UID not in page
    # the reader may send the UID in another spelling; the same card resolves to the worker
    assert _resolve(demo_app, "04a1b2c3d4e5f6") == MEGURO
    assert _resolve(demo_app, "04A1B2C3D4E5F7") is None  # another card
    assert _resolve(demo_app, "not a uid") is None
    assert _resolve(demo_app, UID, device_type="face") is None  # other plugins' credentials are not ours
    # the same card cannot be enrolled twice
    assert "このカードは既に登録されています" in _post_card(client, MEGURO, UID)
    assert len(_cards(demo_app)) == 1
    # deleting the card: it no longer resolves
    client.post(f"/cardreader/cards/{cred.id}/delete")
    assert _cards(demo_app) == [] and _resolve(demo_app, UID) is None


def test_malformed_uid_on_the_screen_changes_nothing(demo_app):
    client = _logged_in(demo_app, employer_login_of(demo_app, MEGURO))
    assert "16進数で4〜10バイト" in _post_card(client, MEGURO, "hello")
    assert _cards(demo_app) == []


def test_another_employer_can_neither_enrol_nor_see_nor_take_the_card(demo_app):
    _post_card(_logged_in(demo_app, employer_login_of(demo_app, MEGURO)), MEGURO, UID)
    [cred] = _cards(demo_app)
    intruder = _logged_in(demo_app, other_employer_login(demo_app, MEGURO))
    assert "登録できる自社の技能者に見つかりません" in _post_card(intruder, MEGURO, "11223344")
    assert "目黒" not in intruder.get("/cardreader/cards/").get_data(as_text=True)
    intruder.post(f"/cardreader/cards/{cred.id}/delete")
    assert [c.id for c in _cards(demo_app)] == [cred.id]


def test_site_manager_and_worker_have_no_card_screen(client_for):
    for role in ("site_manager", "worker"):
        client, _entry = client_for(role)
        r = client.get("/cardreader/cards/")
        assert r.status_code in (302, 403) and "ICカードの登録</h2>" not in r.get_data(as_text=True)


def test_operator_cli_enrols_and_unenrols(demo_app, tmp_path):
    env = {"CCUS_DATABASE_URL": demo_app.config["SQLALCHEMY_DATABASE_URI"], "CCUS_INSTANCE": str(tmp_path),
           "CCUS_SECRET_KEY": demo_app.config["SECRET_KEY"], "CCUS_CREDENTIAL_KEY": demo_app.config["CCUS_CREDENTIAL_KEY"]}
    runner = CliRunner()
    saved = dict(os.environ)
    try:
        r = runner.invoke(cli, ["enrol", "--worker", MEGURO, "--uid", UID], env=env)
        assert r.exit_code == 0, r.output
        assert "目黒 一郎" in r.output
        assert _resolve(demo_app, UID) == MEGURO
        r = runner.invoke(cli, ["enrol", "--worker", MEGURO, "--uid", UID], env=env)
        assert r.exit_code == 1 and "card_already_enrolled" in r.output
        r = runner.invoke(cli, ["enrol", "--worker", "12345678901234", "--uid", "11223344"], env=env)
        assert r.exit_code == 1 and len(_cards(demo_app)) == 1
        r = runner.invoke(cli, ["unenrol", "--uid", UID], env=env)
        assert r.exit_code == 0, r.output
        assert _cards(demo_app) == []
        r = runner.invoke(cli, ["unenrol", "--uid", UID], env=env)
        assert r.exit_code == 1 and "登録されていません" in r.output
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_keys_differ_per_installation(demo_app):
    keys = installation_keys(demo_app.config)
    other = installation_keys({**demo_app.config, "CCUS_CREDENTIAL_KEY": "another-installation"})
    assert keys.lookup_hash("cardreader", UID) != other.lookup_hash("cardreader", UID)
