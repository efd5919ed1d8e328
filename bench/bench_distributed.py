"""Distributed crawl throughput: pages/s with 1, 2 and 3 `narcowatch worker` processes against a local
`narcowatch crawl` of the same pages, all on PostgreSQL, in the same run.

The pages: market A of the testbed limited to six categories (their index pages, listings and vendors;
255 pages), no politeness delay (the sites' delay, not the workers, bounds a polite crawl). Timed from
the start of the processes to the end of the crawl, process start included; also the CPU time the crawl's
processes used per page, the figure that still means something on a machine other jobs keep busy.
NARCOWATCH_BENCH_ROUNDS (3) rounds of all four configurations, interleaved. Needs this machine's Redis and
PostgreSQL (NARCOWATCH_TEST_REDIS_URL / NARCOWATCH_TEST_DATABASE_URL, defaulting to the local servers).
`python -m bench.bench_distributed` prints the rows; `python -m bench.run distributed` writes them to
bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

from bench.distributed_harness import fleet, subset_profile

CATEGORIES = ["pharmacy", "benzos", "counterfeits", "digital-goods", "dissociatives", "research-chemicals"]
SLUG = "testbed_market_a"


def _urls() -> tuple[str, str]:
    return (os.environ.get("NARCOWATCH_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15",
            os.environ.get("NARCOWATCH_TEST_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pages(db_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        pages = conn.execute(text("select count(distinct url) from pages")).scalar_one()
    engine.dispose()
    return int(pages)


def _local(tmp: Path, base: str, profile: Path) -> tuple[int, float]:
    redis_url, pg_url = _urls()
    with fleet(tmp, pg_url, redis_url) as f:
        started = time.perf_counter()
        f.cli("crawl", str(profile), "--base-url", base, timeout=1200)
        return _pages(f.db_url), time.perf_counter() - started


def _distributed(tmp: Path, base: str, profile: Path, workers: int) -> tuple[int, float]:
    redis_url, pg_url = _urls()
    with fleet(tmp, pg_url, redis_url) as f:
        f.seed(profile, base)
        started = time.perf_counter()
        f.start_workers(workers)
        codes = f.wait_workers(timeout=1200)
        elapsed = time.perf_counter() - started
        if codes != [0] * workers:
            raise RuntimeError(f"workers exited {codes}:\n{f.log(0)[-3000:]}")
        return _pages(f.db_url), elapsed


def _measured(crawl: Callable[[], tuple[int, float]]) -> dict:
    """pages, wall seconds, CPU seconds of the crawl's processes (workers or local crawl, not PostgreSQL's
    nor Redis's), load average when it started."""
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    pages, wall = crawl()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {"pages": pages, "wall": wall, "cpu": cpu, "load": load, "rate": pages / wall}


def _rates(measured: list[dict]) -> str:
    return ", ".join(f"{m['rate']:.1f}" for m in measured)


def run() -> list[dict]:
    """ROUNDS rounds, each: the local crawl then 1, 2 and 3 workers, so that every configuration meets the
    same mix of load from other jobs; values are medians over rounds, ratios the median of each round's
    ratio to that round's local crawl."""
    from testbed.server import Testbed

    rounds = max(1, int(os.environ.get("NARCOWATCH_BENCH_ROUNDS", "3")))
    seen: dict[int, list[dict]] = {0: [], 1: [], 2: [], 3: []}
    with tempfile.TemporaryDirectory() as tmpdir, Testbed(day=1) as tb:
        tmp = Path(tmpdir)
        base = tb.url("market_a") + "/"
        profile = subset_profile(tmp / "profiles", CATEGORIES, SLUG)
        for r in range(rounds):
            seen[0].append(_measured(lambda r=r: _local(tmp / f"local-{r}", base, profile)))
            for n in (1, 2, 3):
                seen[n].append(_measured(lambda n=n, r=r: _distributed(tmp / f"w{n}-{r}", base, profile, n)))
    local = seen[0]
    rows = []
    for n in (1, 2, 3):
        got = seen[n]
        ratios = [g["rate"] / b["rate"] for g, b in zip(got, local, strict=True)]
        loads = [m["load"] for m in got]
        rows.append({
            "name": f"distributed crawl, {n} worker{'s' if n > 1 else ''}", "metric": "pages/s",
            "value": round(median(m["rate"] for m in got), 2),
            "baseline_name": "local `narcowatch crawl` (1 process)",
            "baseline": round(median(m["rate"] for m in local), 2), "ratio": round(median(ratios), 2),
            "note": f"{got[0]['pages']} pages of market A (6 categories) on PostgreSQL, no delay, process start "
                    f"included; median of {rounds} round(s): {_rates(got)} pages/s "
                    f"(local {_rates(local)}); CPU of the workers "
                    f"{median(1000 * m['cpu'] / m['pages'] for m in got):.0f} ms/page (local "
                    f"{median(1000 * m['cpu'] / m['pages'] for m in local):.0f} ms/page); load average "
                    f"{min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row))
