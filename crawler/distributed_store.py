"""The storage side of a distributed crawl: many workers write one CrawlRun.

`DistributedRunStore` is the crawler's `RunStore` attached to a run the seeder created, with:
- its own WARC file per worker (`run-<id>-<worker>.warc.gz`): two processes never append to one file;
- retried batches: PostgreSQL may abort one of two concurrent transactions (deadlock, serialisation) and a
  unique key can be raced; the batch is rolled back and written again (every write is an idempotent upsert);
- counters added to the run (`pages = pages + n`, in the batch's own transaction) instead of set, and lease
  acknowledgements after commit;
- on close: its leases not yet handled go back to the queue; if the crawl is complete (queue and leases
  empty) the one worker holding the final lock closes the run (vanished listings, status, result).
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from scrapy.crawler import Crawler
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from crawler import vendor_context
from crawler.distributed import CAP_REASONS, Coordinator, LeaseDone
from crawler.profile import Profile
from crawler.store import RunStore, StoragePipeline
from storage.evidence import EvidenceStore, WarcRecorder
from storage.evidence_run import RunEvidence
from storage.models import CrawlRun, Site, WarcFile, utcnow
from storage.upsert import finish_run, get_or_create_site, mark_vanished

logger = logging.getLogger(__name__)

T = TypeVar("T")
RETRIES = 10
# deadlock, serialisation failure, unique violation (PostgreSQL); "database is locked" (SQLite)
_RETRYABLE_CODES = {"40P01", "40001", "23505"}


def retryable(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    code = getattr(getattr(exc, "orig", None), "sqlstate", None) or getattr(getattr(exc, "orig", None), "pgcode", None)
    return code in _RETRYABLE_CODES or "database is locked" in str(exc)


@dataclass
class _Ack:
    lease: str


def with_retries(attempt: Callable[[], T], reset: Callable[[], None] | None = None) -> T:
    """Run one transaction, again (after `reset`) when the database aborted it for a race with another
    writer; any other error, or the last retry's, is raised."""
    for n in range(RETRIES):
        try:
            return attempt()
        except Exception as exc:
            if not retryable(exc) or n == RETRIES - 1:
                raise
            logger.info("transaction raced another writer (%s); retrying", type(exc).__name__)
            if reset is not None:
                reset()
            # jittered: two writers that collided must not retry in lockstep and collide again
            time.sleep(random.uniform(0.02, 0.05 * 2 ** min(n, 5)))
    raise AssertionError("unreachable")


class WorkerEvidence(RunEvidence):
    """RunEvidence writing this worker's own WARC file of the shared run."""

    def __init__(self, store: EvidenceStore, session: Session, run: CrawlRun, site: Site, worker_id: str):
        self.store = store
        self.run = run
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", site.slug) or "site"
        worker = re.sub(r"[^A-Za-z0-9_.-]", "_", worker_id)
        path = f"warc/{safe}/run-{run.id}-{worker}.warc.gz"
        self.recorder = WarcRecorder(store.root, path, run.id)
        warc = WarcFile(crawl_run_id=run.id, path=path)
        session.add(warc)
        session.flush()
        self.warc_id = warc.id


