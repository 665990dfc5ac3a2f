"""The functions API 1.2 added for the plugins' refusals, replay checks and audited matching, and the kit's
fixtures and read helpers of API 1.3, tested as a vendor would use them: only portal.devices and
portal.devices.testing, on a device of the core's own type ``api`` (no plugin needed)."""
from __future__ import annotations

import datetime

import pytest

from portal.devices import (
    API_VERSION, HistoryRef, api_version_at_least, audit_credential_reads, check_security_code, credential_version,
    device_event_with, remove_credential, void_issued, void_until, worker_by_code,
)
from portal.devices.testing import (
    audit_entries, credentials_of, enrol, events_of, histories_of, issue_security_code, off_roster_site,
    off_roster_worker, operator, site_of, worker_of,
)

UTC = datetime.timezone.utc


@pytest.fixture
def plugin_device_type():
    return "api"


def test_the_version_is_1_3():
    assert API_VERSION == (1, 3) and api_version_at_least(1, 3) and not api_version_at_least(1, 4)
    assert not api_version_at_least(2, 0)


def test_the_world_and_what_its_events_made(plugin_world):
    world = plugin_world
    assert world.worker in [worker_of(world.app, world.worker.worker_id)]
    assert site_of(world.app, world.site.site_id) == world.site and world.device.site == world.site
    [result] = world.record([world.event("kit-1", worker_id=world.worker.worker_id)])  # by 技能者ID, the api way
    assert result["result"] == "accepted", result
    [event] = events_of(world.app, world.device)
    assert (event.worker_id, event.identified, event.credential_hash) == (world.worker.worker_id, True, None)
    [history] = histories_of(world.app, world.worker, site=world.site, work_date=event.work_date)
    assert isinstance(history, HistoryRef) and history.worker_id == world.worker.worker_id
    assert history.site_id == world.site.id and history.counted and history.marks  # the api type's mark
    assert history in histories_of(world.app, world.worker.worker_id)
    # the client is the worker's own, logged in: its portal answers
    assert world.client.get("/").status_code in (200, 302)


def test_off_roster_helpers_give_what_they_say(plugin_world):
    world = plugin_world
    stranger = off_roster_worker(world.app, world.site)
    [result] = world.record([world.event("kit-2", worker_id=stranger.worker_id)])
    assert result["result"] == "accepted"
    [event] = events_of(world.app, world.device)
    [history] = histories_of(world.app, stranger, site=world.site, work_date=event.work_date)
    assert not history.counted and history.not_counted_reason  # off the roster: kept, not counted
    other = off_roster_site(world.app, world.worker)
    assert other != world.site


def test_device_event_with_finds_this_devices_event_by_an_extra(plugin_world):
    world = plugin_world
    who = {"worker_id": world.worker.worker_id}
    world.record([world.event("kit-3", extras={"frame": "f-1"}, **who),
                  world.event("kit-4", extras={"frame": "f-2"}, **who)])
    today = events_of(world.app, world.device)[0].work_date
    with operator(world.app):
        found = device_event_with(world.device, "frame", "f-1", since=today, until=today)
        assert found is not None and found.device_event_id == "kit-3"
        assert device_event_with(world.device, "frame", "f-1", since=today, until=today, other_than="kit-3") is None
        assert device_event_with(world.device, "frame", "f-9", since=today, until=today) is None
        yesterday = today - datetime.timedelta(days=1)
        assert device_event_with(world.device, "frame", "f-1", since=yesterday, until=yesterday) is None


def test_credential_version_changes_with_the_credentials(plugin_world):
    world = plugin_world
    with operator(world.app):
        before = credential_version("kit-face", [world.worker])
    cred = enrol(world.app, world.worker, "kit-face", payload=b"template-1")
    with operator(world.app):
        enrolled = credential_version("kit-face", [world.worker])
        assert enrolled != before
        assert credential_version("kit-face", []) == credential_version("kit-face", [])
        remove_credential(cred)
    with operator(world.app):
        assert credential_version("kit-face", [world.worker]) == before
    assert credentials_of(world.app, "kit-face") == []


def test_audit_credential_reads_writes_one_entry_per_worker(plugin_world):
    world = plugin_world
    stranger = off_roster_worker(world.app, world.site)
    with operator(world.app):
        audit_credential_reads(world.device, [world.worker, stranger], "試験テンプレート", "契約テスト")
        audit_credential_reads(world.device, [], "試験テンプレート")  # nobody: nothing written
    entries = audit_entries(world.app, "試験テンプレート")
    assert sorted(e.worker_id for e in entries) == sorted([world.worker.worker_id, stranger.worker_id])
    assert {e.username for e in entries} == {f"device:{world.device.id}"}
    assert all("契約テスト" in (e.detail or "") for e in entries)


def test_worker_by_code_and_the_security_code(plugin_world):
    world = plugin_world
    issue_security_code(world.app, world.worker, "4321")
    with operator(world.app):
        assert worker_by_code(world.worker.worker_id) == world.worker
        assert worker_by_code("00000000000000") is None and worker_by_code("not a code") is None
        assert check_security_code(world.worker, "4321")
        assert not check_security_code(world.worker, "1234")
        assert check_security_code(world.worker, "4321")  # a success after a failure still passes


def test_void_issued_and_void_until(plugin_world):
    world = plugin_world
    stranger = off_roster_worker(world.app, world.site)
    with operator(world.app):
        assert void_until("kit-qr", world.worker.worker_id, label="失効") is None
        at = datetime.datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
        void_issued(world.worker, "kit-qr", label="失効", now=at)
    with operator(world.app):
        assert void_until("kit-qr", world.worker.worker_id, label="失効") == at
        assert void_until("kit-qr", stranger.worker_id, label="失効") is None
        assert void_until("kit-qr", world.worker.worker_id, label="他の印") is None
    [mark] = credentials_of(world.app, "kit-qr", world.worker)
    assert mark.lookup_hash is None and mark.payload is None and mark.label == "失効"
