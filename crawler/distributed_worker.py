"""`narcowatch worker` and `narcowatch crawl SITE --distributed`: the process loop and the seeding step.

A worker is one Scrapy process (the reactor cannot restart) that runs one crawler per distributed crawl
registered in Redis, all in the same reactor. Every `poll` seconds it refreshes its heartbeat, requeues the
leases of dead workers, starts a crawler for each newly registered crawl and nudges idle crawlers to look at
the shared queue again. With `burst` it exits once no crawl is left to work on.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crawler.distributed import (
    Coordinator,
    DistributedError,
    WorkerSpider,
    active_slugs,
    connect,
    encode_start_requests,
    new_worker_id,
    worker_key,
    worker_settings,
)
from crawler.distributed_store import DistributedRunStore, create_run, finalize
from crawler.profile import Profile
from crawler.settings import crawl_settings
from storage.evidence import EvidenceStore
from storage.models import CrawlRun

logger = logging.getLogger(__name__)

REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


@dataclass
class WorkerReport:
    worker_id: str
    crawls: list[dict[str, Any]] = field(default_factory=list)


def run_worker(redis_url: str, prefix: str, engine: Engine, evidence: EvidenceStore, *, chromium: str,
               tor_proxy: str, sites: tuple[str, ...] = (), burst: bool = False, lease_timeout: float = 15.0,
               poll: float = 1.0, worker_id: str | None = None) -> WorkerReport:
    from scrapy.settings import Settings
    from scrapy.utils.reactor import install_reactor

    install_reactor(REACTOR)
    from scrapy.crawler import Crawler, CrawlerProcess
    from twisted.internet import reactor, task

    client = connect(redis_url)
    worker_id = worker_id or new_worker_id()
    report = WorkerReport(worker_id)
    heartbeat = worker_key(prefix, worker_id)
    ttl = max(1, math.ceil(lease_timeout))
    sys.setswitchinterval(0.0005)  # as in crawler.run: the writer thread must not starve the reactor
    process = CrawlerProcess(Settings({"TWISTED_REACTOR": REACTOR, "LOG_INSTALL_ROOT_HANDLER": False,
                                       "TELNETCONSOLE_ENABLED": False}))
    running: dict[str, Any] = {}
    handled: set[tuple[str, int]] = set()
    for name in ("scrapy", "scrapy_redis", "py.warnings", "twisted", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)

    def start(slug: str, run_id: int, profile: Profile, coordinator: Coordinator) -> None:
        values = crawl_settings(profile, chromium=chromium, tor_proxy=tor_proxy)
        values = worker_settings(values, coordinator.keys, profile.politeness.delay)
        values.update({"REDIS_URL": redis_url, "LOG_INSTALL_ROOT_HANDLER": False})
        crawler = Crawler(WorkerSpider, Settings(values))
        crawler.nw_coordinator = coordinator
        crawler.nw_worker_id = worker_id
        crawler.nw_options = {"engine": engine, "evidence": evidence}
        store = DistributedRunStore(crawler, engine, evidence, profile, run_id, coordinator, worker_id)
        crawler.nw_store = store
        crawler.signals.connect(store.on_spider_closed, signal=signals.spider_closed)

        def idle() -> None:
            # nothing more is coming to this worker for now: commit what it holds (and so acknowledge its
            # leases) at once rather than at the batch timer, so that every worker sees the crawl complete
            # sooner
            if store.pending:
                store.flush()
            # the queue looks empty from here, but other workers may still add to it or die with leases
            if coordinator.failed() or coordinator.capped() or coordinator.complete():
                return
            raise DontCloseSpider

        crawler.signals.connect(idle, signal=signals.spider_idle, weak=False)
        running[slug] = crawler
        handled.add((slug, run_id))
        logger.info("worker %s: joining the crawl of %s (run %d)", worker_id, slug, run_id)

        def done(_result: Any) -> None:
            running.pop(slug, None)
            report.crawls.append({"site": slug, "run_id": run_id, "pages": store.counts["pages"],
                                  "items": store.counts["items"], "errors": store.counts["errors"],
                                  "finalized": store.finalized})

        process.crawl(crawler, profile=profile).addBoth(done)

    def eligible() -> list[str]:
        return [s for s in active_slugs(client, prefix) if not sites or s in sites]

    alive = threading.Event()

    def beat() -> None:
        # its own thread: a reactor busy with parsing (or a batch holding the GIL) must not make this worker
        # look dead, or the others requeue its requests and pages get fetched twice
        while not alive.wait(max(0.2, ttl / 4)):
            with contextlib.suppress(Exception):
                client.set(heartbeat, "1", ex=ttl)

    client.set(heartbeat, "1", ex=ttl)
    threading.Thread(target=beat, name="nw-heartbeat", daemon=True).start()

    def tick() -> None:
        try:
            pending = False
            for slug in eligible():
                coordinator = Coordinator(client, prefix, slug)
                coordinator.reap()
                if slug in running:
                    crawler = running[slug]
                    stop = "failed_elsewhere" if coordinator.failed() else "capped_elsewhere" if coordinator.capped() \
                        else None
                    if stop and crawler.engine is not None and crawler.engine.running:
                        from scrapy.utils.defer import deferred_from_coro

                        deferred_from_coro(crawler.engine.close_spider_async(reason=stop))
                    else:
                        _nudge(crawler)
                    continue
                try:
                    run_id, profile = coordinator.profile()
                except DistributedError:
                    continue  # finished between the two reads
                if (slug, run_id) in handled:
                    continue
                capped = coordinator.capped()
                if capped:
                    # capped by the fleet: nothing more to fetch. Close it here if its workers left without
                    # closing it (killed after the cap, their requests reaped back)
                    if coordinator.settled() and coordinator.take_final_lock(worker_id, run_id):
                        finalize(engine, coordinator, profile, run_id, coordinator.failed(), capped)
                    continue
                pending = True
                start(slug, run_id, profile, coordinator)
            if burst and not running and not pending:
                loop.stop()
                reactor.callLater(0, process._stop_reactor)
        except Exception:  # a Redis hiccup must not end the loop: the next tick tries again
            logger.exception("worker %s: coordination step failed", worker_id)

    loop = task.LoopingCall(tick)
    reactor.callWhenRunning(loop.start, poll, True)
    try:
        process.start(stop_after_crawl=False)
    finally:
        alive.set()
        with contextlib.suppress(Exception):  # the key expires anyway
            client.delete(heartbeat)
    return report


def _nudge(crawler: Any) -> None:
    """Make an idle engine ask the (shared) scheduler for work now instead of at its 5 s heartbeat."""
    slot = getattr(getattr(crawler, "engine", None), "_slot", None)
    nextcall = getattr(slot, "nextcall", None)
    if nextcall is not None:
        nextcall.schedule()


# ---------------------------------------------------------------------- seeding


def seed(redis_url: str, prefix: str, engine: Engine, profile: Profile, overrides: dict[str, Any]
         ) -> tuple[Coordinator, int]:
    """Create the run, register the crawl and queue its start pages; returns (coordinator, run id)."""
    coordinator = Coordinator(connect(redis_url), prefix, profile.slug)
    if coordinator.active():
        st = coordinator.state()
        raise DistributedError(f"a distributed crawl of {profile.slug} is already waiting or running "
                               f"(run {st.get('run_id', '?')}); wait until it finishes")
    run_id = create_run(engine, profile)
    coordinator.register(run_id, profile, overrides)
    encode_start_requests(coordinator, profile)
    return coordinator, run_id


def wait(coordinator: Coordinator, engine: Engine, run_id: int, *, progress: Callable[[str], None],
         interval: float = 2.0, timeout: float | None = None) -> dict[str, Any]:
    """Block until a worker closed the run; progress lines go to `progress`."""
    started = time.monotonic()
    last = ""
    while True:
        result = coordinator.result()
        if result is not None and result.get("run_id") == run_id:
            return result
        queued, leased = coordinator.pending()
        with Session(engine) as s:
            run = s.get(CrawlRun, run_id)
            pages = run.pages if run else 0
            status = run.status if run else "?"
        if status != "running" and result is None and not coordinator.active():
            return {"run_id": run_id, "status": status, "reason": "closed outside this crawl", "pages": pages}
        line = f"{coordinator.keys.slug}: run {run_id}: {pages} pages stored, {queued} queued, {leased} in flight"
        if line != last:
            progress(line)
            last = line
        if timeout is not None and time.monotonic() - started > timeout:
            raise DistributedError(f"run {run_id} did not finish within {timeout:.0f} s")
        time.sleep(interval)