class DistributedRunStore(RunStore):
    def __init__(self, crawler: Crawler, engine: Engine, evidence: EvidenceStore, profile: Profile, run_id: int,
                 coordinator: Coordinator, worker_id: str):
        super().__init__(crawler, engine, evidence, profile, resume=False)
        self.run_id = run_id
        self.coordinator = coordinator
        self.worker_id = worker_id
        self.finalized: dict[str, Any] | None = None
        self._attempt_counts: dict[str, int] = dict(self.counts)

    def open(self) -> None:
        with Session(self.engine, expire_on_commit=False) as s:
            run = s.get(CrawlRun, self.run_id)
            if run is None:
                raise RuntimeError(f"crawl run {self.run_id} of {self.profile.slug} is not in the database "
                                   "(is every worker on the same NARCOWATCH_DATABASE_URL?)")
            site = s.get(Site, run.site_id)
            self.evidence = WorkerEvidence(self.evidence_store, s, run, site, self.worker_id)
            s.commit()
            self.run, self.site = run, site
        from twisted.internet import task

        self._timer = task.LoopingCall(self._tick)
        self._timer.start(min(self.batch_seconds, 1.0), now=False)

    def add_ack(self, lease: str) -> None:
        self.pending.append(_Ack(lease))

    # ------------------------------------------------------------------ writing
    def _write_batch(self, batch: list[Any], analysed: Callable[[], Any] | None = None) -> None:
        acks = [e.lease for e in batch if isinstance(e, _Ack)]
        rest = [e for e in batch if not isinstance(e, _Ack)]
        before = dict(self.counts)
        kinds = dict(self.error_kinds)
        saved = (dict(self.counts), dict(self.error_kinds), dict(self.page_ids), dict(self.vendor_ids),
                 dict(self.thread_ids), list(self.alerts))

        def reset() -> None:  # ids and counters of a rolled-back attempt are void
            (self.counts, self.error_kinds, self.page_ids, self.vendor_ids, self.thread_ids,
             self.alerts) = (dict(saved[0]), dict(saved[1]), dict(saved[2]), dict(saved[3]), dict(saved[4]),
                             list(saved[5]))

        apply = [analysed]

        def attempt() -> None:
            # the analysis results are applied to the records by the first attempt; a retry reuses them
            current, apply[0] = apply[0], (lambda: 0)
            self._attempt_counts = dict(self.counts)  # this attempt's counter deltas, for _before_commit
            super(DistributedRunStore, self)._write_batch(rest, current)

        with_retries(attempt, reset)
        delta = {k: self.counts[k] - before.get(k, 0) for k in self.counts}
        if any(delta.values()):
            self.coordinator.add_stats({**{k: delta[k] for k in ("listings", "vendors", "threads", "posts",
                                                                  "index_errors")},
                                        **{f"kind:{k}": v - kinds.get(k, 0) for k, v in self.error_kinds.items()}})
        self.coordinator.ack(acks)  # only now: the pages these leases stood for are committed

    def _before_commit(self, s: Session) -> None:
        # the run's counters grow in the batch's own transaction: a worker killed right after a commit
        # cannot leave pages stored but not counted. The run row is locked last, after the vendor and
        # listing rows, in every worker: the same order everywhere, held only until the commit.
        base = self._attempt_counts
        delta = {k: self.counts[k] - base.get(k, 0) for k in ("pages", "items", "errors", "listings_new",
                                                              "listings_changed")}
        if any(delta.values()):
            s.execute(update(CrawlRun).where(CrawlRun.id == self.run_id).values(
                pages=CrawlRun.pages + delta["pages"], items=CrawlRun.items + delta["items"],
                errors=CrawlRun.errors + delta["errors"],
                listings_new=CrawlRun.listings_new + delta["listings_new"],
                listings_changed=CrawlRun.listings_changed + delta["listings_changed"]))

    # ------------------------------------------------------------------ closing
    def close(self, reason: str) -> CrawlRun:
        assert self.run is not None and self.evidence is not None
        with Session(self.engine, expire_on_commit=False) as s:
            self.evidence.close(s)
            s.commit()
        if self.write_failure:
            self.coordinator.mark_failed(f"storage error: {self.write_failure}")
        elif self.proxy_down:
            self.coordinator.mark_failed(self.proxy_down)
        if reason in CAP_REASONS:  # this worker reached an item or time cap: the crawl stops there
            self.coordinator.mark_capped(reason)
        # requests this worker took but did not finish (stopped, capped) go back for the others
        for lease in self.coordinator.leases_of(self.worker_id):
            self.coordinator.requeue(lease)
        failed = self.coordinator.failed()
        capped = None if failed else self.coordinator.capped()
        # ended (failed; nothing queued nor in flight; or capped, once no worker holds a request) and this
        # worker the first to see it; the lock is only given while this run is still the registered crawl,
        # so a worker closing after the run was finalised (its state gone, maybe a new crawl of the site
        # seeded) cannot close it a second time
        ended = failed or self.coordinator.complete() or (capped and self.coordinator.settled())
        if ended and self.coordinator.take_final_lock(self.worker_id, self.run_id):
            self.finalized = finalize(self.engine, self.coordinator, self.profile, self.run_id, failed, capped)
        with Session(self.engine, expire_on_commit=False) as s:
            self.run = s.get(CrawlRun, self.run_id)
        return self.run


