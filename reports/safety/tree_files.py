"""The 施工体系図 as Excel (boxes and connector lines drawn with cell borders: openpyxl keeps no shapes) and as
PDF (an SVG per page, laid out here, rendered by WeasyPrint), A3 landscape. The positions come from the one
layout (reports.safety.tree.layout: a leaf row per leaf, a column per tier); :func:`box_cell` and
:func:`svg_box` say where a box is, for the writers and the tests that read the drawing back."""
from __future__ import annotations

from pathlib import Path
from typing import Callable
from xml.sax.saxutils import escape

from reports.safety.tree import TIER_LABELS, Tree
from reports.writers import FONT_FAMILY

# --- Excel grid ---------------------------------------------------------------------------------------------
HEAD_ROWS = 6  # title, 現場, 元請, 発注者・工期, form revision, tier labels
BOX_ROWS, SLOT_ROWS, CONNECT = 5, 6, 1  # a box's rows, a leaf row's rows, the row (in a box) lines join
BOX_WIDTH, GAP_WIDTH = 30, 5


def box_cell(tier: int, row: int) -> tuple[int, int]:
    """(row, column), 1-based, of the top-left cell of a box (its name cell)."""
    return HEAD_ROWS + 1 + row * SLOT_ROWS, 2 + 2 * tier


def _borders(tree: Tree) -> tuple[dict, dict, list]:
    """Cell values, cell border sides and merged ranges of the drawing."""
    values, sides, merged = {}, {}, []
    by_id = {b.employer_id: b for b in tree.boxes}
    for b in tree.boxes:
        r, c = box_cell(b.tier, b.row)
        values[(r, c)] = f"{b.name}（{b.code}）"
        values[(r + 1, c)] = "\n".join(b.lines)
        merged.append((r + 1, c, r + BOX_ROWS - 1, c))
        for k in range(BOX_ROWS):
            s = sides.setdefault((r + k, c), set())
            s |= {"left", "right"} | ({"top"} if k == 0 else set()) | ({"bottom"} if k == BOX_ROWS - 1 else set())
        if b.children:  # the trunk: the left border of the gap cells from the parent's line to its last child's
            gap = c + 1
            last = box_cell(b.tier + 1, by_id[b.children[-1]].row)[0] + CONNECT
            for row in range(r + CONNECT, last + 1):
                sides.setdefault((row, gap), set()).add("left")
            for child in b.children:  # a stub to each child: the top border of the gap cell at its line
                sides.setdefault((box_cell(b.tier + 1, by_id[child].row)[0] + CONNECT, gap), set()).add("top")
    return values, sides, merged


