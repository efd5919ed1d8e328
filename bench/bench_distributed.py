"""Distributed crawl throughput: pages/s with 1, 2 and 3 `narcowatch worker` processes against a local
`narcowatch crawl` of the same pages, all on PostgreSQL, in the same run.

The pages: market A of the testbed limited to six categories (their index pages, listings and vendors;
about 270 pages), no politeness delay (the sites' delay, not the workers, bounds a polite crawl). Timed from
the start of the processes to the end of the crawl, process start included. Needs this machine's Redis and
PostgreSQL (NARCOWATCH_TEST_REDIS_URL / NARCOWATCH_TEST_DATABASE_URL, defaulting to the local servers).
`python -m bench.bench_distributed` prints the rows; `python -m bench.run distributed` writes them to
bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

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
    with fleet(tmp / "local", pg_url, redis_url) as f:
        started = time.perf_counter()
        f.cli("crawl", str(profile), "--base-url", base, timeout=1200)
        return _pages(f.db_url), time.perf_counter() - started


def _distributed(tmp: Path, base: str, profile: Path, workers: int) -> tuple[int, float]:
    redis_url, pg_url = _urls()
    with fleet(tmp / f"w{workers}", pg_url, redis_url) as f:
        f.seed(profile, base)
        started = time.perf_counter()
        f.start_workers(workers)
        codes = f.wait_workers(timeout=1200)
        elapsed = time.perf_counter() - started
        if codes != [0] * workers:
            raise RuntimeError(f"workers exited {codes}:\n{f.log(0)[-3000:]}")
        return _pages(f.db_url), elapsed


def run() -> list[dict]:
    from testbed.server import Testbed

    rows = []
    with tempfile.TemporaryDirectory() as tmpdir, Testbed(day=1) as tb:
        tmp = Path(tmpdir)
        base = tb.url("market_a") + "/"
        profile = subset_profile(tmp / "profiles", CATEGORIES, SLUG)
        pages, elapsed = _local(tmp, base, profile)
        baseline = pages / elapsed
        for n in (1, 2, 3):
            got, took = _distributed(tmp, base, profile, n)
            rate = got / took
            rows.append({"name": f"distributed crawl, {n} worker{'s' if n > 1 else ''}", "metric": "pages/s",
                         "value": round(rate, 2), "baseline_name": "local `narcowatch crawl` (1 process)",
                         "baseline": round(baseline, 2), "ratio": round(rate / baseline, 2),
                         "note": f"{got} pages of market A (6 categories) on PostgreSQL, no delay; "
                                 f"{took:.0f} s incl. process start; local crawl {pages} pages in {elapsed:.0f} s; "
                                 f"{os.cpu_count()} cores"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row))