def finalize(engine: Engine, coordinator: Coordinator, profile: Profile, run_id: int,
             failed: str | None, capped: str | None = None) -> dict[str, Any]:
    """Close the shared run once: vanished listings (complete market crawls), status, stats, result.
    `capped`: the Scrapy close reason of the cap that stopped the crawl (a partial crawl)."""
    stats = coordinator.stats()
    now = utcnow()
    context = vendor_context.apply_after_run(engine, run_id)
    with Session(engine, expire_on_commit=False) as s:
        run = s.get(CrawlRun, run_id, with_for_update=True)
        if run is None or run.status != "running":
            # closed already (by hand, or a new seed marked it interrupted): never rewrite a closed run
            status, pages = (run.status, run.pages) if run is not None else ("missing", 0)
            s.rollback()
            result = {"run_id": run_id, "status": status, "pages": pages,
                      "reason": "the run was closed outside the crawl before it completed"}
            coordinator.finish(result)
            return result
        complete = not failed and not capped and not stats.get("index_errors") and run.pages > 0
        status, why = "finished", None
        if failed:
            status, why = "failed", failed
        elif run.pages == 0:
            status, why = "failed", "no page could be fetched"
        elif not complete:
            why = (f"partial crawl ({capped or 'finished'}, {stats.get('index_errors', 0)} index page(s) failed): "
                   "listings not seen were NOT marked vanished")
        gone = mark_vanished(s, run.site_id, run.id, now) if complete and profile.kind == "market" else 0
        run.listings_gone = gone
        workers = len(s.scalars(select(WarcFile.id).where(WarcFile.crawl_run_id == run.id)).all())
        run.stats = {"close_reason": "failed" if failed else capped or "finished", "complete": complete,
                     "distributed": True, "workers": workers, "vendor_context": context,
                     "error_kinds": {k[5:]: v for k, v in stats.items() if k.startswith("kind:") and v},
                     **{k: stats.get(k, 0) for k in ("listings", "vendors", "threads", "posts")}}
        s.flush()
        finish_run(s, run, status, now, why)
        s.commit()
        result = {"run_id": run.id, "status": status, "reason": why, "pages": run.pages, "items": run.items,
                  "errors": run.errors, "listings_new": run.listings_new, "listings_changed": run.listings_changed,
                  "listings_gone": gone, "workers": workers, **{k: run.stats[k] for k in (
                      "listings", "vendors", "threads", "posts")}}
    coordinator.finish(result)
    return result


def create_run(engine: Engine, profile: Profile) -> int:
    """The CrawlRun every worker writes into; earlier runs of the site left running become interrupted."""
    now = utcnow()
    with Session(engine, expire_on_commit=False) as s:
        site = get_or_create_site(s, profile.slug, profile.name, profile.kind, profile.base_url, profile.is_onion)
        for stale in s.scalars(select(CrawlRun).where(CrawlRun.site_id == site.id, CrawlRun.status == "running")):
            stale.status = "interrupted"
            stale.reason = stale.reason or "superseded by a new distributed crawl"
            stale.finished_at = stale.finished_at or now
        run = CrawlRun(site_id=site.id, started_at=now, status="running", stats={"distributed": True})
        s.add(run)
        s.commit()
        return run.id


class WorkerPipeline(StoragePipeline):
    """The storage pipeline, also taking the `LeaseDone` sentinels into the batch queue."""

    def process_item(self, item: Any) -> Any:
        if isinstance(item, LeaseDone):
            self.store.add_ack(item.lease)
            # a sentinel is no record: keep it out of the item count Scrapy adds when this returns
            self.store.crawler.stats.inc_value("item_scraped_count", -1)
            return None
        return super().process_item(item)

