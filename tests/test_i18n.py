"""Screens in Japanese first, English on request: our labels, titles and menus are lazy translations whose
msgid is the Japanese text; the English catalogue covers every one of them and its .mo is compiled from the
committed .po; FAB's own strings keep their Japanese and English."""
from __future__ import annotations

import os
import re

from babel.messages.mofile import read_mo
from flask_babel import get_babel

from portal.app import i18n
from portal.people.glossary import LABELS
from portal.demo.testing import api_token

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _languages():
    return sorted(p.name for p in i18n.TRANSLATIONS.iterdir() if (p / "LC_MESSAGES").is_dir())


def _translations(catalog) -> dict:
    """msgid → translation of every real message (the header entry, msgid "", is the compiler's own)."""
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}


def test_committed_mo_is_compiled_from_the_po():
    """The .mo the portal loads holds exactly the .po's translations. Compared message by message, not byte for
    byte: the header names the Babel version that compiled it, which changes with every Babel release."""
    assert "en" in _languages()
    for lang in _languages():
        with i18n.po_path(lang).with_suffix(".mo").open("rb") as f:
            committed = _translations(read_mo(f))
        expected = _translations(i18n.read_catalogue(lang))
        assert expected, f"{lang}: the .po has no translations"
        assert committed == expected, f"{lang}: run python -m portal.app.i18n"


def test_catalogue_comparison_sees_a_changed_translation(tmp_path):
    """The check above fails when a translation differs (and not when only the header does)."""
    catalog = i18n.read_catalogue("en")
    some = next(m for m in catalog if m.id and m.string)
    some.string += " (changed)"
    catalog.header_comment = "# another compiler"
    with (tmp_path / "x.mo").open("wb") as f:
        f.write(i18n.compiled(catalog))
    with (tmp_path / "x.mo").open("rb") as f:
        changed = _translations(read_mo(f))
    assert changed != _translations(i18n.read_catalogue("en"))
    assert changed[some.id].endswith(" (changed)")


def test_every_label_title_and_menu_has_an_english_translation(app):
    msgids = i18n.source_msgids(app.appbuilder)
    # the collection sees the glossary, menu items, categories and the composed titles
    assert set(v for v in LABELS.values() if not v.isascii()) <= msgids
    assert {"技能者情報", "マスタ", "作業員名簿", "%(title)s一覧", "%(title)sの編集"} <= msgids
    catalog = i18n.read_catalogue("en")
    assert i18n.untranslated(catalog, msgids) == [], "add English to portal/translations/en (python -m portal.app.i18n)"
    assert [m.id for m in catalog if m.id and JAPANESE.search(m.string)] == []
    assert [(m.id, errors) for m, errors in catalog.check()] == []  # e.g. %(title)s kept in the English


def test_menu_names_stay_plain_japanese_permission_names(app):
    """Only labels are lazy: the menu names are what menu_access permissions are granted on."""
    def items(menu):
        for item in menu:
            yield item
            yield from items(item.childs)

    by_name = {item.name: item for item in items(app.appbuilder.menu.menu)}
    for name in ("技能者情報", "作業員名簿", "マスタ", "現場・施工体制"):
        assert type(by_name[name].name) is str
        assert str(by_name[name].label) == name  # no request: the msgid itself
    with app.app_context():
        for name in ("技能者情報", "マスタ"):
            assert app.appbuilder.sm.find_view_menu(name) is not None


def test_translation_directories_hold_fab_and_the_portal(app):
    with app.test_request_context("/"):
        directories = [os.path.realpath(d) for d in get_babel().translation_directories]
    assert os.path.realpath(i18n.TRANSLATIONS) in directories
    assert any(d.endswith(os.path.join("flask_appbuilder", "translations")) for d in directories)


def test_japanese_by_default_english_through_lang_route_and_back(client_for):
    client, _ = client_for("employer")
    page = client.get("/workerview/list/").get_data(as_text=True)
    for japanese in ("技能者ID", "技能者情報一覧", "マスタ", "作業員名簿", "ログアウト"):  # ours and FAB's ja
        assert japanese in page
    assert "Skilled worker ID" not in page and "Master data" not in page
    histories = client.get("/workhistoryview/list/").get_data(as_text=True)
    assert "就業履歴一覧" in histories and "就業履歴一覧一覧" not in histories  # a list title is not doubled

    assert client.get("/lang/en").status_code == 302
    page = client.get("/workerview/list/").get_data(as_text=True)
    for english in ("Skilled worker ID", "Skilled worker information — list", "Master data", "Site roster",
                    "Subcontract structure", "Logout"):
        assert english in page
    assert "技能者ID" not in page and ">マスタ" not in page and "ログアウト" not in page
    form = client.get("/workerpersonalview/add").get_data(as_text=True)
    assert "Personal information — register" in form and "Date of birth" in form and "生年月日" not in form

    assert client.get("/lang/ja").status_code == 302
    page = client.get("/workerview/list/").get_data(as_text=True)
    assert "技能者ID" in page and "ログアウト" in page and "Skilled worker ID" not in page


def test_api_labels_follow_the_requested_language(demo_app):
    from portal.demo.testing import login_of

    entry = login_of(demo_app, "employer")
    client = demo_app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, entry['login'], entry['password'])}"}
    japanese = client.get("/api/v1/workers/_info", headers=headers)
    assert japanese.status_code == 200, japanese.get_data(as_text=True)
    english = client.get("/api/v1/workers/_info?_l_=en", headers=headers)
    labels_of = lambda r: {f["name"]: f["label"] for f in r.get_json()["add_columns"]}  # noqa: E731
    assert labels_of(japanese).get("worker_id") == "技能者ID"
    assert labels_of(english).get("worker_id") == "Skilled worker ID"
