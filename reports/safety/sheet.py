"""The safety forms that are one list under a header (AZ3 工事担当技術者, AZ7 社会保険加入状況, 第7号 新規入場時等
教育実施報告書): a :class:`Sheet` and its two writers. Every printed page repeats the title, the header lines and
the column labels, then ``per_page`` rows (the form's count: 14 attendees on 第7号), then the footer lines.
Excel: openpyxl write-only, one sheet, a page break after each page; PDF: one table per page (WeasyPrint).
:func:`cell_of` is where row ``i`` sits in the Excel sheet, for the writer and the tests' reader."""
from __future__ import annotations

import dataclasses
import datetime
from copy import copy
from pathlib import Path
from typing import Callable
from xml.sax.saxutils import escape

from reports.safety import REVISION
from reports.safety.roster import text
from reports.writers import FONT_FAMILY


@dataclasses.dataclass
class Sheet:
    title: str
    form: str
    head: list  # (label, value)
    columns: list  # (label, width in characters)
    rows: list  # lists of printed values (str, int, date or None)
    per_page: int
    file_name: str
    paper: str = "A4"  # A4 / A3, landscape
    note: str = ""  # the form's printed sentence under the header
    footer: list = dataclasses.field(default_factory=list)  # (label, value) under the list
    worker_pks: set = dataclasses.field(default_factory=set)  # the workers shown (audit)
    revision: str = REVISION

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.rows) // self.per_page))

    def page_rows(self, page: int) -> list:
        """The page's rows, padded with blank ones to the form's count (a printed form keeps its empty lines)."""
        rows = self.rows[page * self.per_page:(page + 1) * self.per_page]
        return rows + [[None] * len(self.columns)] * (self.per_page - len(rows))

    def head_rows(self) -> int:
        return 1 + len(self.head) + (1 if self.note else 0) + 1  # title, header lines, note, column labels

    def page_height(self) -> int:
        return self.head_rows() + self.per_page + len(self.footer)


def cell_maker(ws):
    """``cell(value, key, make=None, **style)``: a write-only cell whose style (``make()`` or ``style``) is set once
    per ``key`` and then shared (setting style objects on every cell costs a hash each); text starting with = stays
    text, never a formula."""
    from openpyxl.cell import WriteOnlyCell

    styles: dict = {}

    def cell(value, key: str, make: Callable[[], dict] | None = None, **style):
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str) and value.startswith("="):
            c.data_type = "s"
        if key in styles:
            c._style = copy(styles[key])
        else:  # ``make`` builds the style objects once per key (building them per cell is the writer's main cost)
            for k, v in (make() if make is not None else style).items():
                setattr(c, k, v)
            styles[key] = copy(c._style)
        return c
    return cell


def cell_of(sheet: Sheet, index: int, column: int) -> tuple[int, int]:
    """(row, column), 1-based, of row ``index`` (0-based) and column ``column`` (0-based) in the Excel sheet."""
    page, slot = divmod(index, sheet.per_page)
    return page * sheet.page_height() + sheet.head_rows() + slot + 1, column + 1


