"""When a 施工体制台帳 is required (dated amounts, keyed by the subcontract's date) and how long the documents are
kept after the 引渡し: plain functions, no database."""
from __future__ import annotations

import datetime

import pytest

from reports.safety.thresholds import keep_until, threshold_on

pytestmark = pytest.mark.once  # no database: the PostgreSQL pass of ./dev.sh test leaves it out

D = datetime.date


@pytest.mark.parametrize("day,building,expected", [
    (D(2025, 1, 31), False, 45_000_000), (D(2025, 1, 31), True, 70_000_000),  # the day before the 2025 revision
    (D(2025, 2, 1), False, 50_000_000), (D(2025, 2, 1), True, 80_000_000),
    (D(2023, 1, 1), False, 45_000_000), (D(2022, 12, 31), True, 60_000_000), (D(2010, 1, 1), False, None),
])
def test_threshold_in_force_on_the_subcontracts_date(day, building, expected):
    assert threshold_on(day, building) == expected


def test_retention_counts_from_the_handover():
    kept = keep_until(D(2028, 2, 29))
    assert kept == {"作業員名簿": D(2033, 2, 28), "施工体制台帳": D(2033, 2, 28), "施工体系図": D(2038, 2, 28)}
    assert set(keep_until(None).values()) == {None}
