"""A few report pages rendered to PNG with pdftoppm into the test artifacts (test-artifacts/reports/, or
$CCUS_TEST_ARTIFACTS/reports/), to be looked at: the first and last page of 2-4 (the header row repeated on
the last page), 2-3 for a worker, 1-2 and 3-1 for an employer."""
from __future__ import annotations

import struct
import subprocess
from pathlib import Path

from portal.demo.testing import artifacts
from tests.test_reports import last_month, produced



def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
    return struct.unpack(">II", head[16:24])


def render(pdf: Path, name: str, pages: list[int]) -> list[Path]:
    out = artifacts("reports")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for page in pages:
        target = out / f"{name}-p{page}"
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", "-f", str(page), "-l", str(page), str(pdf),
                        str(target)], check=True)
        written.append(target.with_suffix(".png"))
    return written


def page_texts(pdf: Path) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() for p in PdfReader(str(pdf)).pages]


def test_report_pages_render_to_png_in_the_artifacts(demo_app, client_for, tmp_path):
    employer, _e = client_for("employer", 1)
    worker, _w = client_for("worker", 0)
    ym = last_month()
    made = {"2-4": produced(employer, "2-4", "pdf", tmp_path, month=ym),
            "2-3": produced(worker, "2-3", "pdf", tmp_path, month=ym),
            "1-2": produced(employer, "1-2", "pdf", tmp_path),
            "3-1": produced(employer, "3-1", "pdf", tmp_path)}
    for report_id, pdf in made.items():
        texts = page_texts(pdf)
        pages = sorted({1, len(texts)})
        for page, png in zip(pages, render(pdf, report_id, pages)):
            width, height = png_size(png)
            assert width > height, f"{png}: not landscape"  # A4 / A3 landscape, as the forms are printed
            assert png.stat().st_size > 8_000, f"{png}: nearly empty"
            text = texts[page - 1]
            assert f"{page} / {len(texts)}" in text and "出力者" in text, (report_id, page)  # on every page
    calendar = page_texts(made["2-4"])
    assert "技能者ID" in calendar[-1]  # the header row repeats on the last page too
