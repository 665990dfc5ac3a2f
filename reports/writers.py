"""The shared writers: one report's rows as CSV, Excel or PDF. Every format gets the same cells.

- CSV: UTF-8 with a BOM (Excel then reads Japanese correctly); a text cell starting with = + - @, a tab or a
  carriage return is prefixed with ' so that a spreadsheet shows it as text and never runs it as a formula
  (an address set to ``=HYPERLINK(…)`` stays an address). Numbers stay numbers.
- Excel (openpyxl, write-only mode: rows are streamed, never held): landscape A4 or A3 as the form is printed,
  fit to the page width, title and header rows repeated on every printed page, panes frozen under the header,
  dates as dates and numbers as numbers; text starting with = is stored as text (openpyxl would write it as a
  formula, which Excel runs when the file opens).
- PDF (WeasyPrint over reports/templates/report.html): Japanese fonts embedded (Noto Sans CJK JP, with CJK
  fallbacks in every font-family), page n / N, the title, the viewer and the time in Tokyo on every page.
"""
from __future__ import annotations

import csv
import datetime
from copy import copy
from pathlib import Path
from typing import Callable, Iterable

from reports.base import Column, Output, Report, Viewer, counted

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
# Every font-family names a Japanese font first and CJK fallbacks after it (no tofu when one is missing).
FONT_FAMILY = '"Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAGothic", "Noto Sans CJK SC", sans-serif'
TEMPLATES = Path(__file__).parent / "templates"


def safe_cell(value):
    """A CSV cell that no spreadsheet runs as a formula: text starting with = + - @ tab or CR gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def text_of(value) -> str:
    """How a value reads in CSV and PDF (Excel keeps the typed value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "有" if value else "無"
    if isinstance(value, datetime.datetime):
        from portal.app.clock import TOKYO

        return value.astimezone(TOKYO).strftime("%Y/%m/%d %H:%M") if value.tzinfo else value.strftime("%Y/%m/%d %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%Y/%m/%d")
    return str(value)


def csv_value(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else safe_cell(text_of(value))


def write_csv_rows(out, header: list[str], rows: Iterable[list]) -> int:
    """Write a header and rows to an open text stream (newline="") as escaped CSV; returns the row count.
    The one CSV writer of the portal: reports and the 技能者情報 CSV use it."""
    writer = csv.writer(out)
    writer.writerow([csv_value(h) for h in header])
    n = 0
    for row in rows:
        writer.writerow([csv_value(v) for v in row])
        n += 1
    return n


def produced_line(viewer: Viewer, at: datetime.datetime) -> str:
    from portal.app.clock import TOKYO

    return f"出力者: {viewer.display_name}　出力日時: {at.astimezone(TOKYO):%Y/%m/%d %H:%M}（日本時間）"


def write_csv(path: Path, report: Report, output: Output, viewer: Viewer, at: datetime.datetime,
              done: Callable[[int], None] | None = None) -> int:
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        return write_csv_rows(out, [c.label for c in output.columns], counted(output.rows, done))


# --- Excel -----------------------------------------------------------------------------------------------------

HEADER_ROWS = 3  # title, subtitle (parameters, viewer, time), column labels


def write_xlsx(path: Path, report: Report, output: Output, viewer: Viewer, at: datetime.datetime,
               done: Callable[[int], None] | None = None) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(report.id)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A3 if (output.paper or report.paper) == "A3" else Worksheet.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0  # one page wide, as many pages down as needed
    ws.print_title_rows = f"1:{HEADER_ROWS}"
    ws.print_options.gridLines = True
    ws.freeze_panes = f"A{HEADER_ROWS + 1}"
    ws.oddFooter.center.text = "&P / &N"
    ws.oddHeader.left.text = f"{report.id} {report.title}"
    for i, col in enumerate(output.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width

    styles: dict = {}  # one style array per kind of cell: assigning style objects per cell costs a hash each
    marks: dict = {}  # mark text → its styled cell

    def cell(value, key: str | None = None, **style):
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str) and value.startswith("="):
            c.data_type = "s"  # text, never a formula
        if key is not None and key in styles:
            c._style = copy(styles[key])
            return c
        for k, v in style.items():
            setattr(c, k, v)
        if key is not None:
            styles[key] = copy(c._style)
        return c

    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)  # the header row's
    center = Alignment(horizontal="center")
    ws.append([cell(f"{report.id} {report.title}", font=Font(bold=True, size=14))])
    ws.append([cell(" ".join(filter(None, [output.subtitle, produced_line(viewer, at)])))])
    ws.append([cell(c.label, font=Font(bold=True), fill=PatternFill("solid", fgColor="DDEBF7"), border=border,
                    alignment=Alignment(horizontal="center", vertical="center", wrap_text=True))
               for c in output.columns])
    n = 0
    for row in counted(output.rows, done):
        values = []
        for col, value in zip(output.columns, row):
            # plain cells where the value is enough (the grid is printed: print_options.gridLines), styled ones
            # only for dates and calendar marks, their style array shared
            if isinstance(value, datetime.datetime):
                from portal.app.clock import TOKYO

                local = value.astimezone(TOKYO).replace(tzinfo=None) if value.tzinfo else value
                values.append(cell(local, "datetime", number_format="yyyy/mm/dd hh:mm"))
            elif isinstance(value, datetime.date):
                values.append(cell(value, "date", number_format="yyyy/mm/dd"))
            elif isinstance(value, bool) or value is None:
                values.append(text_of(value) or None)
            elif isinstance(value, (int, float)):
                values.append(value)
            elif col.kind != "mark":
                text = str(value)
                values.append(cell(text) if text.startswith("=") else (text or None))
            elif value:
                # one styled cell per distinct mark ("IC", "顔/直接" …: a month repeats a few), placed again at
                # each position: write-only mode writes a cell the moment it is appended (its row and column
                # are set then), so a shared cell costs neither a new Cell nor a style lookup per day
                mark = marks.get(value)
                if mark is None:
                    mark = marks[value] = cell(str(value), "mark", alignment=center)
                values.append(mark)
            else:
                values.append(None)
        ws.append(values)
        n += 1
    wb.save(path)
    return n


# --- PDF -------------------------------------------------------------------------------------------------------

def _environment():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def render_html(report: Report, output: Output, viewer: Viewer, at: datetime.datetime,
                done: Callable[[int], None] | None = None) -> str:
    from portal.app.clock import TOKYO

    rows = [[text_of(v) for v in row] for row in counted(output.rows, done)]
    return _environment().get_template("report.html").render(
        report=report, output=output, columns=output.columns, rows=rows, viewer=viewer, font_family=FONT_FAMILY,
        paper=output.paper or report.paper, produced=produced_line(viewer, at),
        at=at.astimezone(TOKYO), small=len(output.columns) > 20, css=css_string)


def css_string(text: str) -> str:
    """Text inside a CSS string of the template's <style> (no HTML escaping applies there)."""
    return "".join(c if c.isalnum() or c in " ()（）:：/-_.,、。" or ord(c) > 127 else f"\\{ord(c):x} " for c in text)


def write_pdf(path: Path, report: Report, output: Output, viewer: Viewer, at: datetime.datetime,
              done: Callable[[int], None] | None = None) -> int:
    from weasyprint import HTML

    html = render_html(report, output, viewer, at, done)
    HTML(string=html, base_url=str(TEMPLATES)).write_pdf(str(path))
    return html.count("<tr class=\"row\">")


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "pdf": write_pdf}
