"""Distributed crawling (issue 11) against this machine's Redis and PostgreSQL.

Needs NARCOWATCH_TEST_REDIS_URL (and NARCOWATCH_TEST_DATABASE_URL for crawls); skipped when unset, FAILS when
set and unreachable. Every test uses its own Redis key prefix and PostgreSQL schema and removes them.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from test_crawl_support import compare_listings, compare_vendors, site_id

from bench.distributed_harness import clear_prefix, fleet, subset_profile

REDIS_URL = os.environ.get("NARCOWATCH_TEST_REDIS_URL") or None
PG_URL = os.environ.get("NARCOWATCH_TEST_DATABASE_URL") or None
SLUG = "testbed_market_a"
CATEGORIES = {"pharmacy": "Pharmacy", "benzos": "Benzos", "counterfeits": "Counterfeits"}


@pytest.fixture
def redis_url():
    if not REDIS_URL:
        pytest.skip("NARCOWATCH_TEST_REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        pytest.fail(f"NARCOWATCH_TEST_REDIS_URL is set but Redis is unreachable: {exc}")
    return REDIS_URL


@pytest.fixture
def pg_url():
    if not PG_URL:
        pytest.skip("NARCOWATCH_TEST_DATABASE_URL is not set")
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.fail(f"NARCOWATCH_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}")
    finally:
        engine.dispose()
    return PG_URL


@pytest.fixture
def coordinator(redis_url):
    from crawler.distributed import Coordinator, connect

    prefix = f"nwtest-{uuid.uuid4().hex[:10]}"
    coord = Coordinator(connect(redis_url), prefix, "site_x")
    yield coord
    clear_prefix(redis_url, prefix)


# ---------------------------------------------------------------------- queue semantics (Redis only)


def test_seen_and_queued_at_once_and_priority_order(coordinator):
    assert coordinator.enqueue("fp-a", 0, b"a")
    assert not coordinator.enqueue("fp-a", 0, b"a-again")  # duplicate filter
    assert coordinator.enqueue("fp-b", -3, b"b")  # priority 3: score -3 comes first
    assert coordinator.pending() == (2, 0)
    lease, data = coordinator.pop("w1")
    assert data == b"b"
    assert coordinator.pending() == (1, 1)
    assert not coordinator.complete()
    coordinator.ack([lease])
    lease2, data2 = coordinator.pop("w1")
    assert data2 == b"a" and lease2 != lease
    coordinator.ack([lease2])
    assert coordinator.complete() and coordinator.pop("w1") is None


def test_dead_workers_leases_are_requeued_live_ones_kept(coordinator):
    from crawler.distributed import worker_key

    client = coordinator.client
    client.set(worker_key(coordinator.prefix, "alive"), "1", ex=30)
    for i in range(4):
        coordinator.enqueue(f"fp{i}", -i, f"r{i}".encode())
    taken_dead = [coordinator.pop("dead") for _ in range(2)]
    taken_alive = coordinator.pop("alive")
    assert coordinator.pending() == (1, 3)
    assert sorted(coordinator.leases_of("dead")) == sorted(lease for lease, _ in taken_dead)
    assert coordinator.reap() == 2  # "dead" has no heartbeat key
    assert coordinator.pending() == (3, 1)
    assert coordinator.leases_of("dead") == [] and coordinator.leases_of("alive") == [taken_alive[0]]
    # the requeued requests keep their priority: the best of the dead worker's comes out first again
    assert coordinator.pop("alive")[1] == taken_dead[0][1]
    # a late ack of a requeued lease (the dead worker was only slow) changes nothing
    coordinator.ack([taken_dead[0][0]])
    assert coordinator.pending() == (2, 2)


def test_one_worker_closes_a_run_and_only_while_it_is_the_registered_crawl(coordinator):
    from crawler.profile import find_profile

    profile = find_profile(SLUG)
    coordinator.register(7, profile, {})
    assert coordinator.take_final_lock("w1", 7)
    assert not coordinator.take_final_lock("w2", 7)  # a second worker seeing the crawl complete
    assert not coordinator.take_final_lock("w2", 6)  # a worker of an older run
    coordinator.finish({"run_id": 7, "status": "finished"})
    # a worker closing after the run was finalised: the lock is not free again
    assert not coordinator.take_final_lock("w3", 7)
    coordinator.mark_failed("late storage error")
    assert not coordinator.client.exists(coordinator.keys.state)  # no stray state hash left behind
    coordinator.register(8, profile, {})  # the next crawl of the site
    assert not coordinator.take_final_lock("w3", 7)
    assert coordinator.take_final_lock("w4", 8)


def test_caps_hold_for_the_fleet_and_the_first_to_reach_one_stops_the_crawl(coordinator):
    """The page cap is counted over every worker's pages; an item or time cap reached by one worker is the
    crawl's (the first reason stays); a crawl no longer registered gets no state back."""
    from crawler.profile import find_profile

    assert coordinator.count_page(3) == (0, None)  # not registered: nothing counted, no state created
    assert not coordinator.client.exists(coordinator.keys.state)
    coordinator.register(7, find_profile(SLUG), {})
    assert [coordinator.count_page(3) for _ in range(2)] == [(1, None), (2, None)]
    other = type(coordinator)(coordinator.client, coordinator.prefix, "site_x")  # another worker's view
    assert other.count_page(3) == (3, "closespider_pagecount") and coordinator.capped() == "closespider_pagecount"
    assert coordinator.count_page(3) == (4, "closespider_pagecount")  # past the cap: PageCap does not send it
    coordinator.mark_capped("closespider_timeout")
    assert coordinator.capped() == "closespider_pagecount"  # the first cap reached is the reason
    assert coordinator.count_page(0) == (5, "closespider_pagecount")
    coordinator.finish({"run_id": 7, "status": "finished"})
    coordinator.mark_capped("closespider_itemcount")
    assert coordinator.capped() is None and not coordinator.client.exists(coordinator.keys.state)
    coordinator.register(8, find_profile(SLUG), {})
    assert coordinator.count_page(0) == (1, None) and coordinator.capped() is None  # no cap: never capped
    coordinator.mark_capped("closespider_itemcount")
    assert coordinator.capped() == "closespider_itemcount"


