"""1-1 技能者情報 (技能者、所属事業主(「過去の所属事業者」情報を除く)): the 技能者情報 screen's items as lines
(項目, 内容, 値), built from :func:`portal.people.disclosure.worker_information` and nothing else, like the screen.
A company that is not the worker's current 所属事業主 (元請, 上位下請, others) opens the screen, not this form."""
from __future__ import annotations

from portal.people import disclosure
from portal.app.clock import tokyo_today
from portal.app.errors import DomainError
from reports import register
from reports.base import OWN_EMPLOYER, WORKER, Column, Output, Params, Report, Viewer

ALLOWED_RELATIONS = (disclosure.SELF, disclosure.ADMIN, disclosure.EMPLOYER)


def information_lines(info: dict) -> list[list]:
    """(項目, 内容, 値) lines of a worker's 技能者情報, in the screen's order: the CSV of the screen and this form."""
    from portal.views.disclosure import display

    lines = [["技能者ID", "技能者ID", info["worker_id"]]]
    for section in display(info):
        for label, text in section["lines"] if section["shown"] else [("", "非開示")]:
            lines.append([section["label"], label, text])
    return lines


def check(session, viewer: Viewer, params: Params) -> int:
    """The worker itself or its current 所属事業主 (and the administrator); returns the worker's pk."""
    worker_id = viewer.worker_id if viewer.scope.kind == "worker" else params.worker
    if worker_id is None:
        raise DomainError("worker_required", "技能者を選んでください。")
    rel = disclosure.relation(session, viewer.scope, worker_id, tokyo_today())
    if rel.kind not in ALLOWED_RELATIONS:
        raise DomainError("report_not_allowed", "技能者情報(1-1)を出力する権限がありません（出力できる者: 技能者本人、所属事業主）。", 403)
    return worker_id


def build(session, viewer: Viewer, params: Params) -> Output:
    worker_id = check(session, viewer, params)
    info = disclosure.worker_information(session, viewer.scope, worker_id, tokyo_today())
    if info is None:
        raise DomainError("worker_not_visible", "表示できる技能者情報がありません。", 404)
    lines = information_lines(info)
    name = (info["items"].get("name") or {}).get("name", "")
    return Output(columns=[Column("項目", width=28), Column("内容", width=28), Column("値", width=60)], rows=lines,
                  total=len(lines), workers={worker_id}, subtitle=f"{name}（{info['worker_id']}）")


REPORT = register(Report(
    id="1-1", title="技能者情報", parties=(WORKER, OWN_EMPLOYER), filters=("worker",), build=build, check=check,
    note="所属事業主は「過去の所属事業者」を除くすべての項目。"))
