"""Benchmark: the whole ICD-11 release in one call, at the server's limit.

One command, one printed table (ratios against baselines measured in the same run)::

    python benchmarks/bench_crawl.py            # release 2025-01, 36,782 entities
    python benchmarks/bench_crawl.py --quick    # CI smoke run (one chapter)

The sandbox runs in a child process (its CPU does not compete with the client's GIL, as a real
server's would not), with ``--latency`` per request (30 ms) and, for the rate-limited rows, a
gateway-like rate limit (``--rate`` per second, burst = one second's worth). Each crawl runs in
a process of its own, which reports its time, the requests and 429s the server saw, and its
peak memory (RSS).

1. ``icd.classification()`` — adaptive concurrency — on the rate-limited server: time against
   the rate bound N/R (target ≤ 1.15×), 429s as a share of requests (≤ 1 %), peak memory.
2. The same with no rate limit: time against the latency bound N·L/W for ``max_workers`` W
   (target ≤ 1.2×), and against the served bound (N × the measured per-request time of a
   sequential walk / W: what this machine can serve at W in flight).
3. The rate-limited server crawled with a fixed pool of 8 and of 32 (``workers=``).
4. Peers on the rate-limited server: a sequential walk with ``requests`` (what WHO's Python
   sample does) and PyPI ``simple-icd-11``'s ``getDescendants`` from each chapter through its
   local-deployment client, both timed on a fixed subset and scaled to N.
5. A cached rerun of the whole release in a new session: 0 requests, ≥ 50× faster than 2.
6. ``icd.search()`` over the full release: median of a fixed list of queries (≤ 50 ms).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import explorer  # noqa: E402
from benchmarks._remote import RemoteSandbox  # noqa: E402

PREFIX = "/id.who.int/icd"
QUERIES = ("cholera", "asthma", "diabetes type 2", "tuberculosis", "fracture of femur",
           "influenza", "depression", "covid", "hypertension", "malaria", "breast cancer",
           "migraine", "pneumonia", "stroke", "obesity", "dementia", "hepatitis b",
           "appendicitis", "otitis media", "anaemia")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one chapter (CI smoke run)")
    ap.add_argument("--latency", type=float, default=0.03)
    ap.add_argument("--rate", type=float, default=300.0)
    ap.add_argument("--max-workers", type=int, default=16)
    ap.add_argument("--subset", type=int, default=400,
                    help="entities timed for the long peers, scaled to the whole")
    args = ap.parse_args(argv)
    if args.quick:
        args.subset, args.latency, args.rate = 60, 0.005, 1000.0
    return args


# -- one crawl, in a process of its own ---------------------------------------------------------
def _crawl(conn: Any, creds: dict[str, Any], ref: str | None, options: dict[str, Any]) -> None:
    icd = explorer.connect("icd", **creds, progress=False, **options)
    _ = icd.release  # token, release list, top level: outside the timed part
    start = time.perf_counter()
    df = icd.tree(ref) if ref else icd.classification()
    elapsed = time.perf_counter() - start
    lim = icd.limiter()
    conn.send({"seconds": elapsed, "rows": len(df), "ids": df["id"].nunique(),
               "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "window": lim.peak, "throttled": lim.throttled})


def crawl(sb: RemoteSandbox, ref: str | None, **options: Any) -> dict[str, Any]:
    """Crawl in a fresh process; add what the server saw (requests, 429s)."""
    ctx = mp.get_context("spawn")
    here, there = ctx.Pipe()
    sb.reset()
    proc = ctx.Process(target=_crawl, args=(there, sb.creds, ref, options), daemon=True)
    proc.start()
    out = here.recv()
    proc.join(30)
    out["requests"] = sb.count(PREFIX)
    out["limited"] = sb.rate_limited()
    return out


# -- the peers ---------------------------------------------------------------------------------
def sequential(sb: RemoteSandbox, release: str, count: int) -> tuple[float, int]:
    """WHO's Python sample: ``requests.get`` one after another, depth first, from the chapters;
    the first ``count`` entities, timed."""
    base = sb.creds["base_url"]
    icd = explorer.connect("icd", **sb.creds, cache=False, progress=False)
    headers = {"Authorization": f"Bearer {icd.token.access_token}",
               "Accept": "application/json", "Accept-Language": "en", "API-Version": "v2"}
    http = requests.Session()

    def get(url: str) -> dict:
        r = http.get(url.replace("http://id.who.int", base), headers=headers, timeout=30)
        r.raise_for_status()
        return r.json()

    top = get(f"{base}/icd/release/11/{release}/mms")
    stack = list(reversed(top["child"]))
    n = 0
    start = time.perf_counter()
    while stack and n < count:
        entity = get(stack.pop())
        n += 1
        stack.extend(reversed(entity.get("child", [])))
    return time.perf_counter() - start, n


def simple_icd(sb: RemoteSandbox, count: int) -> tuple[float, int] | None:
    """PyPI simple-icd-11: ``getDescendants`` of each chapter through its local-deployment
    client on the no-auth mount, until ``count`` entities are in (timed)."""
    try:
        import simple_icd_11
    except ImportError:
        return None
    ex = simple_icd_11.ICDExplorer("en", "", "", customUrl=sb.container["base_url"] + "/")
    chapters = [f"{i:02d}" for i in range(1, 27)]
    n = 0
    start = time.perf_counter()
    for code in chapters:
        chapter = ex.getEntityFromCode(code)
        n += 1 + len(chapter.getDescendants())
        if n >= count:
            break
    return time.perf_counter() - start, n


def per_request(sb: RemoteSandbox) -> float:
    """The time one request takes, measured sequentially (no concurrency)."""
    seconds, n = sequential(sb, "2025-01", 100)
    return seconds / n


def search_latency(sb: RemoteSandbox) -> float:
    icd = explorer.connect("icd", **sb.creds, cache=False, progress=False)
    icd.search("cholera")  # warm: the index is built on first use
    times = []
    for q in QUERIES:
        start = time.perf_counter()
        icd.search(q)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# -- the table ---------------------------------------------------------------------------------
def measure(args: argparse.Namespace) -> dict[str, Any]:
    ref = "01" if args.quick else None
    sb = RemoteSandbox("icd", latency=args.latency, rate_limit=args.rate)
    out: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out["adaptive_rate"] = crawl(sb, ref, cache=False, max_workers=args.max_workers)
            out["fixed8"] = crawl(sb, ref, cache=False, workers=8)
            out["fixed32"] = crawl(sb, ref, cache=False, workers=32)
            seq = sequential(sb, "2025-01", args.subset)
            out["sequential"] = seq
            out["simple"] = simple_icd(sb, args.subset)
            sb.limit_rate(None)
            out["per_request"] = per_request(sb)
            store = Path(tmp) / "store.sqlite"
            out["adaptive"] = crawl(sb, ref, cache=store, max_workers=args.max_workers)
            out["cached"] = crawl(sb, ref, cache=store, max_workers=args.max_workers)
            out["search"] = search_latency(sb)
    finally:
        sb.stop()
    return out


def rows(quick: bool) -> list[dict[str, Any]]:
    args = parse(["--quick"] if quick else [])
    m = measure(args)
    n = m["adaptive"]["rows"]
    lat, rate, w = args.latency, args.rate, args.max_workers
    rate_bound = n / rate
    latency_bound = n * lat / w
    served_bound = n * m["per_request"] / w
    note = (f"crawl: release 2025-01 {'chapter 01' if quick else 'whole'}, {n} entities, "
            f"{lat * 1000:.0f} ms latency, rate limit {rate:.0f}/s (burst {rate:.0f}), "
            f"max_workers {w}; sandbox in a child process, each crawl in its own process; "
            f"per-request time measured sequentially: {m['per_request'] * 1000:.1f} ms"
            + ("; --quick: one chapter, targets are for the full run" if quick else ""))

    def ok(value: bool) -> bool | None:
        return None if quick else value

    def share(run: dict[str, Any]) -> float:
        return run["limited"] / max(run["requests"], 1)

    a, f8, f32 = m["adaptive_rate"], m["fixed8"], m["fixed32"]
    best_fixed = min(f8["seconds"], f32["seconds"])
    out = [
        {"name": "crawl: whole release, adaptive, rate-limited (vs N/R)",
         "median": a["seconds"], "baseline": rate_bound, "ratio": a["seconds"] / rate_bound,
         "target": "<= 1.15x", "ok": ok(a["seconds"] / rate_bound <= 1.15), "unit": "s",
         "note": note},
        {"name": f"crawl: 429s sent, adaptive ({a['limited']} of {a['requests']} requests)",
         "median": 100 * share(a), "baseline": None, "ratio": None, "target": "<= 1 %",
         "ok": ok(share(a) <= 0.01), "unit": "%", "note": note},
        {"name": "crawl: peak memory of the crawling process, adaptive", "median": a["peak_mb"],
         "baseline": None, "ratio": None, "target": "< 1000 MB", "ok": a["peak_mb"] < 1000,
         "unit": "MB", "note": note},
        {"name": f"crawl: fixed pool of 8, rate-limited ({f8['limited']} 429s)",
         "median": f8["seconds"], "baseline": a["seconds"], "ratio": f8["seconds"] /
         a["seconds"], "target": "", "ok": None, "unit": "s", "note": note},
        {"name": f"crawl: fixed pool of 32, rate-limited ({f32['limited']} 429s)",
         "median": f32["seconds"], "baseline": a["seconds"], "ratio": f32["seconds"] /
         a["seconds"], "target": "", "ok": None, "unit": "s", "note": note},
        {"name": "crawl: adaptive vs the best fixed pool (time)", "median": a["seconds"],
         "baseline": best_fixed, "ratio": a["seconds"] / best_fixed, "target": "<= 1.0x",
         "ok": ok(a["seconds"] <= best_fixed * 1.02), "unit": "s", "note": note},
        {"name": "crawl: 429s, adaptive vs fixed 32", "median": a["limited"],
         "baseline": f32["limited"], "ratio": a["limited"] / max(f32["limited"], 1),
         "target": "far fewer", "ok": ok(a["limited"] * 10 <= max(f32["limited"], 1)),
         "unit": "", "note": note},
    ]
    seq_s, seq_n = m["sequential"]
    seq_scaled = seq_s * n / seq_n
    out.append({"name": f"peer: sequential requests walk (scaled from {seq_n})",
                "median": seq_scaled, "baseline": a["seconds"],
                "ratio": seq_scaled / a["seconds"], "target": "", "ok": None, "unit": "s",
                "note": note})
    if m["simple"] is not None:
        s_s, s_n = m["simple"]
        s_scaled = s_s * n / s_n
        out.append({"name": f"peer: simple-icd-11 getDescendants (scaled from {s_n})",
                    "median": s_scaled, "baseline": a["seconds"],
                    "ratio": s_scaled / a["seconds"], "target": "", "ok": None, "unit": "s",
                    "note": note})
    u, c = m["adaptive"], m["cached"]
    out += [
        {"name": "crawl: whole release, adaptive, no limit (vs N*L/W)", "median": u["seconds"],
         "baseline": latency_bound, "ratio": u["seconds"] / latency_bound,
         "target": "<= 1.2x", "ok": ok(u["seconds"] / latency_bound <= 1.2), "unit": "s",
         "note": note},
        {"name": "crawl: whole release, adaptive, no limit (vs served bound)",
         "median": u["seconds"], "baseline": served_bound, "ratio": u["seconds"] / served_bound,
         "target": "", "ok": None, "unit": "s", "note": note},
        {"name": f"crawl: cached rerun, new session ({c['requests']} requests)",
         "median": c["seconds"], "baseline": u["seconds"], "ratio": u["seconds"] / c["seconds"],
         "target": ">= 50x, 0 req",
         "ok": c["requests"] == 0 and (quick or u["seconds"] / c["seconds"] >= 50),
         "unit": "s", "note": note},
        {"name": f"search: median over {len(QUERIES)} queries, full release",
         "median": 1000 * m["search"], "baseline": None, "ratio": None, "target": "<= 50 ms",
         "ok": ok(m["search"] <= 0.05), "unit": "ms", "note": note},
    ]
    return out


def main(argv: list[str] | None = None) -> None:
    from benchmarks.run import table

    args = parse(argv)
    print(table(rows(args.quick)))


if __name__ == "__main__":
    main()
