"""The crawl commands a cyber unit types: `narcowatch sites check` (one page of each kind fetched, every
selector's value shown and right, a profile whose selectors find nothing refused with status 1, an onion
profile checked only through its proxy) and `narcowatch crawl --all` with its progress display."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from test_crawl_support import SITES, run_cli

from testbed.server import Testbed

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def tb():
    with Testbed(day=1) as bed:
        yield bed


def _values(out: str, section: str) -> dict[str, str]:
    block = out.split(f"[{section}]", 1)[1].split("\n\n", 1)[0]
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"(?m)^  (\S[^ ]*)\s{2,}(.*)$", block)}


def test_check_shows_what_each_selector_extracted(tb, tmp_path):
    import testbed

    key = testbed.answer_key(day=1)
    proc = run_cli(tmp_path / "home", "sites", "check", str(SITES / "testbed_market_a.yaml"),
                   "--base-url", tb.url("market_a") + "/")
    out = proc.stdout
    assert "valid profile for Cobalt Market" in out and "[index]" in out and "-> 200" in out
    listing = _values(out, "listing")
    row = next(r for r in key["listings"] if r["site"] == "market_a" and r["external_id"] == listing["external_id"])
    assert listing["title"] == row["title"] and listing["price"] == row["price"]
    assert listing["vendor"] == row["vendor"] and listing["ships_from"] == row["ships_from"]
    vendor = _values(out, "vendor")
    v = next(x for x in key["vendors"] if x["site"] == "market_a" and x["handle"] == vendor["handle"])
    assert vendor["profile.member_since"] == v["member_since"]


def test_check_refuses_a_profile_whose_selectors_find_nothing(tb, tmp_path):
    text = (SITES / "testbed_market_a.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("title: h1.listing-title", "title: h1.no-such-class"), encoding="utf-8")
    proc = run_cli(tmp_path / "home", "sites", "check", str(broken), "--base-url", tb.url("market_a") + "/",
                   check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "title" in _values(proc.stdout, "listing") and "(nothing)" in _values(proc.stdout, "listing")["title"]


def test_check_of_an_invalid_profile_names_file_line_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (SITES / "testbed_market_a.yaml").read_text(encoding="utf-8").replace("concurrency: 8", "concurrency: -3")
    bad.write_text(text, encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "concurrency: -3" in row)
    proc = run_cli(tmp_path / "home", "sites", "check", str(bad), check=False)
    assert proc.returncode != 0
    assert f"{bad}:{line}: politeness.concurrency" in proc.stdout + proc.stderr


def test_check_of_the_onion_market_goes_through_the_proxy_only(tb, tmp_path):
    before = len(tb.proxy.connections)
    proc = run_cli(tmp_path / "home", "sites", "check", str(SITES / "testbed_market_c.yaml"),
                   "--proxy", tb.proxy_url)
    assert "[listing]" in proc.stdout and "-> 200" in proc.stdout
    assert len(tb.proxy.connections) > before
    tb.stop_proxy()
    try:
        down = run_cli(tmp_path / "home", "sites", "check", str(SITES / "testbed_market_c.yaml"),
                       "--proxy", tb.proxy_url, check=False)
    finally:
        tb.start_proxy()
    assert down.returncode == 1 and "proxy" in (down.stdout + down.stderr).lower()


def test_crawl_all_crawls_every_profile_of_the_sites_folder(tb, tmp_path):
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session
    from test_crawl_support import ROOT, crawl_env, engine_for

    from storage.models import CrawlRun, Listing, Post, Site, VendorAccount

    sites = tmp_path / "sites"
    sites.mkdir()
    for name, site in (("testbed_market_a.yaml", "market_a"), ("testbed_forum.yaml", "forum")):
        text = (SITES / name).read_text(encoding="utf-8")
        text = re.sub(r"(?m)^base_url: .*$", f"base_url: {tb.url(site)}/", text)
        text = re.sub(r"(?m)^(\s+max_pages:) \d+", r"\1 15", text)
        (sites / name).write_text(text, encoding="utf-8")
    home = tmp_path / "home"
    run_cli(home, "db", "upgrade")
    env = {**crawl_env(home), "NARCOWATCH_SITES_DIR": str(sites)}
    proc = subprocess.run([sys.executable, "-m", "narcowatch", "crawl", "--all"], env=env, capture_output=True,
                          text=True, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    # the progress display: pages, items, errors and rate per site, on stderr
    assert re.search(r"testbed_market_a: \d+ pages, \d+ items, \d+ errors, [\d.]+ pages/s", proc.stderr)
    assert re.search(r"testbed_forum: \d+ pages, \d+ items, \d+ errors, [\d.]+ pages/s", proc.stderr)
    engine = engine_for(home)
    with Session(engine) as s:
        runs = dict(s.execute(select(Site.slug, CrawlRun.status).join(CrawlRun, CrawlRun.site_id == Site.id)).all())
        assert runs == {"testbed_market_a": "finished", "testbed_forum": "finished"}
        # the page cap holds exactly: requests in flight when it was reached were the last ones sent
        pages = dict(s.execute(select(Site.slug, CrawlRun.pages).join(CrawlRun, CrawlRun.site_id == Site.id)).all())
        assert all(0 < n <= 15 for n in pages.values()), pages
        # 15 pages each: market A's vendor pages come first (vendors before listings), the forum's threads
        market_a = s.scalar(select(Site.id).where(Site.slug == "testbed_market_a"))
        stored_a = s.scalar(select(func.count()).select_from(Listing).where(Listing.site_id == market_a)) + \
            s.scalar(select(func.count()).select_from(VendorAccount).where(VendorAccount.site_id == market_a))
        assert stored_a > 0
        assert s.scalar(select(func.count()).select_from(Post)) > 0
    engine.dispose()