def write_xlsx(path: Path, tree: Tree, done: Callable[[int], None] | None = None) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(tree.title[:31])
    ws.page_setup.orientation, ws.page_setup.paperSize = "landscape", Worksheet.PAPERSIZE_A3
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.oddFooter.center.text = "&P / &N"
    columns = 2 + 2 * tree.tiers
    ws.column_dimensions["A"].width = 2
    for col in range(2, columns + 1):
        ws.column_dimensions[get_column_letter(col)].width = BOX_WIDTH if col % 2 == 0 else GAP_WIDTH
    values, sides, merged = _borders(tree)
    thin = Side(style="thin", color="000000")
    styles: dict = {}

    def styled(value, key):
        c = WriteOnlyCell(ws, value=value)
        if key not in styles:
            names = key[0]
            c.border = Border(**{n: thin for n in names})
            c.alignment = Alignment(vertical="top", wrap_text=True)
            if key[1]:
                c.font = Font(bold=True)
            styles[key] = c._style
        else:
            from copy import copy

            c._style = copy(styles[key])
        return c

    head = [tree.title, f"事業所の名称・現場ID: {tree.site_name}（{tree.site_code}）", f"元請名・事業者ID: {tree.prime}",
            f"発注者名: {tree.client}　工期: {tree.period}", f"{tree.form}　{tree.revision}　作成日: {tree.day:%Y/%m/%d}" + (f"　{tree.version}" if tree.version else "")]
    for n, line in enumerate(head):
        ws.append([WriteOnlyCell(ws, value=line) if n else styled(line, (frozenset(), True))])  # from A1: the
        # sheet's used range starts there, so a reader's row and column numbers are the sheet's
    ws.append([None] + [TIER_LABELS[t // 2] if t % 2 == 0 and t // 2 < len(TIER_LABELS) else None
                        for t in range(columns - 1)])
    last_row = HEAD_ROWS + tree.rows * SLOT_ROWS
    for row in range(HEAD_ROWS + 1, last_row + 1):
        line = [None] * columns
        for col in range(2, columns + 1):
            value, s = values.get((row, col)), sides.get((row, col))
            if s or value is not None:
                line[col - 1] = styled(value, (frozenset(s or ()), (row, col) in values and (row - HEAD_ROWS - 1) % SLOT_ROWS == 0))
        ws.append(line)
    for r1, c1, r2, c2 in merged:
        ws.merged_cells.add(f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}")
    ws.print_area = f"A1:{get_column_letter(columns)}{last_row}"
    wb.save(path)
    if done is not None:
        done(len(tree.boxes))
    return len(tree.boxes)


# --- SVG and PDF ------------------------------------------------------------------------------------------------
W, H, GAP, SLOT, MARGIN, LINE = 230, 104, 46, 116, 10, 11  # px (1/96 in)
ROWS_PER_PAGE = 8  # leaf rows on one A3 page
CONNECT_Y = 14  # the line joins a box at its name


def svg_box(tier: int, row: int) -> tuple[float, float]:
    """(x, y) of a box's top-left corner on its page's SVG (``row`` counted within the page)."""
    return MARGIN + tier * (W + GAP), MARGIN + row * SLOT


def svg_pages(tree: Tree) -> list[str]:
    """One SVG per page of ROWS_PER_PAGE leaf rows. A line whose parent is on an earlier page starts at the top of
    the page, on its trunk."""
    by_id = {b.employer_id: b for b in tree.boxes}
    pages = []
    width = MARGIN * 2 + tree.tiers * (W + GAP)
    for first in range(0, tree.rows, ROWS_PER_PAGE):
        rows = range(first, first + ROWS_PER_PAGE)
        height = MARGIN * 2 + min(ROWS_PER_PAGE, tree.rows - first) * SLOT
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                 f'viewBox="0 0 {width} {height}" font-family=\'{FONT_FAMILY}\'>']
        for b in tree.boxes:
            if b.row not in rows:
                continue
            x, y = svg_box(b.tier, b.row - first)
            parts.append(f'<rect x="{x}" y="{y}" width="{W}" height="{H}" fill="none" stroke="#000" stroke-width="1"/>')
            parts.append(f'<text x="{x + 4}" y="{y + CONNECT_Y + 4}" font-size="10" font-weight="bold">{escape(b.name)}</text>')
            texts = [b.code] + b.lines
            for k, line in enumerate(texts[:7]):
                parts.append(f'<text x="{x + 4}" y="{y + 30 + k * LINE}" font-size="8">{escape(line[:38])}</text>')
            if b.parent is not None:
                parent = by_id.get(b.parent)
                trunk = x - GAP / 2
                cy = y + CONNECT_Y
                if parent is not None and parent.row in rows:
                    px, py = svg_box(parent.tier, parent.row - first)
                    start = f"{px + W},{py + CONNECT_Y} {trunk},{py + CONNECT_Y}"
                else:
                    start = f"{trunk},0"
                parts.append(f'<polyline class="edge" points="{start} {trunk},{cy} {x},{cy}" fill="none" '
                             f'stroke="#000" stroke-width="1"/>')
        parts.append("</svg>")
        pages.append("".join(parts))
    return pages


def render_html(tree: Tree) -> str:
    head = (f"<h1>{escape(tree.title)}</h1><p>事業所の名称・現場ID: {escape(tree.site_name)}（{tree.site_code}）　"
            f"元請名・事業者ID: {escape(tree.prime)}　発注者名: {escape(tree.client)}　工期: {escape(tree.period)}</p>"
            f"<p class='form'>{escape(tree.form)}　{escape(tree.revision)}　作成日: {tree.day:%Y/%m/%d}"
            f"{'　' + escape(tree.version) if tree.version else ''}</p>")
    pages = "".join(f"<section>{head}<div class='tree'>{svg}</div></section>" for svg in svg_pages(tree))
    return (f"<!doctype html><html lang='ja'><head><meta charset='utf-8'><title>{escape(tree.title)}</title><style>"
            f"@page {{ size: A3 landscape; margin: 10mm; @bottom-center {{ content: counter(page) ' / ' counter(pages); "
            f"font-family: {FONT_FAMILY}; font-size: 8pt; }} }}"
            f"html {{ font-family: {FONT_FAMILY}; font-size: 9pt; }} h1 {{ font-size: 15pt; margin: 0; }}"
            f"p {{ margin: 1mm 0; }} p.form {{ font-size: 8pt; }} section {{ page-break-after: always; }}"
            f"section:last-child {{ page-break-after: auto; }} .tree svg {{ max-width: 100%; height: auto; }}"
            f"</style></head><body>{pages}</body></html>")


def write_pdf(path: Path, tree: Tree, done: Callable[[int], None] | None = None) -> int:
    from weasyprint import HTML

    HTML(string=render_html(tree)).write_pdf(str(path))
    if done is not None:
        done(len(tree.boxes))
    return len(tree.boxes)


WRITERS = {"xlsx": write_xlsx, "pdf": write_pdf}