def write_xlsx(path: Path, sheet: Sheet, done: Callable[[int], None] | None = None) -> int:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.pagebreak import Break
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet.title[:31])
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A3 if sheet.paper == "A3" else Worksheet.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.oddFooter.center.text = "&P / &N"
    ws.oddHeader.right.text = f"{sheet.form}　{sheet.revision}"
    last = get_column_letter(len(sheet.columns))
    for i, (_label, width) in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    cell = cell_maker(ws)

    row = 0
    for page in range(sheet.pages):
        ws.append([cell(sheet.title, "title", font=Font(bold=True, size=15))] + [None] * (len(sheet.columns) - 2)
                  + [cell(f"{sheet.form}　{sheet.revision}", "small", font=Font(size=8))])
        for label, value in sheet.head:
            ws.append([cell(label, "label", font=Font(bold=True)), value])
        if sheet.note:
            ws.append([cell(sheet.note, "note", font=Font(size=8), alignment=Alignment(wrap_text=True))])
            ws.merged_cells.add(f"A{row + len(sheet.head) + 2}:{last}{row + len(sheet.head) + 2}")
        ws.append([cell(label, "column", font=Font(bold=True), fill=PatternFill("solid", fgColor="DDEBF7"), border=box,
                        alignment=Alignment(horizontal="center", vertical="center", wrap_text=True))
                   for label, _w in sheet.columns])
        for values in sheet.page_rows(page):
            dated = [isinstance(v, datetime.date) for v in values]
            ws.append([cell(v, "date" if d else "body", lambda d=d: {
                "border": box, "alignment": Alignment(vertical="center", wrap_text=True),
                **({"number_format": "yyyy/mm/dd"} if d else {})}) for v, d in zip(values, dated)])
        for label, value in sheet.footer:
            ws.append([cell(label, "label", font=Font(bold=True)), value])
        row += sheet.page_height()
        if page < sheet.pages - 1:
            ws.row_breaks.append(Break(id=row))
        if done is not None:
            done(min(len(sheet.rows), (page + 1) * sheet.per_page))
    ws.print_area = f"A1:{last}{row}"
    wb.save(path)
    return len(sheet.rows)


def render_html(sheet: Sheet) -> str:
    head = "".join(f"<tr><th>{escape(l)}</th><td>{escape(text(v))}</td></tr>" for l, v in sheet.head)
    foot = "".join(f"<tr><th>{escape(l)}</th><td>{escape(text(v))}</td></tr>" for l, v in sheet.footer)
    total = sum(w for _l, w in sheet.columns)
    cols = "".join(f"<col style='width: {w * 100 / total:.2f}%'>" for _l, w in sheet.columns)
    labels = "".join(f"<th>{escape(l)}</th>" for l, _w in sheet.columns)
    note = f"<p class='note'>{escape(sheet.note)}</p>" if sheet.note else ""
    pages = []
    for page in range(sheet.pages):
        body = "".join("<tr>" + "".join(f"<td>{escape(text(v))}</td>" for v in values) + "</tr>"
                       for values in sheet.page_rows(page))
        pages.append(f"<section><h1>{escape(sheet.title)}</h1><span class='form'>{escape(sheet.form)}　"
                     f"{escape(sheet.revision)}</span><table class='head'>{head}</table>{note}<table class='grid'>"
                     f"<colgroup>{cols}</colgroup><thead><tr>{labels}</tr></thead><tbody>{body}</tbody></table>"
                     f"<table class='head foot'>{foot}</table></section>")
    return (f"<!doctype html><html lang='ja'><head><meta charset='utf-8'><title>{escape(sheet.title)}</title><style>"
            f"@page {{ size: {sheet.paper} landscape; margin: 10mm; @bottom-center {{ content: counter(page) ' / ' "
            f"counter(pages); font-family: {FONT_FAMILY}; font-size: 8pt; }} }}"
            f"html {{ font-family: {FONT_FAMILY}; font-size: 8.5pt; }} h1 {{ font-size: 15pt; margin: 0; display: inline-block; }}"
            f".form {{ float: right; font-size: 8pt; }} section {{ page-break-after: always; }}"
            f"section:last-child {{ page-break-after: auto; }} p.note {{ font-size: 8pt; margin: 1mm 0; }}"
            f"table.head {{ border-collapse: collapse; margin: 1mm 0; }} table.head th {{ text-align: left; padding: 0 3mm 0 0; }}"
            f"table.grid {{ border-collapse: collapse; width: 100%; table-layout: fixed; }}"
            f"table.grid th, table.grid td {{ border: 0.6pt solid #000; padding: 0.6mm 1mm; height: 5mm; overflow-wrap: anywhere; }}"
            f"table.grid th {{ background: #ddebf7; }}"
            f"</style></head><body>{''.join(pages)}</body></html>")


def write_pdf(path: Path, sheet: Sheet, done: Callable[[int], None] | None = None) -> int:
    from weasyprint import HTML

    HTML(string=render_html(sheet)).write_pdf(str(path))
    if done is not None:
        done(len(sheet.rows))
    return len(sheet.rows)


WRITERS = {"xlsx": write_xlsx, "pdf": write_pdf}
