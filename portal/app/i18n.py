"""The portal's own translation catalogue. Japanese is the source language: our labels, screen titles and
menus are lazy translations whose msgid is the Japanese text; portal/translations/<lang> translates them
(FAB merges that folder with its own catalogues). The msgids are collected from the glossary and from the
screens an app registered, since they are not literals pybabel could extract.

    python -m portal.app.i18n    # add new msgids to every .po, compile the .mo files, list untranslated ones
"""
from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask_babel.speaklater import LazyString

from portal.people.glossary import LABELS

TRANSLATIONS = Path(__file__).parent.parent / "translations"
DOMAIN = "messages"


def _msgids_of(value) -> set[str]:
    """The msgids a lazy string needs, including those of lazy strings formatted into it."""
    if not isinstance(value, LazyString):
        return set()
    found = {a for a in value._args if isinstance(a, str)}
    for nested in [*value._args, *value._kwargs.values()]:
        found |= _msgids_of(nested)
    return found


def _menu_labels(items):
    for item in items:
        yield item.label
        yield from _menu_labels(item.childs)


def source_msgids(appbuilder) -> set[str]:
    """Every Japanese msgid of the glossary and of the app's menus, titles and column labels (FAB's own,
    English, msgids are translated by FAB's catalogues)."""
    menu = list(_menu_labels(appbuilder.menu.menu))
    # FAB's menu template translates plain labels too (``_(item.label)``)
    lazies = [m for m in menu if isinstance(m, LazyString)]
    plain = {m for m in menu if isinstance(m, str)}
    for view in appbuilder.baseviews:
        lazies += [getattr(view, a, None) for a in ("list_title", "show_title", "add_title", "edit_title")]
        lazies += list((getattr(view, "label_columns", None) or {}).values())
    from reports.safety.headings import MSGIDS as SAFETY_HEADINGS  # here: reports import the portal's models

    found = set(LABELS.values()).union(plain, SAFETY_HEADINGS, *(_msgids_of(v) for v in lazies))
    return {m for m in found if not m.isascii()}


def po_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(lang: str) -> Catalog:
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


@functools.lru_cache(maxsize=None)
def _texts(lang: str) -> dict:
    if lang == "ja" or not po_path(lang).exists():
        return {}
    return {m.id: m.string for m in read_catalogue(lang) if m.id and m.string and not m.fuzzy}


def translate(msgid: str, lang: str) -> str:
    """``msgid`` (Japanese) in ``lang`` from the committed catalogue, or itself when it has no translation: for
    what is made outside a request (a report job's file), where Flask-Babel has no user's locale."""
    return _texts(lang).get(msgid, msgid)


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def untranslated(catalog: Catalog, msgids) -> list[str]:
    return sorted(m for m in msgids if not (catalog.get(m) and catalog.get(m).string and not catalog.get(m).fuzzy))


def update(appbuilder, langs=("en",)) -> dict[str, list[str]]:
    """Add the app's new msgids to each language's .po (translations already there are kept), compile its
    .mo; answer the msgids still untranslated per language."""
    msgids = source_msgids(appbuilder)
    missing = {}
    for lang in langs:
        path = po_path(lang)
        catalog = read_catalogue(lang) if path.exists() else Catalog(locale=lang, domain=DOMAIN, project="ccus-portal")
        for m in sorted(msgids):
            if m not in catalog:
                catalog.add(m, "")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, catalog, width=0, sort_output=True, omit_header=False)
        path.with_suffix(".mo").write_bytes(compiled(read_catalogue(lang)))
        missing[lang] = untranslated(catalog, msgids)
    return missing


# FAB's own English msgids its Japanese catalogue (ja_JP) leaves untranslated or FAB never marked: the portal's
# Japanese catalogue (portal/translations/ja) fills them, so a Japanese screen shows no English.
FAB_JAPANESE = {
    "Add": "登録", "Edit": "編集", "Show": "詳細", "Delete": "削除", "Detail": "詳細", "Select Value": "選択してください",
    "Are you sure you want to delete this item?": "この記録を削除します。よろしいですか？（元に戻せません）",
    "Database Error": "保存できませんでした。入力内容と権限を確認してください。",
    "In": "次のいずれか", "Not In": "次のいずれでもない", "Not Starts with": "～から始まらない",
    "Not Ends with": "～で終わらない", "Not Contains": "含まない", "No Relation": "関連なし",
    "Relation as Many": "関連（複数）", "Not Relation": "関連しない", "Smaller than": "より小さい",
    "Add Group": "グループの登録", "Edit Group": "グループの編集", "Groups": "グループ", "List Groups": "グループ一覧",
    "Show Group": "グループの詳細", "Sign In with": "ログイン方法", "Edit User Information": "ユーザー情報の編集",
    "User information changed": "ユーザー情報を変更しました",
    "User(s) exists in the group, cannot delete": "グループにユーザーがいるため削除できません",
    "User(s) exists in the role, cannot delete": "ロールにユーザーがいるため削除できません",
    "Cancel": "キャンセル", "OK": "OK", "User confirmation needed": "確認してください",
    "The user's password for authentication": "ログインに使うパスワード",
}


def update_japanese() -> None:
    """Write portal/translations/ja from FAB_JAPANESE (its .po and compiled .mo)."""
    catalog = Catalog(locale="ja", domain=DOMAIN, project="ccus-portal")
    for msgid, text in sorted(FAB_JAPANESE.items()):
        catalog.add(msgid, text)
    path = po_path("ja")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=0, sort_output=True, omit_header=False)
    path.with_suffix(".mo").write_bytes(compiled(read_catalogue("ja")))


def main() -> int:
    import os
    import tempfile

    from flask_appbuilder import Model
    from sqlalchemy import create_engine

    from portal import create_app

    import portal.models  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CCUS_INSTANCE"] = tmp
        url = f"sqlite:///{tmp}/i18n.db"
        engine = create_engine(url)
        Model.metadata.create_all(engine)
        engine.dispose()
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "i18n", "CCUS_CREDENTIAL_KEY": "i18n"})
        missing = update(app.appbuilder)
        update_japanese()
    for lang, msgids in missing.items():
        for m in msgids:
            print(f"{lang}\tuntranslated\t{m}")
    return 1 if any(missing.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
