"""The benchmark's --quick mode runs end to end (no timing assertions here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_icd.py"


def test_bench_quick_prints_the_table():
    done = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "sequential walk" in out and "tree() concurrent" in out
    assert "latency limit" in out and "tree_frame of 2,000 payloads" in out
