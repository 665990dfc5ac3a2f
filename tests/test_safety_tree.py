"""AZ2 施工体系図 (第4号): the tree's companies and lines read back from the Excel cells (values by python-calamine,
borders by openpyxl's reader) and from the SVG, compared with the approved structure in the database; the PDF's
text by poppler; the viewer rule (the prime: the whole tree; a company: its branch); the privacy scan."""
from __future__ import annotations

import io
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from portal.output import jobs
from portal.app.clock import tokyo_today
from portal.app.db import db
from portal.models import Employer, PortalUser, StructureLink
from portal.people.safety_data import forbidden_numbers
from portal.people.scoping import ALL, scope_for_user, using_scope
from portal.demo.testing import login_of
from reports.safety import tree as tree_form
from reports.safety.tree_files import CONNECT, svg_pages
from tests.safety_world import KIKIN1, PRIME_A, seed

CODE = re.compile(r"（([0-9]{14})）")


def _edges_in_db(app, site_id, root_code):
    """(upper 事業者ID, lower 事業者ID) of the approved links at or below ``root_code``, from the tables."""
    with app.app_context(), using_scope(db.session, ALL):
        code = {e.id: e.employer_id for e in db.session.execute(select(Employer)).scalars()}
        links = [(code[l.upper_employer_id], code[l.lower_employer_id]) for l in db.session.execute(
            select(StructureLink).where(StructureLink.site_id == site_id, StructureLink.status == "承認済")).scalars()]
    found, todo, edges = {root_code}, [root_code], set()
    while todo:
        top = todo.pop()
        for upper, lower in links:
            if upper == top:
                edges.add((upper, lower))
                if lower not in found:
                    found.add(lower)
                    todo.append(lower)
    return edges, found


def _edges_from_excel(data: bytes):
    """Boxes from the cell values (calamine), lines from the cell borders (openpyxl): a child's stub is the top
    border of the gap cell left of it; the trunk (left borders) leads up to its parent's line."""
    values = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    boxes = {}
    for r, row in enumerate(values, start=1):
        for c, v in enumerate(row, start=1):
            m = CODE.search(str(v)) if c >= 2 and c % 2 == 0 and v else None
            if m and r > 6:
                boxes[(r, c)] = m.group(1)
    ws = load_workbook(io.BytesIO(data)).active
    edges, root_column = set(), min(c for _r, c in boxes)
    for (r, c), code in boxes.items():
        if c == root_column:  # the root (the prime, or the viewer's own company heading its branch)
            continue
        gap = c - 1
        line = r + CONNECT
        assert ws.cell(line, gap).border.top.style == "thin", f"no stub to {code}"
        top = line
        while top > 1 and ws.cell(top - 1, gap).border.left.style == "thin":
            top -= 1
        assert ws.cell(line, gap).border.left.style == "thin"
        edges.add((boxes[(top - CONNECT, c - 2)], code))
    return set(boxes.values()), edges


def _edges_from_svg(svg: str):
    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ET.fromstring(svg)
    rects = [tuple(float(x.get(k)) for k in ("x", "y", "width", "height")) for x in root.findall("s:rect", ns)]
    texts = [(float(t.get("x")), float(t.get("y")), t.text or "") for t in root.findall("s:text", ns)]

    def code_in(rect):
        x, y, w, h = rect
        inside = [s for tx, ty, s in texts if x <= tx <= x + w and y <= ty <= y + h]
        return next(s for s in inside if re.fullmatch(r"[0-9]{14}", s))

    def at(px, py, right: bool):
        return next(code_in(r) for r in rects if abs((r[0] + (r[2] if right else 0)) - px) < 0.01 and r[1] <= py <= r[1] + r[3])

    edges = set()
    for line in root.findall("s:polyline", ns):
        points = [tuple(float(v) for v in p.split(",")) for p in line.get("points").split()]
        edges.add((at(*points[0], right=True), at(*points[-1], right=False)))
    return {code_in(r) for r in rects}, edges


