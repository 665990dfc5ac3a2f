"""The safety documents' headings in the user's language. Japanese is the source: each heading is a msgid of the
portal's catalogue (portal/translations; portal.app.i18n collects :data:`MSGIDS` with the screens' labels), and a
form made for an English user has its title, form number, header labels, column labels, note and footer labels
translated when it is written (:func:`localized`). What the data says (names, trades, dates) stays as entered.

The language is the user's at the time of the request (a background job stores it with its parameters, as the
job's thread has no request). Forms of one list under a header (reports.safety.sheet: AZ3, AZ7, 第7号) and the
安全書類 menu are translated; the other forms keep their Japanese headings.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

from portal.models.safety import RETURN_REASONS
from reports.safety import REVISION, induction, insurance, ledger
from reports.safety.sheet import Sheet

LANGUAGES = ("ja", "en")
# the header and footer labels the sheet forms print (their titles, form numbers, columns and notes are their
# modules' constants); tests/test_safety_english.py checks that every heading of a made form is here
SHEET_LABELS = [
    "事業所名・現場ID", "元請名・事業者ID", "発注者名", "工期", "作成日", "会社名・事業者ID", "次", "役割", "氏名",
    "専任・非専任", "資格内容", "担当工事内容",  # AZ3
    "事業所の名称・現場ID", "所長名", "一次会社名・事業者ID",  # the 名簿's header lines (AZ7)
    "提出日", "作業所名・現場ID", "作業所長", "現場代理人", "教育の種類", "実施日",  # 第7号
]
# the 安全書類 menu's headings (portal/templates/safety/menu.html)
SCREEN_LABELS = [
    "安全書類", "全建統一様式", "施工体制台帳の作成", "保存期限（引渡しから）", "引渡し日が未登録",
    "提出された名簿・通知書は保存期限の翌日以降に削除されます", "施工体系図（第4号）", "提出版", "施工体制台帳（第3号）",
    "施工体制台帳（工事担当技術者）", "下請負業者編成表（第1号-乙）", "会社名", "作業員名簿（第5号）", "社会保険加入状況",
    "再下請負通知書（第1号-甲）", "新規入場時等教育実施報告書（第7号）", "提出・承認", "出力形式", "バックグラウンドで作成",
    "実施分", "受入教育の実施記録なし", "未提出", "元請の代行で提出", "理由", "承認日", "元請の代行で承認", "変更届が未提出です",
    "代行で提出", "変更届を提出", "提出", "承認", "差戻し理由", "差戻し理由の補足", "差戻し", "出力できる現場がありません。",
    "安全書類メニューへ", "提出済", "承認済", "再下請負通知書", "作業員名簿",  # statuses and forms (portal.models.safety)
    *RETURN_REASONS,
]


def _sheet_texts() -> list[str]:
    out = [REVISION]
    for title, form in ((ledger.ENGINEERS_TITLE, ledger.ENGINEERS_FORM), (insurance.TITLE, insurance.FORM),
                        (induction.TITLE, induction.FORM)):
        out += [title, form]
    out += [label for label, _w in insurance.COLUMNS + induction.COLUMNS] + induction.FILL_IN + [insurance.NOTE]
    return out


MSGIDS = frozenset(m for m in _sheet_texts() + SHEET_LABELS + SCREEN_LABELS if not m.isascii())


def localized(made, translate: Callable[[str], str]):
    """``made`` with its headings through ``translate`` (a msgid → its text in the user's language); a form
    other than a :class:`Sheet` is returned as it is."""
    if not isinstance(made, Sheet):
        return made
    return dataclasses.replace(
        made, title=translate(made.title), form=translate(made.form), revision=translate(made.revision),
        note=translate(made.note) if made.note else "", head=[(translate(l), v) for l, v in made.head],
        columns=[(translate(l), w) for l, w in made.columns], footer=[(translate(l), v) for l, v in made.footer])
