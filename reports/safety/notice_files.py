"""The 再下請負通知書 as Excel (one worksheet per 再下請負人, A3 landscape: labels and values of 《自社に関する事項》 in
A–B, of 《再下請負人に関する事項》 in D–E) and PDF (one A3 page per 再下請負人, the two halves side by side)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable
from xml.sax.saxutils import escape

from reports.safety.notice import Notice, header
from reports.writers import FONT_FAMILY

def _pages(n: Notice) -> list:
    return n.sheets or [(None, [])]


def write_xlsx(path: Path, notice: Notice, done: Callable[[int], None] | None = None) -> int:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook(write_only=True)
    for k, (name, lines) in enumerate(_pages(notice), start=1):
        ws = wb.create_sheet(f"{k}"[:31])
        ws.page_setup.orientation, ws.page_setup.paperSize = "landscape", Worksheet.PAPERSIZE_A3
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        for col, width in zip("ABCDE", (26, 52, 3, 26, 52)):
            ws.column_dimensions[col].width = width
        ws.append([notice.title, f"{notice.form}　{notice.revision}"])
        for label, value in header(notice):
            ws.append([label, value])
        ws.append([None])
        ws.append([notice.left, None, None, notice.right, None if name else notice.none_below])
        right = lines if name else []
        for i in range(max(len(notice.own), len(right))):
            left_pair = notice.own[i] if i < len(notice.own) else (None, None)
            right_pair = right[i] if i < len(right) else (None, None)
            ws.append([*left_pair, None, *right_pair])
        ws.print_options.gridLines = True  # the printed grid is the form's ruling
    wb.save(path)
    if done is not None:
        done(len(_pages(notice)))
    return len(_pages(notice))


def render_html(notice: Notice) -> str:
    def table(lines):
        return "<table>" + "".join(f"<tr><th>{escape(l)}</th><td>{escape(v or '')}</td></tr>" for l, v in lines) + "</table>"

    head = "".join(f"<tr><th>{escape(l)}</th><td>{escape(v)}</td></tr>" for l, v in header(notice))
    pages = []
    for name, lines in _pages(notice):
        right = table(lines) if name else f"<p class='none'>{escape(notice.none_below)}</p>"
        pages.append(f"<section><h1>{escape(notice.title)}</h1><p class='form'>{escape(notice.form)}　{escape(notice.revision)}</p>"
                     f"<table class='head'>{head}</table><div class='halves'><div><h2>{escape(notice.left)}</h2>"
                     f"{table(notice.own)}</div><div><h2>{escape(notice.right)}</h2>{right}</div></div></section>")
    return (f"<!doctype html><html lang='ja'><head><meta charset='utf-8'><title>{escape(notice.title)}</title><style>"
            f"@page {{ size: A3 landscape; margin: 10mm; }} html {{ font-family: {FONT_FAMILY}; font-size: 8.5pt; }}"
            f"h1 {{ font-size: 15pt; margin: 0; }} h2 {{ font-size: 10pt; margin: 2mm 0 1mm; }} p.form {{ font-size: 8pt; }}"
            f"section {{ page-break-after: always; }} section:last-child {{ page-break-after: auto; }}"
            f".halves {{ display: flex; gap: 6mm; }} .halves > div {{ flex: 1; }}"
            f"table {{ border-collapse: collapse; width: 100%; }} th, td {{ border: 0.5pt solid #000; padding: 0.6mm 1mm; "
            f"text-align: left; vertical-align: top; }} th {{ width: 32%; background: #eef3fa; }}"
            f"table.head {{ width: 60%; }} p.none {{ font-size: 12pt; text-decoration: line-through; }}"
            f"</style></head><body>{''.join(pages)}</body></html>")


def write_pdf(path: Path, notice: Notice, done: Callable[[int], None] | None = None) -> int:
    from weasyprint import HTML

    HTML(string=render_html(notice)).write_pdf(str(path))
    if done is not None:
        done(len(_pages(notice)))
    return len(_pages(notice))


WRITERS = {"xlsx": write_xlsx, "pdf": write_pdf}