def _tree_for(app, login):
    with app.test_request_context(), using_scope(db.session, ALL):
        user = db.session.execute(select(PortalUser).where(PortalUser.username == login)).scalar_one()
        scope = scope_for_user(db.session, user)
        viewer = jobs.viewer_for(db.session, user, scope)
    with app.test_request_context():
        return tree_form.build(db.session, viewer, seed.site, tokyo_today())


def test_tree_companies_and_lines_read_back_from_excel_svg_and_pdf(demo_app, client_for, tmp_path):
    world = seed(demo_app)
    seed.site = world["site"]
    expected_edges, expected_companies = _edges_in_db(demo_app, world["site"], PRIME_A)
    assert len(expected_edges) >= 4
    client, _ = client_for("prime", 0)
    files = {fmt: client.get(f"/safety/tree/{world['site']}.{fmt}") for fmt in ("xlsx", "pdf")}
    assert all(r.status_code == 200 for r in files.values())
    companies, edges = _edges_from_excel(files["xlsx"].data)
    assert companies == expected_companies and edges == expected_edges

    made = _tree_for(demo_app, login_of(demo_app, "prime", 0)["login"])
    svg_companies, svg_edges = set(), set()
    for svg in svg_pages(made):
        c, e = _edges_from_svg(svg)
        svg_companies |= c
        svg_edges |= e
    assert svg_companies == expected_companies and svg_edges == expected_edges

    path = tmp_path / "az2.pdf"
    path.write_bytes(files["pdf"].data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert all(code in text for code in expected_companies) and "施工体系図" in text
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "az2")], check=True)
    assert next(tmp_path.glob("az2*.png")).stat().st_size > 5_000
    sheet = "\n".join(str(v) for row in CalamineWorkbook.from_filelike(io.BytesIO(files["xlsx"].data))
                      .get_sheet_by_index(0).to_python() for v in row if v)
    for content in (text, sheet):
        assert forbidden_numbers(content) == []
    assert "代理 0号" in sheet  # the prime's own persons on its box


def test_a_first_tier_company_gets_its_branch_only(demo_app, client_for):
    world = seed(demo_app)
    expected_edges, expected_companies = _edges_in_db(demo_app, world["site"], KIKIN1)
    client, _ = client_for("employer", 0)
    r = client.get(f"/safety/tree/{world['site']}.xlsx")
    assert r.status_code == 200
    companies, edges = _edges_from_excel(r.data)
    assert companies == expected_companies == {KIKIN1, login_of(demo_app, "employer", 1)["employer_id"]}
    assert edges == expected_edges and PRIME_A not in companies


@pytest.mark.parametrize("role,index,status", [("employer", 3, 403), ("employer", 2, 200), ("site_manager", 0, 200)])
def test_tree_viewer_rule(demo_app, client_for, role, index, status):
    world = seed(demo_app)
    client, _ = client_for(role, index)
    r = client.get(f"/safety/tree/{world['site']}.pdf")
    assert r.status_code == status
    if status == 403:
        assert "施工体系図」を出力する権限がありません" in r.get_data(as_text=True)


def test_tree_refused_to_a_worker(demo_app, client_for):
    world = seed(demo_app)
    client, _ = client_for("worker", 0)
    r = client.get(f"/safety/tree/{world['site']}.xlsx")
    assert r.status_code in (302, 403) and not r.data.startswith(b"PK")


