"""能力評価: progress toward the next skill level, per evaluation field (能力評価分野), from the work history.

Only days with a counted history that is valid for evaluation (所属事業者, 職種, 立場 and 資格 present) count.
Days are distinct calendar days (two sites on one day are one day). 職長/班長 days come from the 立場 on the
history. Qualifications required per level are judged by each field's body and are not checked here.

Thresholds (domain.md §2): 1 year = 215 days; L2 645 days; L3 1,505 days (some fields 1,720) with 職長+班長
days; L4 2,150 days with 職長 days ≥ 645. Each field may differ: FIELD_REQUIREMENTS holds the known
differences over DEFAULT_REQUIREMENTS; add a field there when its standard is known.
"""
from __future__ import annotations

import dataclasses
import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Trade, Worker, WorkHistory

DAYS_PER_YEAR = 215
LEADER_POSITIONS = ("職長", "班長")  # only these 立場 count as management days (L3/L4)
FOREMAN = "職長"


@dataclasses.dataclass(frozen=True)
class Requirement:
    days: int  # 就業日数
    leader_days: int = 0  # days as 職長 or 班長
    foreman_days: int = 0  # days as 職長 alone


DEFAULT_REQUIREMENTS = {
    2: Requirement(3 * DAYS_PER_YEAR),
    3: Requirement(7 * DAYS_PER_YEAR, leader_days=1 * DAYS_PER_YEAR),
    4: Requirement(10 * DAYS_PER_YEAR, foreman_days=3 * DAYS_PER_YEAR),
}
FIELD_REQUIREMENTS = {  # 能力評価分野 → the levels where its standard differs from the default
    "鉄筋": {3: Requirement(1505, leader_days=645), 4: Requirement(2150, foreman_days=645)},
    "とび": {3: Requirement(1720, leader_days=430)},
}


def requirements(field: str | None) -> dict[int, Requirement]:
    return {**DEFAULT_REQUIREMENTS, **FIELD_REQUIREMENTS.get(field or "", {})}


@dataclasses.dataclass
class Progress:
    field: str  # 能力評価分野, or the trade itself when it is not judgeable
    evaluable: bool
    trades: list[str]
    current_level: int
    next_level: int | None
    days: int
    leader_days: int
    foreman_days: int
    requirement: Requirement | None

    @property
    def shortfall(self) -> dict:
        """What is still missing, per criterion (0 when met)."""
        r = self.requirement
        if r is None:
            return {}
        return {"days": max(0, r.days - self.days), "leader_days": max(0, r.leader_days - self.leader_days),
                "foreman_days": max(0, r.foreman_days - self.foreman_days)}

    @property
    def met(self) -> bool:
        return self.requirement is not None and not any(self.shortfall.values())

    @property
    def percent(self) -> int:
        """The least advanced criterion, in percent (what limits the next level)."""
        r = self.requirement
        if r is None:
            return 100
        parts = [self.days / r.days]
        if r.leader_days:
            parts.append(self.leader_days / r.leader_days)
        if r.foreman_days:
            parts.append(self.foreman_days / r.foreman_days)
        return min(100, int(min(parts) * 100))


def progress(session: Session, worker_id: int, *, until: datetime.date | None = None) -> list[Progress]:
    """Progress per evaluation field for one worker, through the session's scope (a viewer outside it gets [])."""
    worker = session.execute(select(Worker).where(Worker.id == worker_id)).scalar_one_or_none()
    if worker is None:
        return []
    stmt = (select(WorkHistory.work_date, WorkHistory.position, Trade)
            .join(Trade, Trade.id == WorkHistory.trade_id)
            .where(WorkHistory.worker_id == worker_id, WorkHistory.counted.is_(True),
                   WorkHistory.valid_for_evaluation.is_(True)))
    if until is not None:
        stmt = stmt.where(WorkHistory.work_date <= until)
    groups: dict[str, dict] = {}
    for day, position, trade in session.execute(stmt):
        key = trade.evaluation_field or str(trade)
        g = groups.setdefault(key, {"evaluable": trade.evaluation_field is not None, "trades": set(), "days": set(),
                                    "leader": set(), "foreman": set()})
        g["trades"].add(str(trade))
        g["days"].add(day)
        if position in LEADER_POSITIONS:
            g["leader"].add(day)
        if position == FOREMAN:
            g["foreman"].add(day)
    for held in worker.trades:  # a held trade without history still shows, at zero
        if held.trade is not None:
            key = held.trade.evaluation_field or str(held.trade)
            groups.setdefault(key, {"evaluable": held.trade.evaluation_field is not None, "trades": {str(held.trade)},
                                    "days": set(), "leader": set(), "foreman": set()})
    out = []
    for field, g in sorted(groups.items()):
        nxt = worker.level + 1 if worker.level < 4 else None
        out.append(Progress(
            field=field, evaluable=g["evaluable"], trades=sorted(g["trades"]), current_level=worker.level,
            next_level=nxt, days=len(g["days"]), leader_days=len(g["leader"]), foreman_days=len(g["foreman"]),
            requirement=requirements(field if g["evaluable"] else None).get(nxt) if nxt else None,
        ))
    return out