@pytest.mark.parametrize("closed_as", ["finished", "interrupted"])
def test_finalize_never_rewrites_a_closed_run(coordinator, engine, closed_as):
    from crawler.distributed_store import finalize
    from crawler.profile import find_profile
    from storage.models import CrawlRun, utcnow
    from storage.upsert import get_or_create_site

    profile = find_profile(SLUG)
    with Session(engine, expire_on_commit=False) as s:
        site = get_or_create_site(s, SLUG, "A", "market", "http://a.test/")
        run = CrawlRun(site_id=site.id, started_at=utcnow(), status=closed_as, pages=12, reason="closed by hand",
                       stats={"listings": 5})
        s.add(run)
        s.commit()
    coordinator.register(run.id, profile, {})
    coordinator.add_stats({"listings": 99})
    result = finalize(engine, coordinator, profile, run.id, None)
    assert result["status"] == closed_as and result["pages"] == 12
    with Session(engine) as s:
        again = s.get(CrawlRun, run.id)
        assert (again.status, again.reason, again.stats) == (closed_as, "closed by hand", {"listings": 5})
    assert not coordinator.active() and coordinator.result()["status"] == closed_as


def test_shared_rate_limit_spaces_requests_of_all_workers(coordinator):
    interval, per_thread = 0.05, 8
    sends: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        from crawler.distributed import Coordinator

        own = Coordinator(coordinator.client, coordinator.prefix, "site_x")
        for _ in range(per_thread):
            wait = own.reserve(interval)
            time.sleep(wait)
            with lock:
                sends.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(3)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(sends) == 3 * per_thread
    # 24 sends one interval apart take at least 23 intervals, whatever the number of workers
    assert max(sends) - started >= (3 * per_thread - 1) * interval * 0.95
    sends.sort()
    in_any_window = max(sum(1 for t in sends if s <= t < s + 0.25) for s in sends)
    assert in_any_window <= 0.25 / interval + 2


