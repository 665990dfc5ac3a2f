"""Why a work day does not count, or does not count toward the level, and who can fix it: the worker's day list
(the calendar on a phone) and the "what is missing" of its level progress. Plain functions over the scoped
session; the reasons are the histories' own (portal.history.histories)."""
from __future__ import annotations

import dataclasses
import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.history import corrections, histories
from portal.history.histories import MISSING_LABELS
from portal.models import WorkHistory
from portal.models.histories import NOT_COUNTED_REASONS
from portal.output.work_calendar import WEEKDAYS, marks, site_labels

# not-counted reason → who can make the day count, and how
FIXES = {
    "site_unapproved": "元請事業者が現場を承認すると計上されます。",
    "site_unregistered": "元請事業者が現場を登録すると計上できます（現場IDが付いたら所属事業者が直接入力・事後補正で現場を指定）。",
    "worker_not_registered": "所属事業者が作業員名簿（現場の技能者登録）に登録すると計上されます。",
    "outside_period": "元請事業者が現場の就業履歴蓄積期間を見直すと計上されます。",
    "structure_gap": "上位の事業者が施工体制に登録し、承認されると計上されます。",
    "deadline_passed": "補正期限（就業日の翌月末）を過ぎて届いたため、計上できません。",
}
# missing for the evaluation (portal.history.histories.MISSING_LABELS) → who registers it
MISSING_FIXES = {
    "employer": "所属事業者が所属を承認します。",
    "trade": "所属事業者が作業員名簿に職種を登録します。",
    "position": "所属事業者が作業員名簿に立場を登録します。",
    "qualification": "所属事業者が保有資格を登録します（本人は変更申請で追加を依頼できます）。",
}


@dataclasses.dataclass
class DayNote:
    history_id: int
    work_date: datetime.date
    weekday: str
    site_label: str
    marks: str
    counted: bool
    valid: bool
    why: list  # what keeps the day from counting / from the evaluation
    fixes: list  # who can fix it, and how
    site_id: int | None = None


def missing_of(history: WorkHistory) -> list[str]:
    """The keys of MISSING_LABELS that keep a counted day from the evaluation (read from its invalid_reason)."""
    text = history.invalid_reason or ""
    return [key for key, label in MISSING_LABELS.items() if key != "not_counted" and label in text]


def notes(session: Session, worker_id: int, first: datetime.date, last: datetime.date) -> list[DayNote]:
    """The worker's days first..last, each with why it does not count (or not for the evaluation) and who fixes it."""
    rows = session.execute(select(WorkHistory).where(WorkHistory.worker_id == worker_id, WorkHistory.work_date >= first,
                                                     WorkHistory.work_date <= last)
                           .order_by(WorkHistory.work_date, WorkHistory.site_id)).scalars().all()
    labels = site_labels(session, {h.site_id for h in rows})
    found = []
    for h in rows:
        if not h.counted:
            why = [NOT_COUNTED_REASONS.get(h.not_counted_reason or "", "非計上")]
            fixes = [FIXES.get(h.not_counted_reason or "", "所属事業者にお問い合わせください。")]
        else:
            missing = [] if h.valid_for_evaluation else missing_of(h)
            why = [f"{MISSING_LABELS[m]}の登録がないため能力評価に使えません" for m in missing]
            fixes = [MISSING_FIXES[m] for m in missing]
        found.append(DayNote(history_id=h.id, work_date=h.work_date, weekday=WEEKDAYS[h.work_date.weekday()],
                             site_label=labels.get(h.site_id, ("現場未登録", ""))[0], marks="/".join(marks(h.methods)),
                             counted=h.counted, valid=h.counted and h.valid_for_evaluation, why=why, fixes=fixes,
                             site_id=h.site_id))
    return found


def cell_anchors(day_notes: list[DayNote]) -> dict:
    """(site label, counted, day of month) → the page id of that day's note: the calendar grid's cell (one line per
    site and 計上/非計上, portal.output.work_calendar.CalendarRow) links to the note that says why."""
    found: dict = {}
    for n in day_notes:
        found.setdefault((n.site_label, n.counted, n.work_date.day), f"day-{n.history_id}")
    return found