def test_the_submitted_tree_is_drawn_from_the_approved_notices_not_todays_data(demo_app, client_for, tmp_path):
    """After 基金建設 → 基金一次建設 → 元請 approved their 再下請負通知書, today's data changes (a new 現場代理人, the
    2次 link ended): the submitted version still draws what was approved; 南建工, not approved, has nothing below."""
    import datetime

    from portal.models.safety import SiteStaff
    from reports.safety import submission

    world = seed(demo_app)
    site, emp = world["site"], world["employers"]
    kikin_code = login_of(demo_app, "employer", 1)["employer_id"]
    kikin, kikin1, prime = emp[kikin_code], emp[KIKIN1], emp[PRIME_A]
    with demo_app.app_context():
        s = db.session
        for lower, upper in ((kikin, kikin1), (kikin1, prime)):
            row = submission.submit(s, submission.company_viewer(s, lower), site, lower, "AZ5")
            submission.decide(s, submission.company_viewer(s, upper), row.id, True)
        with using_scope(s, ALL):
            agent = s.execute(select(SiteStaff).where(SiteStaff.site_id == site, SiteStaff.employer_id == kikin1,
                                                      SiteStaff.role == "現場代理人")).scalar_one()
            approved_agent, agent.person_name = agent.person_name, "新任 代理"
            link = s.execute(select(StructureLink).where(StructureLink.site_id == site, StructureLink.lower_employer_id == kikin,
                                                         StructureLink.status == "承認済")).scalar_one()
            link.ended_on = tokyo_today() - datetime.timedelta(days=1)
            s.commit()
    seed.site = site
    prime_login = login_of(demo_app, "prime", 0)["login"]
    live = _tree_for(demo_app, prime_login)
    with demo_app.test_request_context(), using_scope(db.session, ALL):
        user = db.session.execute(select(PortalUser).where(PortalUser.username == prime_login)).scalar_one()
        viewer = jobs.viewer_for(db.session, user, scope_for_user(db.session, user))
    with demo_app.test_request_context():
        frozen = tree_form.build(db.session, viewer, site, tokyo_today(), submitted=True)
    by_id = {b.employer_id: b for b in frozen.boxes}
    assert kikin not in {b.employer_id for b in live.boxes} and by_id[kikin].parent == kikin1  # the approved structure
    assert f"現場代理人 {approved_agent}" in by_id[kikin1].lines and "現場代理人 新任 代理" not in by_id[kikin1].lines
    assert "現場代理人 新任 代理" in {b.employer_id: b for b in live.boxes}[kikin1].lines
    firsts = [b for b in frozen.boxes if b.parent == prime]
    waiting = [b for b in firsts if b.employer_id != kikin1]
    assert waiting and all(b.lines == [tree_form.NOT_APPROVED] and not b.children for b in waiting)
    assert len(live.boxes) > len([b for b in live.boxes if b.parent in {w.employer_id for w in waiting}]) > 0  # live: their 2次

    client, _ = client_for("prime", 0)
    r = client.get(f"/safety/tree/{site}.xlsx?version=submitted")
    assert r.status_code == 200
    companies, edges = _edges_from_excel(r.data)
    codes = {b.employer_id: b.code for b in frozen.boxes}
    assert companies == set(codes.values()) and edges == {(codes[b.parent], b.code) for b in frozen.boxes if b.parent}
    assert (KIKIN1, kikin_code) in edges
    sheet = "\n".join(str(v) for row in CalamineWorkbook.from_filelike(io.BytesIO(r.data)).get_sheet_by_index(0)
                      .to_python() for v in row if v)
    assert tree_form.SUBMITTED_VERSION in sheet and approved_agent in sheet and "新任 代理" not in sheet
    pdf = client.get(f"/safety/tree/{site}.pdf?version=submitted")
    (tmp_path / "submitted.pdf").write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(tmp_path / "submitted.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert "提出版" in text and kikin_code in text
    current = client.get(f"/safety/tree/{site}.xlsx").data
    assert (KIKIN1, kikin_code) not in _edges_from_excel(current)[1]  # today's tree: the link has ended
    bad = client.get(f"/safety/tree/{site}.xlsx?version=draft")
    assert bad.status_code == 400 and "版の指定が正しくありません" in bad.get_data(as_text=True)
    own, _ = client_for("employer", 0)  # 基金一次建設: its own branch, as approved
    assert _edges_from_excel(own.get(f"/safety/tree/{site}.xlsx?version=submitted").data) == (
        {KIKIN1, kikin_code}, {(KIKIN1, kikin_code)})
