"""The README's benchmark command keeps working: a small run of ``python -m bench`` on PostgreSQL (the benchmark
needs its server: it runs in the PostgreSQL pass of the suite) writes a report whose answers and rebuild are right.
Speed is not asserted here (bench/results/ holds the measurements)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.demo.testing import PG_URL, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not (PG_URL or "").startswith("postgresql"), reason="the benchmark runs on PostgreSQL")
def test_a_small_benchmark_run_writes_a_correct_report(tmp_path):
    admin = PG_URL.rsplit("/", 1)[0] + "/postgres"
    done = subprocess.run([sys.executable, "-m", "bench", "--admin-url", admin, "--database", f"ccus_bench_test_{os.getpid()}",
                           "--events", "4000", "--batch", "200", "--workers", "120", "--clients", "2", "--rate", "20",
                           "--port", str(free_port()), "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    [report] = list(tmp_path.glob("ingest-*.md"))
    text = report.read_text(encoding="utf-8")
    assert "{'accepted': 4000, 'duplicate': 0, 'rejected': 0}" in text  # run 1: every event stored once
    assert "{'accepted': 0, 'duplicate': 4000, 'rejected': 0}" in text  # the replay changed nothing
    assert "| differences the rebuild found (fast path vs. rebuild from events) | 0 | 0 |" in text
    assert "| cores |" in text and "CPU per batch" in text  # the machine and the split are written down
