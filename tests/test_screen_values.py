"""What a screen prints for a stored value, and the pages around the screens: labels for codes, ○/― for booleans,
Tokyo time with its zone, Japanese FAB strings and error pages that say what to do next."""
from __future__ import annotations

import datetime
import re

import pytest

from portal.app.clock import UTC, tokyo_text
from portal.output.display import shown


def test_values_read_as_labels_marks_and_tokyo_time(app):
    with app.app_context():
        assert shown("WorkerInsurance", "kentaikyo", True) == "○"
        assert shown("WorkerInsurance", "kentaikyo", False) == "―"
        assert shown("Worker", "common_name", None) == ""
        assert shown("EntryExitEvent", "kind", "entry") == "入場"
        assert shown("WorkHistory", "not_counted_reason", "site_unapproved") == "元請現場未承認"
        assert shown("Device", "device_type", "api") != "api"  # the core's own type, labelled by its plugin
        assert shown("WorkerTrade", "position", 1) == "1（主たる職種）"
        assert shown("Site", "position", 1) == 1  # the same column name elsewhere is no enumeration
        assert shown("AuditLog", "object_type", "EntryExitEvent,Worker") == "入退場記録、技能者情報"
        assert shown("AuditLog", "object_id", "Worker:60") == "技能者情報:60"
        at = datetime.datetime(2026, 11, 30, 23, 59, 30, 123456, tzinfo=UTC)
        assert shown("Device", "last_seen_at", at) == "2026/12/01 08:59 JST"  # the next day in Tokyo
        assert shown("Device", "last_seen_at", at.replace(tzinfo=None)) == "2026/12/01 08:59 JST"  # SQLite: UTC
        assert tokyo_text(at, seconds=True) == "2026/12/01 08:59:30 JST"

        class Row:
            def __str__(self):
                return "建設 未来"

        assert shown("Worker", "trades", [Row(), Row()]) == "建設 未来、建設 未来"
        assert shown("Worker", "trades", [object()]) == ""  # a row without a name of its own: never its repr
        assert shown("Worker", "trade", Row()) == "建設 未来"


def test_fab_strings_and_filter_operators_are_japanese(app):
    from flask_babel import gettext

    with app.test_request_context("/"):
        from flask import session

        session["locale"] = "ja"
        assert gettext("Are you sure you want to delete this item?").startswith("この記録を削除します")
        assert gettext("Not In") == "次のいずれでもない"
        assert gettext("Database Error") != "Database Error"
        assert gettext("Cancel") == "キャンセル"


@pytest.mark.parametrize("path,status", [("/no-such-page/", 404), ("/workerview/show/1", 302)])
def test_error_pages_say_what_to_do_next(app, path, status):
    client = app.test_client()
    r = client.get(path)
    assert r.status_code == status
    if status == 404:
        body = r.get_data(as_text=True)
        assert 'lang="ja"' in body and "メニューから目的の画面を開き直してください" in body
        assert "Not Found" not in body


def test_every_status_has_a_next_step():
    from portal.app.errors import HTTP_ERRORS, next_step

    for status in HTTP_ERRORS:
        assert re.search(r"[ぁ-ん]", next_step(status)), status


def test_login_page_declares_its_language(app):
    body = app.test_client().get("/login/").get_data(as_text=True)
    assert '<html lang="ja">' in body
