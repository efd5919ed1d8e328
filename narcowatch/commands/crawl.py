"""`narcowatch crawl` and `narcowatch sites`: crawl sites from their profiles, check a profile."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from narcowatch import settings


def _profile(site: str, base_url: str | None, proxy: str | None, fetch: str | None, max_pages: int | None,
             delay: float | None, concurrency: int | None):
    from crawler.profile import ProfileError, find_profile

    try:
        profile = find_profile(site)
        if any(v is not None for v in (base_url, proxy, fetch, max_pages, delay, concurrency)):
            profile = profile.with_overrides(base_url=base_url, proxy=proxy, fetch=fetch, max_pages=max_pages,
                                             delay=delay, concurrency=concurrency)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    except ValueError as exc:  # an override that makes the profile invalid
        raise click.ClickException(f"{site}: {exc}") from exc
    return profile


def _summary(result) -> str:
    c = result.counts
    line = (f"{result.site}: run {result.run_id} {result.status}: {c.get('pages', 0)} pages, "
            f"{c.get('listings', 0)} listings ({c.get('listings_new', 0)} new, {c.get('listings_changed', 0)} "
            f"changed, {c.get('listings_gone', 0)} gone), {c.get('vendors', 0)} vendor pages, "
            f"{c.get('threads', 0)} thread pages, {c.get('posts', 0)} posts, {c.get('errors', 0)} errors")
    if result.error_kinds:
        line += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(result.error_kinds.items())) + ")"
    if result.reason:
        line += f"\n  {result.reason}"
    for alert in result.alerts:
        line += f"\n  alert: {alert}"
    return line


@click.command("crawl")
@click.argument("site", required=False)
@click.option("--all", "all_sites", is_flag=True, help="Crawl every profile in the sites folder, one after another.")
@click.option("--resume", is_flag=True,
              help="Continue the site's interrupted run (killed, even with SIGKILL) instead of starting a new one.")
@click.option("--base-url", default=None, help="Crawl the site at this base URL instead of the profile's "
              "(a mirror, or a testbed on another port).")
@click.option("--proxy", default=None, help="SOCKS5 proxy URL (socks5h://host:port) instead of the profile's.")
@click.option("--fetch", type=click.Choice(["http", "browser"]), default=None, help="Override the fetch mode.")
@click.option("--max-pages", type=int, default=None, help="Override the profile's page cap.")
@click.option("--delay", type=float, default=None, help="Override the delay between requests (seconds).")
@click.option("--concurrency", type=int, default=None, help="Override the requests in flight at once.")
@click.option("--distributed", is_flag=True, help="Seed SITE into the shared Redis queue (NARCOWATCH_REDIS_URL) "
              "for `narcowatch worker` processes instead of crawling here; waits for them to finish.")
@click.option("--no-wait", is_flag=True, help="With --distributed: return as soon as the crawl is seeded.")
@click.option("--testbed", "use_testbed", is_flag=True,
              help="Point testbed_* profiles at the running `narcowatch testbed serve` ($NARCOWATCH_HOME/testbed.json).")
@click.option("--exclude", multiple=True, metavar="SITE",
              help="With --all: skip this site id (repeatable), e.g. --exclude testbed_hostile.")
def crawl(site: str | None, all_sites: bool, resume: bool, base_url: str | None, proxy: str | None,
          fetch: str | None, max_pages: int | None, delay: float | None, concurrency: int | None,
          distributed: bool = False, no_wait: bool = False, use_testbed: bool = False,
          exclude: tuple[str, ...] = ()) -> None:
    """Crawl SITE (a profile id in the sites folder, or a YAML file) into the database and evidence store.

    Progress (pages, items, errors, pages/s) goes to stderr. Exits with status 1 when the crawl failed
    (proxy down, nothing fetched) and 2 when it was interrupted."""
    if all_sites == bool(site):
        raise click.UsageError("give one SITE or --all")
    if all_sites:
        from crawler.profile import ProfileError, all_profiles

        try:
            profiles = all_profiles()
        except ProfileError as exc:
            raise click.ClickException(str(exc)) from exc
        if not profiles:
            raise click.ClickException(f"no profiles in {settings.get('NARCOWATCH_SITES_DIR')}")
        info = _testbed_info() if use_testbed else None
        worst = 0
        for profile in profiles:
            if profile.slug in exclude:
                continue
            cmd = [sys.executable, "-m", "narcowatch", "crawl", profile.path]
            if info is not None:
                from crawler.run import testbed_overrides

                cmd += testbed_overrides(profile.slug, info)
            for flag, value in (("--proxy", proxy), ("--fetch", fetch), ("--max-pages", max_pages),
                                ("--delay", delay), ("--concurrency", concurrency)):
                if value is not None:
                    cmd += [flag, str(value)]
            if resume:
                cmd.append("--resume")
            code = subprocess.call(cmd)  # one process per crawl: the Twisted reactor cannot restart
            worst = max(worst, code)
        raise SystemExit(worst)

    from crawler.run import run_crawl
    from narcowatch.context import database, evidence_store

    if use_testbed and base_url is None:
        from crawler.run import testbed_overrides

        extra = testbed_overrides(Path(site).stem, _testbed_info())
        given = dict(zip(extra[::2], extra[1::2], strict=True))
        base_url, proxy = given.get("--base-url"), proxy or given.get("--proxy")
    profile = _profile(site, base_url, proxy, fetch, max_pages, delay, concurrency)
    if distributed:  # scale-out (issue 11): the crawl runs in `narcowatch worker` processes
        from narcowatch.commands.worker import distributed_crawl

        distributed_crawl(profile, {"base_url": base_url, "proxy": proxy, "fetch": fetch, "max_pages": max_pages,
                                    "delay": delay, "concurrency": concurrency}, wait=not no_wait)
        return
    if profile.fetch == "browser" and not Path(settings.get("NARCOWATCH_CHROMIUM")).exists():
        raise click.ClickException(f"browser mode needs Chromium at {settings.get('NARCOWATCH_CHROMIUM')} "
                                   "(apt-get install chromium, or set NARCOWATCH_CHROMIUM)")
    engine = database()
    store = evidence_store()
    result = run_crawl(profile, engine, store, chromium=settings.get("NARCOWATCH_CHROMIUM"),
                       tor_proxy=settings.get("NARCOWATCH_TOR_PROXY"), resume=resume)
    click.echo(_summary(result))
    if result.status == "failed":
        click.echo(f"crawl of {profile.slug} FAILED: {result.reason}", err=True)
        raise SystemExit(1)
    if result.status == "interrupted":
        raise SystemExit(2)


def _testbed_info() -> dict:
    from crawler.run import read_testbed_info

    try:
        return read_testbed_info(settings.home())
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("sites")
def sites() -> None:
    """Site profiles: check that a profile's selectors extract what they should."""


