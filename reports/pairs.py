"""Reports that are one record as (項目, 値) lines: 3-1 事業者情報, 4-1 現場・契約情報."""
from __future__ import annotations

from reports.base import Column, Output

COLUMNS = [Column("項目", width=30), Column("値", width=60)]


def record_output(pairs: list[tuple[str, object]], subtitle: str) -> Output:
    lines = [[label, value] for label, value in pairs]
    return Output(columns=COLUMNS, rows=lines, total=len(lines), subtitle=subtitle)
