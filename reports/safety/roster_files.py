"""The 作業員名簿 as Excel (openpyxl, write-only: rows streamed in order, styles shared) and PDF (WeasyPrint, one
table per printed page), both A3 landscape, 10 workers a page in 6-row blocks (reports.safety.roster.CELLS).
:func:`cell_position` is where a worker's value sits in the sheet: the writer and the tests' reader use it."""
from __future__ import annotations

import datetime
import functools
from pathlib import Path
from typing import Callable

from reports.safety.roster import CONSENT, FORM, LAYOUTS, PER_PAGE, ROWS_PER_WORKER, TITLE, Layout, Roster, header_lines, text
from reports.safety.sheet import cell_maker
from reports.writers import FONT_FAMILY

HEAD_ROWS = 8  # title, 5 header lines, the consent sentence, the column labels
PAGE_ROWS = HEAD_ROWS + PER_PAGE * ROWS_PER_WORKER
TEMPLATES = Path(__file__).parent / "templates"


MERGED = LAYOUTS["AZ6-b"]


def cell_position(index: int, key: str, layout: Layout = MERGED) -> tuple[int, int]:
    """(row, column), 1-based, of worker ``index`` (0-based, in 名簿 order) and cell ``key``."""
    page, slot = divmod(index, PER_PAGE)
    offset, column = layout.cells[key]
    return page * PAGE_ROWS + HEAD_ROWS + slot * ROWS_PER_WORKER + offset + 1, column


def _grid(worker: dict | None, layout: Layout = MERGED) -> list[list]:
    rows = [[None] * len(layout.columns) for _ in range(ROWS_PER_WORKER)]
    if worker is not None:
        for key, (offset, column) in layout.cells.items():
            rows[offset][column - 1] = worker.get(key)
    return rows


def write_xlsx(path: Path, roster: Roster, done: Callable[[int], None] | None = None, layout: Layout = MERGED) -> int:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.pagebreak import Break
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(TITLE)
    ws.page_setup.orientation, ws.page_setup.paperSize = "landscape", Worksheet.PAPERSIZE_A3
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.oddFooter.center.text = "&P / &N"
    ws.oddHeader.right.text = f"{FORM}　{roster.revision}"
    columns = layout.columns
    last, title_end = get_column_letter(len(columns)), get_column_letter(len(columns) - 3)
    for i, width in enumerate(layout.widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width

    thin = Side(style="thin", color="000000")
    hair = Side(style="hair", color="888888")
    cell = cell_maker(ws)

    def body(value, top: bool, bottom: bool):
        key = f"body{int(top)}{int(bottom)}{'d' if isinstance(value, datetime.date) else ''}"
        return cell(value, key, lambda: {
            "border": Border(left=thin, right=thin, top=thin if top else hair, bottom=thin if bottom else hair),
            "alignment": Alignment(vertical="center", shrink_to_fit=True),
            **({"number_format": "yyyy/mm/dd"} if isinstance(value, datetime.date) else {})})

    row = 0
    pages = roster.pages
    for page in range(pages):
        start = row + 1
        ws.append([cell(TITLE, "title", font=Font(bold=True, size=16))] + [None] * (len(columns) - 3)
                  + [cell(f"{FORM}　{roster.revision}", "small", font=Font(size=8))])
        for label, value in header_lines(roster):
            ws.append([None, cell(label, "label", font=Font(bold=True)), value])
        ws.append([cell(CONSENT, "consent", font=Font(size=8))])
        ws.append([cell(label, "head", font=Font(bold=True, size=9), fill=PatternFill("solid", fgColor="DDEBF7"),
                        border=Border(left=thin, right=thin, top=thin, bottom=thin),
                        alignment=Alignment(horizontal="center", vertical="center", wrap_text=True))
                   for label in columns])
        ws.merged_cells.add(f"A{start}:{title_end}{start}")
        ws.merged_cells.add(f"A{start + 6}:{last}{start + 6}")
        for line in range(1, 6):
            ws.merged_cells.add(f"C{start + line}:H{start + line}")
        row += HEAD_ROWS
        for slot in range(PER_PAGE):
            index = page * PER_PAGE + slot
            worker = roster.workers[index] if index < len(roster.workers) else None
            for offset, values in enumerate(_grid(worker, layout)):
                ws.append([body(v, offset == 0, offset == ROWS_PER_WORKER - 1) for v in values])
            ws.merged_cells.add(f"A{row + 1}:A{row + ROWS_PER_WORKER}")  # 番号 spans the block
            row += ROWS_PER_WORKER
            if worker is not None and done is not None:
                done(index + 1)
        if page < pages - 1:
            ws.row_breaks.append(Break(id=row))
    ws.print_area = f"A1:{last}{row}"
    wb.save(path)
    return len(roster.workers)


def render_html(roster: Roster, layout: Layout = MERGED) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    pages = []
    for page in range(roster.pages):
        blocks = []
        for slot in range(PER_PAGE):
            index = page * PER_PAGE + slot
            worker = roster.workers[index] if index < len(roster.workers) else None
            blocks.append([[text(v) for v in line] for line in _grid(worker, layout)])
        pages.append(blocks)
    total = sum(layout.widths)
    return env.get_template("roster.html").render(
        roster=roster, title=TITLE, form=FORM, consent=CONSENT, header=header_lines(roster), columns=layout.columns,
        widths=[w * 100 / total for w in layout.widths], pages=pages, font_family=FONT_FAMILY)


def write_pdf(path: Path, roster: Roster, done: Callable[[int], None] | None = None, layout: Layout = MERGED) -> int:
    from weasyprint import HTML

    HTML(string=render_html(roster, layout), base_url=str(TEMPLATES)).write_pdf(str(path))
    if done is not None:
        done(len(roster.workers))
    return len(roster.workers)


WRITERS = {"xlsx": write_xlsx, "pdf": write_pdf}  # AZ6-b
# AZ6-a: the 名簿 without the 社会保険 columns (with AZ7 beside it)
WRITERS_A = {fmt: functools.partial(writer, layout=LAYOUTS["AZ6-a"]) for fmt, writer in WRITERS.items()}
