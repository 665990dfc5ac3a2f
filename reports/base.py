"""What every report shares: the viewer it is produced for, its parameters, its columns and its output.

A report is one module that builds a :class:`Report` and passes it to :func:`reports.register`. Its ``build``
function runs under the viewer's own scope (``using_scope(session, viewer.scope)``): every query it makes is
filtered like the viewer's screens, so a report cannot show a row its viewer could not open. Worker items
(住所, 建退共 …) pass :func:`portal.people.disclosure.may_see` as well (through ``visible_items`` / ``worker_information``).
"""
from __future__ import annotations

import dataclasses
import datetime
from typing import Callable, Iterable, Iterator

from portal.app.errors import DomainError
from portal.people.scoping import ROLE_ADMIN, ROLE_EMPLOYER, ROLE_SITE_MANAGER, ROLE_WORKER, Scope

ROLES = (ROLE_ADMIN, ROLE_EMPLOYER, ROLE_SITE_MANAGER, ROLE_WORKER)
FORMATS = {"csv": "CSV", "xlsx": "Excel", "pdf": "PDF"}
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "pdf": "application/pdf"}
FILTERS = {"month": "年月", "site": "現場", "employer": "所属事業者", "worker": "技能者"}

# The guide's third column, per party, as portal roles. 所属事業主 / 元請 / 上位下請 are all 事業者責任者 logins
# (which of them a company is depends on the worker and the site: the scope decides); a 現場管理者 acts for its
# company as 元請 or 上位下請 on its assigned sites only, never as the 所属事業主.
WORKER, OWN_EMPLOYER, PRIME, UPPER = "技能者", "所属事業主", "元請", "上位下請"
PARTY_ROLES = {WORKER: {ROLE_WORKER}, OWN_EMPLOYER: {ROLE_EMPLOYER}, PRIME: {ROLE_EMPLOYER, ROLE_SITE_MANAGER},
               UPPER: {ROLE_EMPLOYER, ROLE_SITE_MANAGER}}


@dataclasses.dataclass(frozen=True)
class Column:
    label: str
    kind: str = "text"  # text / int / date / datetime / mark (a calendar cell)
    width: float = 12  # Excel column width (characters)


@dataclasses.dataclass(frozen=True)
class Viewer:
    """Who a report is produced for: the login, its role and its row-level scope (computed at start)."""

    user_id: int | None
    username: str
    display_name: str
    role: str
    scope: Scope
    employer_id: int | None = None  # pk of the user's employer
    worker_id: int | None = None  # pk, when the user is a worker


@dataclasses.dataclass
class Output:
    """What a report produced: columns, a title line for the parameters, the rows (produced lazily, so a long
    list is never held whole), how many rows to expect (progress) and the workers shown (audit)."""

    columns: list[Column]
    rows: Iterable[list]
    total: int
    subtitle: str = ""
    workers: set = dataclasses.field(default_factory=set)  # worker pks shown; filled while the rows are made
    paper: str | None = None  # overrides Report.paper (a month with many days goes to A3)


@dataclasses.dataclass(frozen=True)
class Report:
    id: str  # the guide's 帳票NO: "2-3"
    title: str
    parties: tuple  # the guide's third column: (技能者, 所属事業主, …)
    filters: tuple  # keys of FILTERS the report takes
    build: Callable  # build(session, viewer, params) → Output
    paper: str = "A4"  # A4 / A3, always landscape
    note: str = ""  # the guide's note under the table (1-2, 1-4, 2-2, 2-3) or how the party rule is read
    # check(session, viewer, params): a refusal that depends on the data (1-1: only the 所属事業主), run when
    # the job is requested, so that the request itself is refused (403) rather than the job failing later
    check: Callable | None = None
    # produce(session, viewer, job, folder, done, begin) → (path, file name, units, worker pks): a form with its own
    # layout and parameters (the 安全書類, reports.safety.forms) writes its file itself instead of rows
    produce: Callable | None = None

    @property
    def roles(self) -> frozenset:
        found = {ROLE_ADMIN}
        for party in self.parties:
            found |= PARTY_ROLES[party]
        return frozenset(found)

    @property
    def slug(self) -> str:
        return self.id.replace("-", "_")

    def allows(self, role: str) -> bool:
        return role in self.roles


def not_allowed(report: Report) -> DomainError:
    return DomainError("report_not_allowed",
                       f"「{report.id} {report.title}」を出力する権限がありません（出力できる者: {'、'.join(report.parties)}）。",
                       403)


# --- parameters ------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Params:
    year: int
    month: int
    site: int | None = None
    employer: int | None = None
    worker: int | None = None

    @property
    def ym(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def to_dict(self) -> dict:
        return {"month": self.ym, "site": self.site, "employer": self.employer, "worker": self.worker}


def parse_params(raw: dict, today: datetime.date) -> Params:
    """Month as YYYY-MM (default: this month in Tokyo), site / employer / worker as primary keys."""
    from portal.output.work_calendar import month_bounds

    value = (raw.get("month") or "").strip()
    if value:
        try:
            year, month = (int(p) for p in value.split("-"))
        except ValueError:
            raise DomainError("invalid_month", f"年月はYYYY-MMの形式で指定してください（入力値: {value}）。") from None
        month_bounds(year, month)
    else:
        year, month = today.year, today.month

    def key(name):
        v = raw.get(name)
        if v in (None, ""):
            return None
        try:
            number = int(v)
        except (TypeError, ValueError):
            raise DomainError("invalid_parameter", f"{FILTERS[name]}の指定が正しくありません（入力値: {v}）。") from None
        if not 0 < number < 2**31:
            raise DomainError("invalid_parameter", f"{FILTERS[name]}の指定が正しくありません（入力値: {v}）。")
        return number

    return Params(year, month, site=key("site"), employer=key("employer"), worker=key("worker"))


def counted(rows: Iterable[list], done: Callable[[int], None] | None, every: int = 50) -> Iterator[list]:
    """Pass rows through, telling ``done`` how many have gone by (progress)."""
    n = 0
    for row in rows:
        yield row
        n += 1
        if done is not None and n % every == 0:
            done(n)
    if done is not None:
        done(n)
