"""Caller numbers: one form for what employers type and what providers send; enrolled as keyed hashes only."""
from __future__ import annotations

import pytest
from phone_helpers import HIROO, MEGURO, employer_login_of

from ccus_phone import calls
from ccus_phone.numbers import is_withheld, normalise_number
from portal.devices import DomainError, device_types
from portal.devices.testing import StoredCredential, credentials_of, installation_keys, login, operator


@pytest.mark.parametrize("typed", ["090-1234-5678", "09012345678", "０９０－１２３４－５６７８", "+81 90 1234 5678",
                                   "+81-90-1234-5678", "(090) 1234 5678", "010 81 90 1234 5678"])
def test_numbers_as_typed_and_as_sent_by_providers_are_one_number(typed):
    assert normalise_number(typed) == "+819012345678"


@pytest.mark.parametrize("bad", ["", "1234", "abc-defg-hijk", "90-1234-5678", "0012345678901", "+81 90 1234 5678 99999"])
def test_malformed_numbers_are_refused_with_a_code(bad):
    with pytest.raises(DomainError) as e:
        normalise_number(bad)
    assert e.value.code == "invalid_phone_number" and "電話番号の形式" in e.value.message


def test_withheld_callers_are_recognised():
    assert all(is_withheld(v) for v in ["anonymous", "Restricted", "", None, "+266696687"])
    assert not is_withheld("+819012345678")


def test_plugin_is_found_through_its_entry_point(demo_app):
    types = device_types(demo_app.extensions["ccus_plugins"])
    assert (types["phone"].label, types["phone"].mark) == ("電話発信", "電話")


def _phone_credentials(app) -> list[tuple[str, StoredCredential]]:
    return [(cred.worker_id, cred) for cred in credentials_of(app, "phone")]


def test_employer_enrols_a_number_stored_only_as_a_keyed_hash(demo_app):
    entry = employer_login_of(demo_app, MEGURO)
    client = demo_app.test_client()
    login(client, entry["login"], entry["password"])
    r = client.post("/phone/enrolment/", data={"worker_id": MEGURO, "secret": "090-1234-5678"})
    assert r.status_code == 302
    [(worker, cred)] = _phone_credentials(demo_app)
    assert worker == MEGURO and cred.payload is None and cred.label == "末尾5678"
    keys = installation_keys(demo_app.config)
    assert cred.lookup_hash == keys.lookup_hash("phone", "+819012345678")
    assert "9012345678" not in cred.lookup_hash
    with operator(demo_app):  # the number as the provider sends it
        assert calls.caller_worker("+819012345678").worker_id == MEGURO
        assert calls.caller_worker("+819012345679") is None
    page = client.get("/phone/enrolment/").get_data(as_text=True)
    assert "目黒 一郎" in page and "末尾5678" in page and "1234-5678" not in page

    # the same number for another worker (same employer) is refused; nothing changes
    r = client.post("/phone/enrolment/", data={"worker_id": HIROO, "secret": "+81 90 1234 5678"},
                    headers={"Referer": "/phone/enrolment/"}, follow_redirects=True)
    assert "既に登録されています" in r.get_data(as_text=True)
    assert [w for w, _c in _phone_credentials(demo_app)] == [MEGURO]

    # a malformed number: a Japanese message, nothing stored
    r = client.post("/phone/enrolment/", data={"worker_id": HIROO, "secret": "12-34"},
                    headers={"Referer": "/phone/enrolment/"}, follow_redirects=True)
    assert "電話番号の形式が正しくありません" in r.get_data(as_text=True)
    assert len(_phone_credentials(demo_app)) == 1

    # removed: deleted, not merely revoked, so the number is free again
    client.post(f"/phone/enrolment/{cred.id}/delete")
    assert _phone_credentials(demo_app) == []
    assert client.post("/phone/enrolment/", data={"worker_id": HIROO, "secret": "09012345678"}).status_code == 302
    assert [w for w, _c in _phone_credentials(demo_app)] == [HIROO]


def test_another_employer_cannot_enrol_a_number_for_the_worker(demo_app):
    mine = employer_login_of(demo_app, MEGURO)["login"]
    other = next(e for e in demo_app.logins if e["role"] == "employer" and e["login"] != mine)
    client = demo_app.test_client()
    login(client, other["login"], other["password"])
    r = client.post("/phone/enrolment/", data={"worker_id": MEGURO, "secret": "090-1111-2222"},
                    headers={"Referer": "/phone/enrolment/"}, follow_redirects=True)
    assert "登録できる自社の技能者に見つかりません" in r.get_data(as_text=True)
    assert _phone_credentials(demo_app) == []
