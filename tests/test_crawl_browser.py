"""Market B (JavaScript only) crawled in browser mode: scrapy-playwright driving Debian chromium.

The fast test crawls the first pages and checks every stored listing field for field against the answer key,
the screenshot kept as evidence for every rendered listing page, and the memory of the whole process tree
(Python + Chromium). The slow test crawls all of day 1: every listing and vendor equal to the key.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from test_crawl_support import (
    PROFILE,
    compare_listings,
    compare_vendors,
    engine_for,
    run_cli,
    run_measured,
    site_id,
)

CHROMIUM = Path("/usr/lib/chromium/chromium")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium (apt-get install chromium)")]
MEMORY_CAP = 1536 * 2**20  # 1.5 GiB for the crawl process and every Chromium process under it


@pytest.fixture(scope="module")
def testbed():
    from testbed.server import Testbed

    with Testbed(day=1) as tb:
        yield tb


@pytest.fixture(scope="module")
def key1():
    from testbed.answerkey import answer_key

    return answer_key(day=1)


def _check(home: Path, key: dict, base: str, complete: bool) -> tuple[int, int]:
    from storage.models import Listing, Page

    engine = engine_for(home)
    try:
        with Session(engine) as s:
            sid = site_id(s, "testbed_market_b")
            rows = [r for r in key["listings"] if r["site"] == "market_b"]
            vendors = [v for v in key["vendors"] if v["site"] == "market_b"]
            if not complete:  # only what this capped crawl reached, but all of that exactly right
                stored = set(s.scalars(select(Listing.external_id).where(Listing.site_id == sid)))
                rows = [r for r in rows if r["external_id"] in stored]
                assert len(rows) == len(stored) and rows, stored
                vendors = []
            problems = compare_listings(s, "testbed_market_b", rows, base)
            if complete:
                problems += compare_vendors(s, "testbed_market_b", vendors, base)
            assert problems == [], "\n".join(problems[:20])
            # evidence: every listing's page was rendered by the browser and has its screenshot
            pages = s.execute(select(Page.fetch_mode, Page.screenshot_sha256).join(
                Listing, Listing.page_id == Page.id).where(Listing.site_id == sid)).all()
            assert pages and all(mode == "browser" and shot for mode, shot in pages), pages[:3]
            shots = s.scalar(select(func.count(func.distinct(Page.screenshot_sha256))).where(
                Page.screenshot_sha256.is_not(None)))
            assert shots >= len(rows) * 0.9  # one image per page (a few identical renders may share a hash)
            return len(rows), len(vendors)
    finally:
        engine.dispose()


@pytest.mark.timeout(600)
def test_market_b_browser_fields_screenshots_and_memory(testbed, key1, tmp_path):
    from storage.evidence import EvidenceStore

    home = tmp_path / "home"
    run_cli(home, "db", "upgrade")
    base = testbed.url("market_b") + "/"
    proc, peak = run_measured(home, "crawl", PROFILE["market_b"], "--base-url", base, "--max-pages", "40",
                              timeout=500)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert peak < MEMORY_CAP, f"peak resident memory {peak / 2**20:.0f} MiB"
    listings, _ = _check(home, key1, base, complete=False)
    assert listings >= 10
    # a screenshot is a real PNG in the evidence store
    from storage.models import Page

    engine = engine_for(home)
    with Session(engine) as s:
        sha = s.scalars(select(Page.screenshot_sha256).where(Page.screenshot_sha256.is_not(None))).first()
    engine.dispose()
    assert EvidenceStore(home / "evidence").read_body(sha).startswith(b"\x89PNG")


def test_market_b_needs_the_browser(testbed, tmp_path):
    """The same profile in http mode sees the shell only: no listing, and the crawl says so."""
    home = tmp_path / "home"
    run_cli(home, "db", "upgrade")
    from storage.models import Listing, Page

    proc = run_cli(home, "crawl", PROFILE["market_b"], "--base-url", testbed.url("market_b") + "/",
                   "--fetch", "http", check=False)
    assert re.search(r"(?<!\d)0 listings", proc.stdout), proc.stdout
    engine = engine_for(home)
    try:
        with Session(engine) as s:
            sid = site_id(s, "testbed_market_b")
            # the shell was fetched (the crawl ran) but no listing row came out of it
            assert s.scalar(select(func.count(Page.id)).where(Page.site_id == sid)) > 0
            assert s.scalar(select(func.count(Listing.id)).where(Listing.site_id == sid)) == 0
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_market_b_day1_complete_in_browser_mode(testbed, key1, tmp_path):
    home = tmp_path / "home"
    run_cli(home, "db", "upgrade")
    base = testbed.url("market_b") + "/"
    proc, peak = run_measured(home, "crawl", PROFILE["market_b"], "--base-url", base, timeout=3000)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert peak < MEMORY_CAP, f"peak resident memory {peak / 2**20:.0f} MiB"
    listings, vendors = _check(home, key1, base, complete=True)
    assert listings == sum(r["site"] == "market_b" for r in key1["listings"]) > 0
    assert vendors == sum(v["site"] == "market_b" for v in key1["vendors"]) > 0


@pytest.mark.timeout(600)
def test_onion_market_in_browser_mode_only_through_socks_and_fails_closed(testbed, key1, tmp_path):
    """Market C with `--fetch browser`: pages come through the SOCKS proxy by name (remote DNS), with the site's
    circuit credentials; with the proxy stopped the crawl fails loudly and the browser is never asked."""
    from test_crawl import AUDIT, _events

    home = tmp_path / "home"
    run_cli(home, "db", "upgrade")
    script, log = home / "audited.py", home / "net.jsonl"
    script.write_text(AUDIT, encoding="utf-8")
    base = testbed.onion_url + "/"
    proxy_port = int(testbed.proxy_url.rsplit(":", 1)[1])
    before = len(testbed.proxy.connections)
    argv = [sys.executable, str(script), str(log), "crawl", PROFILE["market_c"], "--proxy", testbed.proxy_url,
            "--fetch", "browser", "--max-pages", "110"]  # the 62 vendor pages come first, then listings
    proc, peak = run_measured(home, argv=argv, timeout=500)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert peak < MEMORY_CAP
    engine = engine_for(home)
    with Session(engine) as s:
        from storage.models import Listing

        sid = site_id(s, "testbed_market_c")
        stored = set(s.scalars(select(Listing.external_id).where(Listing.site_id == sid)))
        rows = [r for r in key1["listings"] if r["site"] == "market_c" and r["external_id"] in stored]
        assert rows and len(rows) == len(stored)
        problems = compare_listings(s, "testbed_market_c", rows, base)
        problems += compare_vendors(s, "testbed_market_c", [v for v in key1["vendors"] if v["site"] == "market_c"],
                                    base)
        assert problems == [], "\n".join(problems[:20])
    engine.dispose()
    seen = testbed.proxy.connections[before:]
    assert seen and {c.atyp for c in seen} == {"domain"}
    assert {c.username for c in seen if c.host.endswith(".onion")} == {"narcowatch-testbed_market_c"}
    connects = [e for e in _events(log) if e["event"] == "connect" and isinstance(e["addr"], list)]
    assert all(e["addr"][:2] == ["127.0.0.1", proxy_port] for e in connects), connects[:5]
    assert not [e for e in _events(log) if e["event"] == "getaddrinfo" and ".onion" in e["host"]]

    testbed.stop_proxy()
    try:
        log.unlink()
        proc = run_measured(home, argv=argv, timeout=300)[0]
    finally:
        testbed.start_proxy()
    assert proc.returncode == 1 and "FAILED" in proc.stderr and "unreachable" in proc.stderr, proc.stderr[-2000:]
    connects = [e for e in _events(log) if e["event"] == "connect" and isinstance(e["addr"], list)]
    assert all(e["addr"][:2] == ["127.0.0.1", proxy_port] for e in connects), connects
