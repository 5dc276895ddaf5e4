"""The benchmark's --quick mode runs end to end (no timing assertions here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_icd.py"


def test_bench_quick_prints_the_table():
    done = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "sequential walk" in out and "tree() concurrent" in out
    assert "latency limit" in out and "tree_frame of 2,000 payloads" in out


def test_bench_rows_fit_the_shared_table():
    """benchmarks/run.py prints bench_icd's rows in its one table (quick sizes, no timing)."""
    from benchmarks import bench_icd, run

    rows = bench_icd.rows(quick=True)
    keys = {"name", "median", "baseline", "ratio", "target", "ok", "unit", "note"}
    assert rows and all(keys <= set(r) for r in rows)
    names = [r["name"] for r in rows]
    assert any("latency limit" in n for n in names)
    cached = [r for r in rows if "cached rerun" in r["name"]]
    assert len(cached) == 2 and all("(0 requests)" in r["name"] and r["ok"] for r in cached)
    assert any("tree_frame of 2,000 payloads (peak" in n for n in names)
    table = run.table(rows)
    assert all(n[:62] in table for n in names)
