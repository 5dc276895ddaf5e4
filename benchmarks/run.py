"""Run every benchmark and print ONE table (medians and ratios measured in this run).

    python benchmarks/run.py [--quick]

Each benchmark module exposes ``rows(quick: bool) -> list[dict]`` with keys ``name``,
``median``, ``baseline`` (median of the baseline, or None), ``ratio``, ``target`` (text),
``ok`` (True/False/None = informative), ``unit`` and ``note``. ``bench_frames`` is adapted from
its ``bench_records``/``bench_fetch`` functions; a module without ``rows`` runs its own
``main`` and prints its own table after this one.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MODULES = ("bench_auth", "bench_icd", "bench_crawl", "bench_frames")
Row = dict[str, Any]


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:.3f}" if abs(value) < 100 else f"{value:.0f}"
    else:
        text = str(value)
    return text + (f" {unit}" if unit else "")


def table(rows: list[Row]) -> str:
    head = (f"{'benchmark':<70} {'median':>12} {'baseline':>12} {'ratio':>7} "
            f"{'target':>14} {'result':>6}")
    lines = [head, "-" * len(head)]
    for r in rows:
        ratio = "—" if r.get("ratio") is None else f"{r['ratio']:.2f}x"
        ok = r.get("ok")
        result = "—" if ok is None else ("pass" if ok else "FAIL")
        unit = r.get("unit", "")
        lines.append(f"{r['name'][:70]:<70} {_fmt(r.get('median'), unit):>12} "
                     f"{_fmt(r.get('baseline'), unit):>12} {ratio:>7} "
                     f"{r.get('target') or '—':>14} {result:>6}")
    notes = sorted({r["note"] for r in rows if r.get("note")})
    lines += ["", *[f"  note: {n}" for n in notes]]
    return "\n".join(lines)


def _frames_rows(module: Any, quick: bool) -> list[Row]:
    """Adapter for benchmarks/bench_frames.py (rows with case / median s / ratio / note)."""
    n, repeats = (10_000, 2) if quick else (100_000, 5)
    raw = module.bench_records(n, repeats) + module.bench_fetch(1 if quick else 3, 0.02)
    out: list[Row] = []
    base: float | None = None
    for r in raw:
        if r["ratio"] == 1.0:
            base = r["median s"]
        is_to_frame = r["case"].startswith("explorer to_frame")
        peak = f" (peak {r['peak MiB']:.0f} MiB)" if r.get("peak MiB") else ""
        out.append({"name": f"frames: {r['case']}{peak}", "median": r["median s"],
                    "baseline": None if r["ratio"] == 1.0 else base, "ratio": r["ratio"],
                    "target": "<= 1.20x" if is_to_frame else "",
                    "ok": (r["ratio"] <= 1.2) if is_to_frame else None, "unit": "s",
                    "note": f"frames: {r['note']}" if r.get("note") else ""})
    return out


def collect(quick: bool) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    own_tables: list[str] = []
    for name in MODULES:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError as exc:
            if exc.name not in (f"benchmarks.{name}", "benchmarks"):
                raise
            print(f"[{name}] not present, skipped", file=sys.stderr)
            continue
        start = time.perf_counter()
        print(f"[{name}] running…", file=sys.stderr, flush=True)
        if hasattr(module, "rows"):
            rows += module.rows(quick)
        elif name == "bench_frames":
            rows += _frames_rows(module, quick)
        else:
            own_tables.append(name)
            module.main(["--quick"] if quick else [])
        print(f"[{name}] {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return rows, own_tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repeat")
    args = parser.parse_args(argv)
    rows, own = collect(args.quick)
    print()
    print(f"explorer benchmarks ({'quick' if args.quick else 'full'}), "
          f"Python {sys.version.split()[0]}")
    print(table(rows))
    if own:
        print(f"\n(also printed above, in their own format: {', '.join(own)})")
    failed = [r["name"] for r in rows if r.get("ok") is False]
    if failed:
        print("\nbelow target: " + "; ".join(failed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
