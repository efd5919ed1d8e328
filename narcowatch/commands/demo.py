"""`narcowatch demo`: the main job on the embedded default, end to end on the local testbed.

It starts the testbed sites in this process (free loopback ports), crawls each of them with the site
profiles in `sites/` as separate `narcowatch crawl` processes (Scrapy's reactor cannot restart), links vendor
accounts into clusters, writes the weekly drug-desk report and prints what it stored and where.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import click

from narcowatch import settings

# profile file -> testbed site whose address replaces the profile's fixed port
TESTBED_PROFILES = (("testbed_market_a.yaml", "market_a"), ("testbed_market_b.yaml", "market_b"),
                    ("testbed_market_c.yaml", "market_c"), ("testbed_forum.yaml", "forum"),
                    ("testbed_hostile.yaml", "hostile"))


def _sites_dir() -> Path:
    return Path(settings.get("NARCOWATCH_SITES_DIR"))


def _narcowatch(*args: str) -> int:
    """Run one narcowatch command in its own process, its output going straight to the terminal."""
    return subprocess.call([sys.executable, "-m", "narcowatch", *args])


def _crawl_testbed(tb, profiles: list[tuple[Path, str]]) -> dict[str, int]:
    codes = {}
    for path, site in profiles:
        args = ["crawl", str(path)]
        if site == "market_c":
            args += ["--proxy", tb.proxy_url]  # the onion name stays; only the Tor stand-in's port moves
        else:
            args += ["--base-url", tb.url(site) + "/"]
        click.echo(f"\n== crawl {path.name} (testbed {site}, day {tb.day})")
        started = time.monotonic()
        codes[site] = _narcowatch(*args)
        click.echo(f"   exit {codes[site]} after {time.monotonic() - started:.0f} s")
    return codes


def _stored_summary() -> list[str]:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from narcowatch.context import database
    from storage.models import CrawlRun, Listing, Page, Post, Site, VendorAccount, VendorCluster

    lines = []
    with Session(database()) as session:
        for site in session.scalars(select(Site).order_by(Site.slug)):
            listings = session.scalar(select(func.count()).where(Listing.site_id == site.id)) or 0
            active = session.scalar(select(func.count()).where(Listing.site_id == site.id,
                                                               Listing.active.is_(True))) or 0
            vendors = session.scalar(select(func.count()).where(VendorAccount.site_id == site.id)) or 0
            runs = list(session.scalars(select(CrawlRun).where(CrawlRun.site_id == site.id)
                                        .order_by(CrawlRun.id.desc()).limit(1)))
            last = f"last run {runs[0].status}" if runs else "never crawled"
            what = "member accounts" if site.kind == "forum" else "vendor accounts"
            lines.append(f"  {site.slug:<22} {listings:>5} listings ({active} active), {vendors:>4} {what}; {last}")
        posts = session.scalar(select(func.count()).select_from(Post)) or 0
        pages = session.scalar(select(func.count()).select_from(Page)) or 0
        clusters = session.scalar(select(func.count()).select_from(VendorCluster)) or 0
        lines.append(f"  {posts} forum posts, {pages} pages kept as evidence, {clusters} account clusters")
    return lines


def _latest_week() -> str:
    """The ISO week of the newest crawl run: the week the demo's crawls fall in."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from narcowatch.context import database
    from reports.weeks import Week
    from storage.models import CrawlRun

    with Session(database()) as session:
        newest = session.scalar(select(func.max(CrawlRun.started_at)))
    return str(Week.of(newest)) if newest else "latest"


@click.command("demo")
@click.option("--days", type=click.IntRange(1, 14), default=1, show_default=True,
              help="Testbed days to crawl: day 1, then each next day re-crawls every site (changes, "
                   "vanished listings, vendor moves).")
@click.option("--skip-report", is_flag=True, help="Stop after crawling and clustering.")
def demo(days: int, skip_report: bool) -> None:
    """Run the main job on the embedded default: start the local testbed, crawl every testbed site into
    the database under NARCOWATCH_HOME, cluster vendor accounts, write the weekly report."""
    from storage.db import default_engine, describe
    from storage.migrate import upgrade
    from testbed.server import Testbed
    from testbed.world import DEFAULT_SEED

    settings.home().mkdir(parents=True, exist_ok=True)
    settings.evidence_dir().mkdir(parents=True, exist_ok=True)
    engine = default_engine()
    before, after = upgrade(engine)
    click.echo(f"database {describe(engine)}: schema {before or 'empty'} -> {after}")
    click.echo(f"evidence store: {settings.evidence_dir().resolve()}")

    profiles = [(_sites_dir() / name, site) for name, site in TESTBED_PROFILES]
    missing = [str(p) for p, _ in profiles if not p.exists()]
    if missing:
        raise click.ClickException(f"testbed profiles missing: {', '.join(missing)} (NARCOWATCH_SITES_DIR="
                                   f"{settings.get('NARCOWATCH_SITES_DIR')})")
    failed: list[str] = []
    with Testbed(seed=DEFAULT_SEED, day=1) as tb:
        click.echo(f"testbed seed {DEFAULT_SEED} on loopback: " + ", ".join(f"{s} {tb.url(s)}" for s in
                                                                             ("market_a", "market_b", "forum",
                                                                              "hostile"))
                   + f"; market_c {tb.onion_url} via SOCKS5 {tb.proxy_url}")
        for day in range(1, days + 1):
            tb.set_day(day)
            codes = _crawl_testbed(tb, profiles)
            failed += [f"{site} (day {day})" for site, code in codes.items() if code != 0]

    click.echo("\n== cluster vendor accounts across sites")
    if _narcowatch("cluster", "--db") != 0:
        failed.append("clustering")

    report_dir = None
    if not skip_report:
        week = _latest_week()
        report_dir = settings.home() / "reports" / week
        click.echo(f"\n== weekly report {week}")
        if _narcowatch("report", "weekly", "--week", week, "--out", str(report_dir)) != 0:
            failed.append("report")
            report_dir = None

    click.echo("\n== stored")
    for line in _stored_summary():
        click.echo(line)
    if report_dir is not None:
        click.echo(f"\nweekly report: {(report_dir / 'report.html').resolve()}  (also report.pdf, report.xlsx, "
                   "summary.json and CSV tables there)")
    click.echo(f"evidence: {settings.evidence_dir().resolve()}  (`narcowatch evidence verify` re-hashes it)")
    if failed:
        # the hostile site is expected to end within its caps, not to fail; any failure is worth a look
        click.echo(f"\nsteps that did not succeed: {', '.join(failed)}", err=True)
        raise SystemExit(1)


commands = [demo]
