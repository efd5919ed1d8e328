"""`narcowatch worker`: consume distributed crawls from Redis; also the body of `crawl SITE --distributed`."""

from __future__ import annotations

import json
from typing import Any

import click

from narcowatch import settings


def redis_url() -> str:
    url = settings.get("NARCOWATCH_REDIS_URL")
    if not url:
        raise click.ClickException("distributed crawling needs Redis: set NARCOWATCH_REDIS_URL "
                                   "(e.g. redis://127.0.0.1:6379/0) on every machine")
    return url


def redis_prefix() -> str:
    return settings.get("NARCOWATCH_REDIS_PREFIX") or "narcowatch"


@click.command("worker")
@click.option("--site", "sites", multiple=True,
              help="Only work on crawls of this site id (repeatable); default: every distributed crawl.")
@click.option("--burst", is_flag=True,
              help="Exit when no distributed crawl is left to work on (default: keep waiting for new ones).")
@click.option("--lease-timeout", type=float, default=15.0, show_default=True,
              help="Seconds without a heartbeat after which this worker counts as dead and the other workers "
                   "requeue the requests it had in flight.")
@click.option("--poll", type=float, default=1.0, show_default=True,
              help="Seconds between looks at Redis for new crawls, dead workers and queued work.")
@click.option("--worker-id", default=None,
              help="Name of this worker in Redis and in WARC file names (default: host-pid-random).")
def worker(sites: tuple[str, ...], burst: bool, lease_timeout: float, poll: float, worker_id: str | None) -> None:
    """Work on distributed crawls seeded by `narcowatch crawl SITE --distributed` (needs NARCOWATCH_REDIS_URL).

    Start one per crawler machine, or several on one machine. All workers share the queue, the duplicate
    filter and each site's request rate through Redis, write to the shared database and evidence path, and
    take over the requests of a worker that died. Prints one JSON line per crawl it took part in."""
    from crawler.distributed import DistributedError
    from crawler.distributed_worker import run_worker
    from narcowatch.context import database, evidence_store

    if lease_timeout <= 0 or poll <= 0:
        raise click.BadParameter("--lease-timeout and --poll must be positive")
    url = redis_url()
    engine = database()
    try:
        report = run_worker(url, redis_prefix(), engine, evidence_store(),
                            chromium=settings.get("NARCOWATCH_CHROMIUM"),
                            tor_proxy=settings.get("NARCOWATCH_TOR_PROXY"), sites=sites, burst=burst,
                            lease_timeout=lease_timeout, poll=poll, worker_id=worker_id)
    except DistributedError as exc:
        raise click.ClickException(str(exc)) from exc
    for crawl in report.crawls:
        click.echo(json.dumps({"worker": report.worker_id, **crawl}))


def distributed_crawl(profile: Any, overrides: dict[str, Any], wait: bool) -> None:
    """`narcowatch crawl SITE --distributed`: seed the shared queue, then (unless told not to) wait for the
    workers to finish and print the run's summary."""
    from crawler.distributed import DistributedError
    from crawler.distributed_worker import seed
    from crawler.distributed_worker import wait as wait_for
    from narcowatch.context import database

    url = redis_url()
    engine = database()
    try:
        coordinator, run_id = seed(url, redis_prefix(), engine, profile, overrides)
    except DistributedError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{profile.slug}: run {run_id} seeded in Redis ({coordinator.keys.queue}); "
               "`narcowatch worker` processes crawl it", err=True)
    if not wait:
        click.echo(json.dumps({"site": profile.slug, "run_id": run_id, "status": "seeded"}))
        return
    try:
        result = wait_for(coordinator, engine, run_id, progress=lambda line: click.echo(line, err=True))
    except DistributedError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{profile.slug}: run {run_id} {result['status']}: {result.get('pages', 0)} pages, "
               f"{result.get('listings', 0)} listings ({result.get('listings_new', 0)} new, "
               f"{result.get('listings_changed', 0)} changed, {result.get('listings_gone', 0)} gone), "
               f"{result.get('vendors', 0)} vendor pages, {result.get('threads', 0)} thread pages, "
               f"{result.get('posts', 0)} posts, {result.get('errors', 0)} errors, "
               f"{result.get('workers', 0)} workers")
    if result.get("reason"):
        click.echo(f"  {result['reason']}")
    if result["status"] == "failed":
        raise SystemExit(1)


commands = [worker]
