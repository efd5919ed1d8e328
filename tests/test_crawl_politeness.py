"""Politeness in an ordinary crawl, measured at the testbed server: robots.txt is read first and obeyed (a
disallowed link is never requested, and is recorded as a `robots` error), its Crawl-delay is a floor under
the profile's delay whatever the concurrency, and `robots: ignore` is the profile's explicit choice."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_crawl_support import SITES, engine_for, run_cli

from testbed.server import Testbed

pytestmark = pytest.mark.timeout(300)
CRAWL_DELAY = 0.3


def _profile(dest: Path, *, robots: str, max_pages: int) -> Path:
    """Market A's committed profile, following the header links too (one of them is /account/login, which
    robots.txt disallows), capped, with no delay of its own and eight requests at a time."""
    text = (SITES / "testbed_market_a.yaml").read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^(\s+)- ul\.categories a::attr\(href\).*$",
                      r"\1- ul.categories a::attr(href)\n\1- header a::attr(href)", text)
    assert n == 1
    text, n = re.subn(r"(?m)^start_urls: .*$", "start_urls: [/]", text)  # the front page and its header
    assert n == 1
    text, n = re.subn(r"(?m)^(\s+robots:) obey", rf"\1 {robots}", text)
    assert n == 1
    text, n = re.subn(r"(?m)^(\s+max_pages:) \d+", rf"\1 {max_pages}", text)
    assert n == 1
    assert re.search(r"(?m)^\s+delay: 0$", text) and re.search(r"(?m)^\s+concurrency: 8$", text)
    dest.write_text(text, encoding="utf-8")
    return dest


def _crawl(tmp_path: Path, tb: Testbed, robots: str, max_pages: int) -> tuple[list[dict], Path]:
    home = tmp_path / f"home-{robots}"
    run_cli(home, "db", "upgrade")
    profile = _profile(tmp_path / f"market_a_{robots}.yaml", robots=robots, max_pages=max_pages)
    tb.clear_logs()
    run_cli(home, "crawl", str(profile), "--base-url", tb.url("market_a") + "/")
    return tb.request_log("market_a"), home


def test_robots_txt_first_disallowed_never_fetched_and_crawl_delay_is_a_floor(tmp_path):
    from storage.models import CrawlError

    with Testbed(day=1, crawl_delay=CRAWL_DELAY) as tb:
        log, home = _crawl(tmp_path, tb, "obey", max_pages=25)
    paths = [e["path"] for e in log]
    assert paths[0] == "/robots.txt" and paths.count("/robots.txt") == 1, paths[:5]
    assert not [p for p in paths if p.startswith("/account")], paths
    pages = [e for e in log if e["path"] != "/robots.txt"]
    assert len(pages) >= 15
    gaps = sorted(b["ts"] - a["ts"] for a, b in zip(pages, pages[1:], strict=False))
    # 8 at a time were allowed, yet one request per Crawl-delay. The server stamps a request when it has
    # answered it, so one slow answer shortens the next gap: the bound on single gaps leaves room for that,
    # the median (the floor / 0.8, +-20 % jitter, when honoured; near 0 when not) may not go below the floor
    assert gaps[0] >= CRAWL_DELAY * 0.75, gaps[:5]
    assert gaps[len(gaps) // 2] >= CRAWL_DELAY, gaps
    engine = engine_for(home)
    with Session(engine) as s:
        refused = s.execute(select(CrawlError.kind, CrawlError.url).where(CrawlError.url.like("%/account%"))).all()
    engine.dispose()
    assert refused and {k for k, _ in refused} == {"robots"}, refused


def test_without_crawl_delay_the_profile_decides_and_ignore_is_explicit(tmp_path):
    with Testbed(day=1) as tb:
        log, _ = _crawl(tmp_path, tb, "ignore", max_pages=25)
    paths = [e["path"] for e in log]
    assert "/robots.txt" not in paths  # ignored means not even asked
    assert "/account/login" in paths  # and the disallowed page is fetched: the profile said so
    pages = [e for e in log if e["path"] != "/robots.txt"]
    gaps = sorted(b["ts"] - a["ts"] for a, b in zip(pages, pages[1:], strict=False))
    assert gaps[len(gaps) // 2] < CRAWL_DELAY / 2  # no floor: delay 0, eight at a time


def test_page_cap_counts_requests_as_they_leave_and_closes_once():
    """At most max_pages requests leave (so at most that many pages are stored, whatever is in flight);
    the one that reaches the cap closes the crawl, once; the rest are held back, not recorded as errors."""
    import asyncio

    from scrapy import Request
    from scrapy.exceptions import NotConfigured
    from scrapy.settings import Settings

    from crawler.politeness import PageCap, PageCapReached

    closed = []

    class Engine:
        async def close_spider_async(self, reason):
            closed.append(reason)

    class Crawler:
        def __init__(self, cap):
            self.settings, self.engine = Settings({"CLOSESPIDER_PAGECOUNT": cap}), Engine()

    with pytest.raises(NotConfigured):
        PageCap.from_crawler(Crawler(0))
    cap = PageCap.from_crawler(Crawler(3))

    async def send(n):
        sent = 0
        for i in range(n):
            try:
                cap.process_request(Request(f"http://127.0.0.1/{i}"))
                sent += 1
            except PageCapReached:
                pass
        await asyncio.sleep(0)
        return sent

    assert asyncio.run(send(5)) == 3 and closed == ["closespider_pagecount"]

    # a worker of a distributed crawl: the fleet's count (Coordinator.count_page) decides, and a cap another
    # worker reached first (an item cap here) closes this one with that reason
    class Fleet:
        def __init__(self, already: int, reason: str | None = None):
            self.n, self.reason = already, reason

        def count_page(self, max_pages):
            self.n += 1
            if max_pages and self.n >= max_pages:
                self.reason = self.reason or "closespider_pagecount"
            return self.n, self.reason

    class Worker(Crawler):
        def __init__(self, cap, fleet):
            self.settings, self.engine = Settings({"NARCOWATCH_SHARED_MAX_PAGES": cap}), Engine()
            self.nw_coordinator = fleet

    closed.clear()
    cap = PageCap.from_crawler(Worker(10, Fleet(already=8)))  # the other workers sent 8
    assert asyncio.run(send(5)) == 2 and closed == ["closespider_pagecount"]
    closed.clear()
    cap = PageCap.from_crawler(Worker(0, Fleet(already=3, reason="closespider_itemcount")))  # no page cap
    assert asyncio.run(send(2)) == 2 and closed == ["closespider_itemcount"]