def test_commands_explain_missing_or_unreachable_redis(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from narcowatch.cli import cli

    monkeypatch.setenv("NARCOWATCH_HOME", str(tmp_path))
    monkeypatch.delenv("NARCOWATCH_REDIS_URL", raising=False)
    result = CliRunner().invoke(cli, ["worker", "--burst"])
    assert result.exit_code == 1 and "NARCOWATCH_REDIS_URL" in result.output
    monkeypatch.setenv("NARCOWATCH_REDIS_URL", "redis://127.0.0.1:1/0")
    from crawler.distributed import DistributedError, connect

    with pytest.raises(DistributedError, match="cannot reach Redis at redis://127.0.0.1:1/0"):
        connect("redis://127.0.0.1:1/0")


# ---------------------------------------------------------------------- three workers, one killed


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


@pytest.mark.timeout(420)
def test_three_workers_one_killed_lose_nothing_and_stay_polite(tmp_path, redis_url, pg_url):
    from crawler.distributed import Coordinator, connect
    from storage.db import make_engine
    from storage.models import CrawlRun, Listing, Page, VendorAccount
    from testbed.answerkey import answer_key
    from testbed.server import Testbed

    delay = 0.1  # the profile's limit for this test: at most 10 requests/s to the site, all workers together
    key = answer_key(day=1)
    rows = [r for r in key["listings"] if r["site"] == "market_a" and r["breadcrumb"][1] in CATEGORIES.values()]
    handles = {r["vendor"] for r in rows}
    vendors = [v for v in key["vendors"] if v["site"] == "market_a" and v["handle"] in handles]
    profile = subset_profile(tmp_path / "profiles", list(CATEGORIES), SLUG)
    with Testbed(day=1) as tb, fleet(tmp_path / "fleet", pg_url, redis_url) as f:
        base = tb.url("market_a") + "/"
        f.seed_here(profile, base, delay=delay)  # `crawl --distributed` itself: the slow test and the bench
        tb.clear_logs()
        f.start_workers(3, lease_timeout=4)
        coord = Coordinator(connect(redis_url), f.prefix, SLUG)
        victim, held, deadline = None, [], time.monotonic() + 180
        while victim is None:  # kill a worker holding requests, once the crawl is well under way
            assert time.monotonic() < deadline, "the crawl never got going:\n" + f.log(0)[-3000:]
            if len(tb.request_log("market_a")) >= 30:
                for proc in f.workers:
                    held = coord.leases_of(f.worker_id(proc))
                    if held and proc.poll() is None:
                        victim = proc
                        break
            time.sleep(0.05)
        os.kill(victim.pid, signal.SIGKILL)
        codes = f.wait_workers(timeout=300)
        survivors = [c for p, c in zip(f.workers, codes, strict=True) if p is not victim]
        assert survivors == [0, 0], "\n".join(f.log(i)[-2000:] for i in range(3))
        assert not coord.active() and coord.result()["status"] == "finished"

        engine = make_engine(f.db_url)
        with Session(engine) as s:
            run = s.scalars(select(CrawlRun)).one()
            assert run.status == "finished" and run.stats["complete"] and run.stats["distributed"]
            # the finalising worker read every vendor's listings together once the crawl was stored
            assert run.stats["vendor_context"]["accounts"] == s.scalar(select(func.count(func.distinct(
                Listing.vendor_account_id)))), run.stats["vendor_context"]
            problems = compare_listings(s, SLUG, rows, base) + compare_vendors(s, SLUG, vendors, base)
            assert problems == [], "\n".join(problems[:20])
            sid = site_id(s, SLUG)
            # no duplicates: one row per natural key, exactly the key's
            assert s.scalar(select(func.count()).select_from(Listing).where(Listing.site_id == sid)) == len(rows)
            assert s.scalar(select(func.count()).select_from(VendorAccount).where(
                VendorAccount.site_id == sid)) == len(vendors)
            urls = s.scalar(select(func.count(func.distinct(Page.url))))
            assert urls == s.scalar(select(func.count()).select_from(Page))
        engine.dispose()
        # one WARC file per worker on the shared evidence path, the killed one's included
        assert len(list((f.home / "shared-evidence" / "warc" / SLUG).glob(f"run-{run.id}-*.warc.gz"))) == 3

        times = [e["ts"] for e in tb.request_log("market_a")]
        per_window = _max_in_window(times, 2.0)
        span = max(times) - min(times)
        print(f"\n{len(times)} requests in {span:.1f} s ({len(times) / span:.1f}/s), at most {per_window} in "
              f"any 2 s (limit {1 / delay:.0f}/s); killed worker held {len(held)} request(s)")
        # send slots are exactly one delay apart and a request leaves at most delay/4 after its slot (later,
        # the slot is given up), so a 2 s window sees the sends of at most the slots in 2 s + delay/4, plus
        # one; 0.25 s more for the testbed server (in this busy process) stamping a request after rendering it
        assert per_window <= math.floor((2.0 + delay / 4 + 0.25) / delay) + 1
        assert len(times) / span <= 1 / delay * 1.05
        # fetched again: only what the killed worker held (and robots.txt once per worker), not pages of
        # live workers whose heartbeat was late
        assert len(times) <= urls + 2 + len(held) + 10


class _RssSampler:
    """Largest resident set size (bytes) any of `pids` reached, sampled twice a second (Linux /proc)."""

    def __init__(self, pids: list[int]):
        self.pids, self.peak, self._stop = pids, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            for pid in self.pids:
                try:
                    with open(f"/proc/{pid}/statm") as statm:
                        self.peak = max(self.peak, int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
                except (OSError, ValueError, IndexError):
                    pass  # ended

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_three_workers_whole_market_a_and_forum_one_killed(tmp_path, redis_url, pg_url):
    """The long variant: all of market A and the forum, seeded together, one worker killed mid-crawl."""
    import subprocess
    import sys

    from test_crawl_support import PROFILE, compare_posts

    from bench.distributed_harness import ROOT
    from crawler.distributed import Coordinator, connect
    from storage.db import make_engine
    from storage.models import CrawlRun, Listing
    from testbed.answerkey import answer_key
    from testbed.server import Testbed

    key = answer_key(day=1)
    with Testbed(day=1) as tb, fleet(tmp_path / "fleet", pg_url, redis_url) as f:
        f.seed(PROFILE["market_a"], tb.url("market_a") + "/")
        coord = Coordinator(connect(redis_url), f.prefix, SLUG)
        # the forum is seeded by a `crawl --distributed` that waits for the workers and prints the summary
        waiting = subprocess.Popen([sys.executable, "-m", "narcowatch", "crawl", PROFILE["forum"], "--base-url",
                                    tb.url("forum") + "/", "--distributed"], env=f.env, cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while not coord.client.sismember(f"{f.prefix}:crawls", PROFILE["forum"]):
            assert waiting.poll() is None, waiting.communicate()
            time.sleep(0.2)
        started = time.monotonic()
        f.start_workers(3, lease_timeout=4)
        rss = _RssSampler([p.pid for p in f.workers])
        victim, deadline = None, time.monotonic() + 300
        while victim is None:
            assert time.monotonic() < deadline, "the crawl never got going:\n" + f.log(0)[-3000:]
            if len(tb.request_log("market_a")) >= 300:
                victim = next((p for p in f.workers if coord.leases_of(f.worker_id(p)) and p.poll() is None), None)
            time.sleep(0.05)
        os.kill(victim.pid, signal.SIGKILL)
        codes = f.wait_workers(timeout=1500)
        elapsed = time.monotonic() - started
        rss.stop()
        assert [c for p, c in zip(f.workers, codes, strict=True) if p is not victim] == [0, 0]
        out, err = waiting.communicate(timeout=120)
        assert waiting.returncode == 0 and "finished" in out, err[-3000:]
        engine = make_engine(f.db_url)
        with Session(engine) as s:
            runs = s.scalars(select(CrawlRun)).all()
            assert len(runs) == 2 and all(r.status == "finished" and r.stats["complete"] for r in runs)
            base = tb.url("market_a") + "/"
            problems = compare_listings(s, SLUG, [r for r in key["listings"] if r["site"] == "market_a"], base)
            problems += compare_vendors(s, SLUG, [v for v in key["vendors"] if v["site"] == "market_a"], base)
            problems += compare_posts(s, PROFILE["forum"], key)
            assert problems == [], "\n".join(problems[:20])
            sid = site_id(s, SLUG)
            listings = s.scalar(select(func.count()).select_from(Listing).where(Listing.site_id == sid))
            assert listings == sum(r["site"] == "market_a" for r in key["listings"])  # each once
            pages = {r.id: r.pages for r in runs}
        engine.dispose()
        evidence = sum(p.stat().st_size for p in (f.home / "shared-evidence").rglob("*") if p.is_file())
        print(f"\nmarket A + forum, 3 workers (one killed): {sum(pages.values())} pages stored "
              f"({listings} market A listings) in {elapsed:.0f} s from worker start; {evidence / 2**20:.1f} MiB "
              f"evidence; largest worker RSS {rss.peak / 2**20:.0f} MiB; load average {os.getloadavg()[0]:.1f}")


@pytest.mark.browser
@pytest.mark.timeout(900)
def test_workers_crawl_the_browser_market_and_the_onion_market(tmp_path, redis_url, pg_url):
    """Market B (listings only after JavaScript: browser mode) and market C (an onion name, only through the
    SOCKS5 proxy with remote DNS) seeded together, two workers, page caps: every listing they stored equals
    the answer key, once; B's listing pages were rendered by the browser and kept a screenshot; every
    connection for C went through the proxy, naming the onion host."""
    from pathlib import Path

    from test_crawl_support import PROFILE

    from crawler.distributed import Coordinator, connect
    from storage.db import make_engine
    from storage.models import CrawlRun, Listing, Page
    from testbed.answerkey import answer_key
    from testbed.server import Testbed

    if not Path("/usr/bin/chromium").exists():
        pytest.skip("needs Debian chromium (apt-get install chromium)")
    key = answer_key(day=1)
    with Testbed(day=1) as tb, fleet(tmp_path / "fleet", pg_url, redis_url) as f:
        bases = {"market_b": tb.url("market_b") + "/", "market_c": tb.onion_url + "/"}
        f.seed(PROFILE["market_b"], bases["market_b"], "--max-pages", "30")
        f.seed(PROFILE["market_c"], bases["market_c"], "--proxy", tb.proxy_url, "--max-pages", "150")
        tb.clear_logs()
        f.start_workers(2, lease_timeout=20)
        codes = f.wait_workers(timeout=800)
        assert codes == [0, 0], "\n".join(f.log(i)[-3000:] for i in range(2))
        for site in bases:  # the page caps hold for the fleet: each crawl ends, as a partial crawl
            result = Coordinator(connect(redis_url), f.prefix, PROFILE[site]).result()
            assert result and result["status"] == "finished" and "closespider_pagecount" in result["reason"], \
                (site, result, "\n".join(f.log(i)[-3000:] for i in range(2)))
        engine = make_engine(f.db_url)
        with Session(engine) as s:
            runs = {r.site.slug: r for r in s.scalars(select(CrawlRun))}
            assert sorted(runs) == sorted(PROFILE[site] for site in bases)
            for slug, cap in ((PROFILE["market_b"], 30), (PROFILE["market_c"], 150)):
                run = runs[slug]
                assert run.status == "finished" and run.stats["distributed"] and not run.stats["complete"]
                assert run.listings_gone == 0  # a partial crawl marks nothing vanished
                # the cap is on requests sent by the whole fleet: never more pages than that
                assert cap * 0.5 <= run.pages <= cap, (slug, run.pages)
            for site, base in bases.items():
                slug = PROFILE[site]
                sid = site_id(s, slug)
                stored = list(s.scalars(select(Listing.external_id).where(Listing.site_id == sid)))
                assert len(stored) == len(set(stored)) >= 5, (site, len(stored))  # each once
                rows = [r for r in key["listings"] if r["site"] == site and r["external_id"] in set(stored)]
                assert len(rows) == len(stored)
                problems = compare_listings(s, slug, rows, base)
                assert problems == [], "\n".join(problems[:20])
            b_pages = s.execute(select(Page.fetch_mode, Page.screenshot_sha256).join(
                Listing, Listing.page_id == Page.id).where(Listing.site_id == site_id(s, PROFILE["market_b"]))).all()
            assert b_pages and all(mode == "browser" and shot for mode, shot in b_pages), b_pages[:3]
        engine.dispose()
        connects = tb.proxy.connections
        assert connects and all(c.host == tb.onion_host and c.accepted for c in connects), connects[:3]
        assert len(connects) >= len(tb.request_log("market_c")) > 0
