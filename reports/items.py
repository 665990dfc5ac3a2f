"""Worker items in report cells, each shown only when :func:`portal.people.disclosure.may_see` allows it for the
viewer (the facts are gathered once per worker: ``visible_items``); otherwise the cell reads 非開示."""
from __future__ import annotations

from portal.people import disclosure
from portal.app.clock import tokyo_today
from portal.models.disclosure import ITEMS
from reports.base import Column, Viewer

HIDDEN = "非開示"
CHUNK = 5000  # ids per IN list: under SQLite's 32,766 parameters (with the scope's own lists) and PostgreSQL's 65,535


def members(session, ids, values) -> set:
    """Which of ``values`` a scope's id set holds: a frozenset answers in Python, an IdSet (a SELECT) in one
    query per CHUNK, where ``value in ids`` would ask the database once per value (and SQLAlchemy would build
    and compile that statement each time: 3,000 workers cost seconds)."""
    values = {v for v in values if v is not None}
    if isinstance(ids, (set, frozenset)):
        return values & ids
    from sqlalchemy import select

    from portal.people.scoping import INTERNAL

    sub, ordered, found = ids.stmt.subquery(), sorted(values), set()
    for i in range(0, len(ordered), CHUNK):
        found.update(session.execute(select(sub.c[0]).where(sub.c[0].in_(ordered[i:i + CHUNK])),
                                     execution_options={INTERNAL: True}).scalars())
    return found


class Items:
    """The items a viewer may see, per worker (asked once per worker and report). ``workers``: the pks the
    report will show, known up front, so that which of them are the employer's own is asked in one query."""

    def __init__(self, session, viewer: Viewer, workers=()):
        self.session, self.viewer, self.today, self.found = session, viewer, tokyo_today(), {}
        self.own = None  # what the employer sees of its own workers: the same for each of them
        self.asked = frozenset()  # workers already known not to be its own
        if workers and self._by_affiliation():
            own = members(session, viewer.scope.own_worker_ids, workers)
            self.found.update(dict.fromkeys(own, self._own_items()))
            self.asked = frozenset(workers) - own

    def _by_affiliation(self) -> bool:
        scope = self.viewer.scope
        return scope.kind == "employer" and not scope.site_manager

    def _own_items(self) -> frozenset:
        # its own worker (所属, as of the scope computed when the report started): the same rule, decided
        # once, without asking the tables again for each of thousands of workers
        if self.own is None:
            rel = disclosure.Relation(disclosure.EMPLOYER)
            self.own = frozenset(i.code for i in ITEMS if disclosure.decide(rel, i.code))
        return self.own

    def visible(self, worker_id: int) -> frozenset:
        if worker_id not in self.found:
            scope = self.viewer.scope
            if self._by_affiliation() and worker_id not in self.asked and worker_id in scope.own_worker_ids:
                self.found[worker_id] = self._own_items()
            else:
                self.found[worker_id] = disclosure.visible_items(self.session, scope, worker_id, self.today)
        return self.found[worker_id]

    def cell(self, worker_id: int, item: str, value):
        return value if item in self.visible(worker_id) else HIDDEN


def insurance_of(session, worker_ids) -> dict:
    """worker pk → its insurance row (health_status, pension_status, employment_status, kentaikyo), for many
    workers in one query per CHUNK, never one per worker; the viewer's scope decides which rows it reads."""
    from sqlalchemy import select

    from portal.models import WorkerInsurance as I

    ids, found = sorted(worker_ids), {}
    for i in range(0, len(ids), CHUNK):
        found.update((r.worker_id, r) for r in session.execute(
            select(I.worker_id, I.health_status, I.pension_status, I.employment_status, I.kentaikyo)
            .where(I.worker_id.in_(ids[i:i + CHUNK]))))
    return found


def insurance_text(ins) -> tuple[str, str, str]:
    if ins is None:
        return "", "", ""
    return ins.health_status, ins.pension_status, ins.employment_status


def qualification_text(worker) -> str:
    return "、".join(wq.qualification.name for wq in worker.qualifications if wq.qualification is not None)


WORKER_COLUMNS = [Column("技能者ID", width=16), Column("技能者氏名", width=14), Column("フリガナ", width=16)]
ITEM_COLUMNS = [Column("職種", width=20), Column("技能レベル", width=9), Column("健康保険", width=8),
                Column("年金保険", width=8), Column("雇用保険", width=8), Column("建退共", width=7),
                Column("保有資格", width=30)]


def item_cells(items: Items, worker) -> list:
    """職種, 技能レベル, 社会保険 (健康・年金・雇用), 建退共, 保有資格 of one worker, as the viewer may see them."""
    health, pension, employment = insurance_text(worker.insurance)
    kentaikyo = "" if worker.insurance is None else ("加入" if worker.insurance.kentaikyo else "未加入")
    return [items.cell(worker.id, "trades", worker.trade_names), items.cell(worker.id, "level", worker.level_label),
            items.cell(worker.id, "social_insurance", health), items.cell(worker.id, "social_insurance", pension),
            items.cell(worker.id, "social_insurance", employment), items.cell(worker.id, "retirement_aid", kentaikyo),
            items.cell(worker.id, "qualifications", qualification_text(worker))]


def name_cells(items: Items, worker) -> list:
    return [worker.worker_id, items.cell(worker.id, "name", worker.name), items.cell(worker.id, "name", worker.name_kana)]
