"""Which work day a tap belongs to (勤務と就業日): shifts across midnight (夜間工事).

A work history is kept per worker, site and *work day*. Most taps belong to the Tokyo calendar day they happen
on, but a night shift (entry 21:00, exit 06:00) is one day, the day it started. The rule, for the taps (entry,
exit, 就業履歴のみ "work") of one worker at one site, in time order:

- **Linked taps.** An exit or a "work" tap continues the shift of the tap before it while that shift is open:
  the tap before is an entry or a "work" tap, or an exit no more than ``break_gap`` (2 hours) earlier (a second
  tap at the gate). An entry starts a new shift, unless it follows the tap before within ``break_gap``: back
  from a meal break at night, or the gate read the card twice. So a forgotten exit never carries the shift into
  the next morning: the next morning's entry starts a day of its own.
- **Bounded by the shift length.** A tap's shift starts at the earliest tap that is linked to it through every
  tap in between and no more than ``max_shift`` earlier: the site's 最長勤務時間（夜間工事）, ``sites.max_shift_hours``,
  16 hours unless the site sets another (1–23: a shift is shorter than a day, so a tap's day is its calendar day
  or the one before).
- **The work day** is the Tokyo calendar day of that first tap: the day the shift started.

So entry 21:00 → exit 06:00 is one day (the entry's); in 22:00, out 01:00 (meal), in 02:00, out 04:30 is one day;
entries only at 04:30 Monday to Friday are five days (each entry a day after the last: a new shift); an ordinary
08:00–17:00 day and a 04:30 entry the next morning are two days (11.5 hours after the exit: no break is that long).
``max_shift`` bounds how long an exit may follow its entry (an exit of the next afternoon is a day of its own).

Why this shape: a tap's day depends only on the taps of the ``max_shift`` before it (never on a chain of earlier
shifts), and on their times and kinds, not on the order they arrived in. A late tap can change the day only of
itself and of taps up to ``max_shift`` after it, so the ingest reads a bounded window, and since a shift is
shorter than a day, a tap's day is its calendar day or the one before (recompute and rebuild read the
calendar days around the ones they derive).

Events keep their calendar day (EntryExitEvent.work_date, never rewritten: events are append-only); the rule is
applied when a history is derived (portal.history.histories) and by the site board's "on site now" (portal.output.site_board).
"""
from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from typing import Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.app.clock import TOKYO, tokyo_date

DEFAULT_MAX_SHIFT_HOURS = 16
MAX_SHIFT_HOURS_RANGE = (1, 23)  # a shift is shorter than a day: a tap's day is its calendar day or the one before
BREAK_GAP = datetime.timedelta(hours=2)
KIND_ORDER = {"entry": 0, "work": 1, "exit": 2}  # taps at the same instant: the order does not change a link


@dataclasses.dataclass(frozen=True)
class ShiftRule:
    """The parameters of the rule (see the module docstring)."""

    max_shift: datetime.timedelta = datetime.timedelta(hours=DEFAULT_MAX_SHIFT_HOURS)
    break_gap: datetime.timedelta = BREAK_GAP

    @classmethod
    def of_site(cls, max_shift_hours: int | None) -> "ShiftRule":
        """The rule of a site with this 最長勤務時間 (None: the default)."""
        hours = DEFAULT_MAX_SHIFT_HOURS if max_shift_hours is None else int(max_shift_hours)
        return cls(max_shift=datetime.timedelta(hours=hours))


DEFAULT_RULE = ShiftRule()


def check_max_shift_hours(value) -> None:
    """A site's 最長勤務時間 must be whole hours within MAX_SHIFT_HOURS_RANGE (raises DomainError)."""
    from portal.app.errors import DomainError

    low, high = MAX_SHIFT_HOURS_RANGE
    if value is None or isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError("invalid_max_shift_hours",
                          f"最長勤務時間(夜間工事)は{low}〜{high}時間の整数で入力してください。")


def _ordered(taps: Iterable) -> list:
    return sorted(taps, key=lambda t: (t.at, KIND_ORDER.get(t.kind, 1), t.kind))


def linked(before, tap, rule: ShiftRule = DEFAULT_RULE) -> bool:
    """Whether ``tap`` continues the shift of the tap just ``before`` it (both of one worker at one site)."""
    if tap.at - before.at <= rule.break_gap:
        return True
    return tap.kind != "entry" and before.kind != "exit"  # an exit or work tap while the shift is open


def shift_starts(taps: Iterable, rule: ShiftRule = DEFAULT_RULE) -> list[tuple[object, object]]:
    """(first tap of its shift, tap) for each tap, in time order. Taps: anything with ``at`` (aware) and
    ``kind``, of one worker at one site."""
    ordered = _ordered(taps)
    out = []
    start = 0  # the first tap of the current tap's shift: only moves forward
    for i, tap in enumerate(ordered):
        if i and not linked(ordered[i - 1], tap, rule):
            start = i
        while tap.at - ordered[start].at > rule.max_shift:  # a run of linked taps is cut at the shift length
            start += 1
        out.append((ordered[start], tap))
    return out


def assign_days(taps: Iterable, rule: ShiftRule = DEFAULT_RULE) -> list[tuple[datetime.date, object]]:
    """The work day of each tap of one worker at one site (in time order). To get a day right, ``taps`` must hold
    every tap of the ``rule.max_shift`` before it: the calendar day before is enough."""
    return [(tokyo_date(first.at), tap) for first, tap in shift_starts(taps, rule)]


def taps_by_day(taps_by_pair: Mapping, rules: Mapping | None = None) -> dict:
    """{(worker, site): [tap, …]} → {(worker, site, work day): [tap, …]}, with each site's rule (``rules``:
    site pk → ShiftRule; a site missing from it has the default)."""
    rules = rules or {}
    found: dict = defaultdict(list)
    for (w, s), pair_taps in taps_by_pair.items():
        for day, tap in assign_days(pair_taps, rules.get(s, DEFAULT_RULE)):
            found[(w, s, day)].append(tap)
    return found


def site_rules(session: Session, site_ids: Iterable) -> dict:
    """{site pk: ShiftRule} of these sites, read with a Core statement (the caller decided which sites)."""
    from portal.models import Site

    site_ids = sorted({s for s in site_ids if s is not None})
    if not site_ids:
        return {}
    st = Site.__table__
    rules = {}
    for i in range(0, len(site_ids), 900):
        for site_id, hours in session.execute(select(st.c.id, st.c.max_shift_hours).where(
                st.c.id.in_(site_ids[i:i + 900]))):
            rules[site_id] = ShiftRule.of_site(hours)
    return rules


def still_open(taps: Sequence, now: datetime.datetime, rule: ShiftRule = DEFAULT_RULE) -> bool:
    """Whether the worker is still on site at ``now``: his latest tap up to ``now`` is not an exit and his shift
    began no more than ``max_shift`` ago. ``taps`` must hold those of the last two ``max_shift``."""
    found = shift_starts([t for t in taps if t.at <= now], rule)
    if not found:
        return False
    first, last = found[-1]
    return last.kind != "exit" and now - first.at <= rule.max_shift
