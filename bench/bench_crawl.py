"""Crawl throughput: the full pipeline (crawl, evidence, analysis, storage) against a bare Scrapy spider
fetching the same testbed pages (market A, day 1) in the same run.

Each side runs in its own process (the Twisted reactor cannot restart) against one in-process testbed, with
the same concurrency (8), robots.txt and navigation. Both are timed the same way, from the spider opening to
the crawl being closed (imports and interpreter start excluded on both sides): for the full pipeline that is
the CrawlRun's started_at -> finished_at, which includes the last batch written, the WARC sealed and the
analysis model loaded. `python -m bench.bench_crawl` prints the rows; `make bench` puts them into
bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPEAT = 5  # pairs (bare, full) run alternately; the medians are reported, the load average is noted

BARE = r'''
import sys, time, scrapy
from scrapy.crawler import CrawlerProcess
base = sys.argv[1]

class Bare(scrapy.Spider):
    name = "bare"
    async def start(self):
        yield scrapy.Request(base + "/")
        yield scrapy.Request(base + "/vendors")
    def parse(self, response):
        # the same navigation as the profile: categories, pagination, listings, vendors
        for sel in ("ul.categories a::attr(href)", "nav.pagination a::attr(href)",
                    "tr.listing-row a.title::attr(href)", "table.vendors td a::attr(href)",
                    "a.vendor::attr(href)"):
            for href in response.css(sel).getall():
                yield response.follow(href, self.parse)

p = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": 8, "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
                    "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": True,
                    "TELNETCONSOLE_ENABLED": False,
                    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor"})
crawler = p.create_crawler(Bare)
p.crawl(crawler)
p.start()
stats = crawler.stats.get_stats()
print(stats["response_received_count"], (stats["finish_time"] - stats["start_time"]).total_seconds())
'''


def _bare(base: str) -> tuple[int, float]:
    # a file, not `python -c`: Scrapy reads callbacks' source code
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bare_spider.py"
        script.write_text(BARE, encoding="utf-8")
        out = subprocess.run([sys.executable, str(script), base], capture_output=True, text=True, check=True,
                             cwd=ROOT)
    pages, elapsed = out.stdout.split()[-2:]
    return int(pages), float(elapsed)


def _full(base: str) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as home:
        env = {"NARCOWATCH_HOME": home, "NARCOWATCH_SITES_DIR": str(ROOT / "sites"), "PATH": "/usr/bin:/bin",
               "NARCOWATCH_LOG_LEVEL": "ERROR"}
        subprocess.run([sys.executable, "-m", "narcowatch", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                       capture_output=True)
        subprocess.run([sys.executable, "-m", "narcowatch", "crawl", "testbed_market_a", "--base-url", base + "/"],
                       env=env, cwd=ROOT, check=True, capture_output=True)
        from sqlalchemy import create_engine, select
        from sqlalchemy.orm import Session

        from storage.models import CrawlRun, Listing, Page

        engine = create_engine(f"sqlite:///{home}/narcowatch.db")
        with Session(engine) as s:
            run = s.scalars(select(CrawlRun)).one()
            assert run.status == "finished", run.reason
            pages = len(s.scalars(select(Page.id)).all())
            listings = len(s.scalars(select(Listing.id)).all())
            elapsed = (run.finished_at - run.started_at).total_seconds()
        engine.dispose()
        assert listings > 1000, f"only {listings} listings stored"  # the full pipeline really did its work
        return pages, elapsed


def run() -> list[dict]:
    from testbed.server import Testbed

    full_rates, bare_rates, pages_seen, bare_seen = [], [], [], []
    load_before = os.getloadavg()[0]
    with Testbed() as tb:
        base = tb.url("market_a")
        for _ in range(REPEAT):
            pages, elapsed = _bare(base)
            bare_rates.append(pages / elapsed)
            bare_seen.append(pages)
            pages, elapsed = _full(base)
            full_rates.append(pages / elapsed)
            pages_seen.append(pages)
    load_after = os.getloadavg()[0]
    full, bare = statistics.median(full_rates), statistics.median(bare_rates)
    pair_ratios = sorted(f / b for f, b in zip(full_rates, bare_rates, strict=True))
    return [{"name": "crawl market A (full pipeline)", "metric": "pages/s", "value": round(full, 1),
             "baseline_name": "bare Scrapy spider", "baseline": round(bare, 1), "ratio": round(full / bare, 2),
             "target": ">= 0.6",
             "note": f"{pages_seen[0]} pages (bare: {bare_seen[0]}); full = crawl + WARC/SHA-256 evidence + "
                     "analysis + batched SQLite upserts; both timed from spider open to crawl closed; "
                     f"median of {REPEAT} alternating pairs, per-pair ratios "
                     f"{' '.join(f'{r:.2f}' for r in pair_ratios)}; "
                     f"load average {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} cores"}]


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