def missing_for_evaluation(session: Session, worker_id: int) -> list[tuple[str, int, str]]:
    """(what is missing, counted days it keeps from the evaluation, who registers it): the level progress's
    answer to "why do my days not count toward the next level"."""
    rows = session.execute(select(WorkHistory.invalid_reason, func.count())
                           .where(WorkHistory.worker_id == worker_id, WorkHistory.counted.is_(True),
                                  WorkHistory.valid_for_evaluation.is_(False))
                           .group_by(WorkHistory.invalid_reason)).all()
    days: dict[str, int] = {}
    for text, n in rows:
        for key, label in MISSING_LABELS.items():
            if key != "not_counted" and label in (text or ""):
                days[key] = days.get(key, 0) + n
    return [(MISSING_LABELS[k], n, MISSING_FIXES[k]) for k, n in sorted(days.items(), key=lambda kv: -kv[1])]


# not-counted reason → the screen where the site's prime contractor (or the employer) fixes it, for the site board
FIX_SCREENS = {
    "site_unapproved": ("SiteView.edit", "現場を承認する"),
    "outside_period": ("SiteView.edit", "蓄積期間を見直す"),
    "worker_not_registered": ("SiteWorkerRegistrationView.list", "作業員名簿を開く"),
    "structure_gap": ("StructureLinkView.list", "施工体制を開く"),
}


def fix_link(history: WorkHistory) -> tuple[str, str] | None:
    """(url, label) of where the site board's row is fixed; None when nothing can make it count."""
    from flask import url_for

    found = FIX_SCREENS.get(history.not_counted_reason or "")
    if found is None or history.site_id is None:
        return None
    endpoint, label = found
    return (url_for(endpoint, pk=history.site_id) if endpoint.endswith(".edit") else url_for(endpoint)), label


@dataclasses.dataclass
class SiteChoice:
    code: str  # 現場ID
    label: str
    recent: bool  # the worker tapped or worked there lately
    warning: str  # why a day there would not count (empty: it can count)


def site_choices(session: Session, worker_id: int | None, today: datetime.date) -> list[SiteChoice]:
    """The sites a correction can name, as far as the user sees them: where the worker worked lately first (its
    histories of the correctable months), then the other visible sites; each says when a day there cannot count."""
    from portal.models import Site, SiteWorkerRegistration

    earliest = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    recent: list[int] = []
    if worker_id is not None:
        for site_id in session.execute(select(WorkHistory.site_id).where(
                WorkHistory.worker_id == worker_id, WorkHistory.work_date >= earliest, WorkHistory.site_id.is_not(None))
                .group_by(WorkHistory.site_id).order_by(func.max(WorkHistory.work_date).desc())).scalars():
            recent.append(site_id)
    sites = {s.id: s for s in session.execute(select(Site).order_by(Site.name)).scalars()}
    rostered = set() if worker_id is None else set(session.execute(select(SiteWorkerRegistration.site_id).where(
        SiteWorkerRegistration.worker_id == worker_id)).scalars())
    order = [i for i in recent if i in sites] + [i for i in sites if i not in recent]
    # the worker's employers today: a request for a site where none has a place in the approved 施工体制 is
    # refused (portal.history.corrections.check_structure); the form says so before it is sent
    employers = set() if worker_id is None else set(corrections.employers_on(session, worker_id, today))
    structure = histories.Context(session, [], order) if employers else None
    out = []
    for site_id in order:
        site = sites[site_id]
        warnings = []
        if not site.approved:
            warnings.append("元請の現場承認前のため計上されません（" + FIXES["site_unapproved"] + "）")
        if worker_id is not None and site_id not in rostered:
            warnings.append("作業員名簿に登録がないため計上されません（" + FIXES["worker_not_registered"] + "）")
        if structure is not None and not employers & structure.connected(site_id, today):
            warnings.append("所属事業者がこの現場の施工体制（承認済み）に入っていないため申請できません（"
                            + FIXES["structure_gap"] + "）")
        out.append(SiteChoice(code=site.site_id, label=site.name, recent=site_id in recent, warning=" ".join(warnings)))
    return out