@sites.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--base-url", default=None, help="Check against this base URL instead of the profile's.")
@click.option("--proxy", default=None, help="SOCKS5 proxy URL instead of the profile's.")
def sites_check(file: Path, base_url: str | None, proxy: str | None) -> None:
    """Validate FILE, fetch one page of each kind it describes and show what each selector extracted.

    Exits with status 1 when the profile is invalid, a page cannot be fetched or a page gives no record."""
    from crawler.check import check_profile

    profile = _profile(str(file), base_url, proxy, None, None, None, None)
    click.echo(f"{file}: valid profile for {profile.name} ({profile.kind}, {profile.fetch} mode, "
               f"proxy {profile.proxy})")
    pages = check_profile(profile, chromium=settings.get("NARCOWATCH_CHROMIUM"),
                          tor_proxy=settings.get("NARCOWATCH_TOR_PROXY"))
    bad = False
    for page in pages:
        click.echo(f"\n[{page.page_type}] {page.url} -> {page.status if page.status is not None else 'not fetched'}")
        if page.error:
            click.echo(f"  ERROR {page.error}")
            bad = True
        for name, values in page.fields:
            shown = " | ".join(v if len(v) <= 100 else v[:97] + "..." for v in values[:3]) if values else "(nothing)"
            more = f" (+{len(values) - 3} more)" if len(values) > 3 else ""
            click.echo(f"  {name:<28} {shown}{more}".replace("\n", "\\n"))
        for target, urls in page.links.items():
            click.echo(f"  links -> {target:<19} {len(urls)} found" + (f", first {urls[0]}" if urls else ""))
        if page.page_type != "index" and page.status is not None and not page.records and not page.error:
            click.echo("  WARNING no record extracted from this page: check the required selectors")
            bad = True
    missing = [t for t in ("listing", "vendor", "thread") if getattr(profile.pages, t) is not None
               and t not in {p.page_type for p in pages}]
    for t in missing:
        click.echo(f"\n[{t}] no link to a {t} page was found (check the `links` selectors that lead there)")
        bad = True
    raise SystemExit(1 if bad else 0)


commands = [crawl, sites]
