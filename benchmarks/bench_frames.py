"""Benchmark of the DataFrame layer: flattening + declared times, and concurrent paging.

Run from the repository root::

    python benchmarks/bench_frames.py            # full run (100,000 records, 5 repeats)
    python benchmarks/bench_frames.py --quick    # smoke run (10,000 records, 2 repeats)

1. ``records → DataFrame``: ITCare-shaped instance records through explorer's
   :func:`explorer.session.frames.to_frame` (dotted flattening, lists kept, the declared ISO
   times parsed to UTC) against ``pandas.json_normalize`` on the same records (flattening
   only), interleaved in the same run; medians, their ratio (target ≤ 1.2) and the peak
   memory of each (``tracemalloc``, measured in separate runs).
2. ``fetch 2,500 instances``: the sandbox answering every request after 20 ms; explorer's
   concurrent paging against page-by-page (one worker), same page size, same run.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from benchmarks._records import instance_records  # noqa: E402
from benchmarks._remote import RemoteSandbox  # noqa: E402
from explorer.apis.itcare import INSTANCE  # noqa: E402
from explorer.session.frames import to_frame  # noqa: E402


def _timed(fn: Callable[[], Any]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _peak(fn: Callable[[], Any]) -> float:
    """Peak traced memory of ``fn()`` in MiB (the result is kept alive while measured)."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return peak / 2**20


def bench_records(n: int, repeats: int) -> list[dict[str, Any]]:
    records = instance_records(n)
    ours = lambda: to_frame(records, INSTANCE)  # noqa: E731
    theirs = lambda: pd.json_normalize(records)  # noqa: E731
    ours(), theirs()  # warm-up (imports, caches)
    t_ours, t_theirs = [], []
    for _ in range(repeats):
        t_theirs.append(_timed(theirs))
        t_ours.append(_timed(ours))
    df, ref = ours(), theirs()
    times = [c for c in INSTANCE.iso_times if str(df[c].dtype).startswith("datetime64")]
    base = statistics.median(t_theirs)

    def size(frame: pd.DataFrame) -> str:
        return f"result {frame.memory_usage(deep=True).sum() / 2**20:.0f} MiB"

    return [
        {"case": f"json_normalize, {n:,} records", "median s": base, "ratio": 1.0,
         "peak MiB": _peak(theirs), "note": f"flattening only; {size(ref)}"},
        {"case": f"explorer to_frame, {n:,} records", "median s": statistics.median(t_ours),
         "ratio": statistics.median(t_ours) / base, "peak MiB": _peak(ours),
         "note": f"+ {len(times)} ISO time columns to UTC; {size(df)}"},
    ]


def bench_fetch(repeats: int, latency: float) -> list[dict[str, Any]]:
    """Concurrent paging against page-by-page; the sandbox runs in its own process so that
    its work does not compete with the client for this process's GIL."""
    import explorer

    sb = RemoteSandbox("itcare", latency=latency)
    rows = []
    try:
        itcare = explorer.connect("itcare", **sb.creds)
        itcare.instances(limit=1, progress=False)  # token and data warm-up
        path = "/itcare.cegedim.cloud/itcare/compute/instances"
        cases = [("page by page (1 worker)", 1), ("concurrent (8 workers)", 8)]
        timings: dict[str, list[float]] = {name: [] for name, _ in cases}
        requests_made: dict[str, int] = {}
        for _ in range(repeats):
            for name, workers in cases:
                sb.reset()
                seconds = _timed(lambda w=workers: itcare.frame(
                    "/compute/instances", workers=w, progress=False))
                timings[name].append(seconds)
                requests_made[name] = sb.count(path)
        base = statistics.median(timings[cases[0][0]])
        for name, _ in cases:
            median = statistics.median(timings[name])
            rows.append({"case": f"fetch 2,500 instances, {name}", "median s": median,
                         "ratio": median / base, "peak MiB": None,
                         "note": f"{requests_made[name]} requests, "
                                 f"{latency * 1000:.0f} ms latency each"})
    finally:
        sb.stop()
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'case':<48} {'median s':>9} {'ratio':>6} {'peak MiB':>9}  note"
    lines = [head, "-" * len(head)]
    for r in rows:
        peak = "" if r["peak MiB"] is None else f"{r['peak MiB']:.1f}"
        lines.append(f"{r['case']:<48} {r['median s']:>9.3f} {r['ratio']:>5.2f}x {peak:>9}"
                     f"  {r['note']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 10,000 records, 2 repeats, 1 fetch each")
    parser.add_argument("--records", type=int, default=None, help="records (default 100000)")
    parser.add_argument("--repeats", type=int, default=None, help="repeats (default 5)")
    parser.add_argument("--latency", type=float, default=0.02, help="sandbox latency, s")
    args = parser.parse_args(argv)
    n = args.records or (10_000 if args.quick else 100_000)
    repeats = args.repeats or (2 if args.quick else 5)
    print(f"explorer frames benchmark — pandas {pd.__version__}, Python "
          f"{sys.version.split()[0]}, {repeats} repeats, medians\n")
    rows = bench_records(n, repeats)
    rows += bench_fetch(1 if args.quick else 3, args.latency)
    print(table(rows))
    ratio = rows[1]["ratio"]
    verdict = "OK" if ratio <= 1.2 else "ABOVE TARGET"
    print(f"\nto_frame / json_normalize = {ratio:.2f}x (target ≤ 1.20x): {verdict}")
    print(f"concurrent paging speed-up: {1 / rows[-1]['ratio']:.1f}x")
    print("peak MiB: tracemalloc (Python allocations; Arrow string buffers are not traced)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
