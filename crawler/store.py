"""The crawl's storage side: one CrawlRun, every response into the evidence store, records into the
database in batches.

`RunStore` is shared by three Scrapy components: `EvidenceCapture` (downloader middleware closest to the
wire: every response, redirects and errors included, becomes a Page row + WARC record), `StoragePipeline`
(items) and the spider (errors, resume). Writes queue up in arrival order and are committed as whole
batches (every NARCOWATCH_BATCH_ITEMS items or NARCOWATCH_BATCH_SECONDS): a crash loses at most the
batch in flight, never half of one. The WARC is fsynced before each commit, so a committed Page always
points at bytes that are on disk.

Resume: a run killed (even with SIGKILL) is continued under the same CrawlRun id. Pages whose records
were committed are not fetched again (listing pages by their listing rows, vendor pages by their
accounts); index and thread pages are fetched again to rediscover links. Every write is an idempotent
upsert keyed on natural keys, so the final rows equal those of an uninterrupted crawl.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from twisted.internet import defer, task, threads

from crawler import analysis, vendor_context
from crawler.profile import Profile
from storage.evidence import EvidenceStore
from storage.evidence_run import RunEvidence
from storage.models import (
    Alert,
    CrawlError,
    CrawlRun,
    Listing,
    Page,
    Site,
    Thread,
    VendorAccount,
    VendorIdentifier,
    utcnow,
)
from storage.records import ListingRecord, PostRecord, ThreadRecord, VendorRecord
from storage.upsert import (
    ListingInput,
    finish_run,
    get_or_create_site,
    lock_vendors,
    mark_vanished,
    upsert_listings,
    upsert_post,
    upsert_thread,
    upsert_vendor,
)

logger = logging.getLogger(__name__)


@dataclass
class _Capture:
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: Any
    content_type: str | None
    screenshot: bytes | None
    fetch_mode: str


@dataclass
class _Error:
    url: str
    kind: str
    reason: str
    page_type: str
    at: Any


@dataclass
class _Item:
    record: Any
    page_url: str


class RunStore:
    def __init__(self, crawler: Crawler, engine: Engine, evidence: EvidenceStore, profile: Profile,
                 resume: bool):
        self.crawler = crawler
        self.engine = engine
        self.evidence_store = evidence
        self.profile = profile
        self.resume = resume
        self.batch_items = crawler.settings.getint("NARCOWATCH_BATCH_ITEMS")
        self.batch_seconds = crawler.settings.getfloat("NARCOWATCH_BATCH_SECONDS")
        self.pending: list[Any] = []
        self.pending_items = 0
        self.page_ids: dict[str, int] = {}
        self.vendor_ids: dict[str, int] = {}
        self.thread_ids: dict[str, int] = {}
        self.author_ids: dict[str, int] = {}  # forum post authors -> their account on this forum
        self.done_urls: set[str] = set()
        self.extra_vendor_urls: list[str] = []
        self.counts = {"pages": 0, "items": 0, "errors": 0, "listings_new": 0, "listings_changed": 0,
                       "listings": 0, "vendors": 0, "threads": 0, "posts": 0, "index_errors": 0}
        self.error_kinds: dict[str, int] = {}
        self.proxy_down: str | None = None
        self.alerts: list[str] = []
        self.run: CrawlRun | None = None
        self.result: CrawlRun | None = None
        self.site: Site | None = None
        self.evidence: RunEvidence | None = None
        self._timer: task.LoopingCall | None = None
        self._inflight: defer.Deferred | None = None
        self._queued = 0
        self.write_failure: str | None = None
        self.site_known = False
        self._last_flush = time.monotonic()

    # ------------------------------------------------------------------ run lifecycle
    def open(self) -> None:
        p = self.profile
        now = utcnow()
        with Session(self.engine, expire_on_commit=False) as s:
            site = get_or_create_site(s, p.slug, p.name, p.kind, p.base_url, p.is_onion)
            previous = s.scalars(select(CrawlRun).where(CrawlRun.site_id == site.id,
                                                        CrawlRun.status.in_(("running", "interrupted")))
                                 .order_by(CrawlRun.id.desc())).all()
            run = None
            if self.resume and previous:
                run = previous[0]
                run.status, run.reason, run.finished_at = "running", None, None
                run.resumed_count += 1
                previous = previous[1:]
            for stale in previous:  # killed runs that nobody resumed
                stale.status = "interrupted"
                stale.reason = stale.reason or "the crawl process ended without closing the run"
                stale.finished_at = stale.finished_at or now
            if run is None:
                run = CrawlRun(site_id=site.id, started_at=now, status="running")
                s.add(run)
            s.flush()
            if run.resumed_count:
                self._load_resume_state(s, run)
            # on a site's first complete crawl every account is new: only later crawls report arrivals
            self.site_known = s.scalar(select(CrawlRun.id).where(
                CrawlRun.site_id == site.id, CrawlRun.id != run.id, CrawlRun.status == "finished").limit(1)) \
                is not None
            self.evidence = RunEvidence(self.evidence_store, s, run, site)
            s.commit()
            self.run, self.site = run, site
        analysis.use_worker(self.crawler.settings.getbool("NARCOWATCH_ANALYSIS_WORKER"))
        self._timer = task.LoopingCall(self._tick)
        self._timer.start(min(self.batch_seconds, 1.0), now=False)

    def _load_resume_state(self, s: Session, run: CrawlRun) -> None:
        self.done_urls.update(s.scalars(select(Listing.url).where(Listing.last_crawl_run_id == run.id)))
        fetched = select(Page.url).where(Page.crawl_run_id == run.id)
        self.done_urls.update(s.scalars(select(VendorAccount.url).where(
            VendorAccount.site_id == run.site_id, VendorAccount.url.in_(fetched),
            VendorAccount.page_id.in_(select(Page.id).where(Page.crawl_run_id == run.id)))))
        # vendors named by listings committed in this run whose own page was not read yet
        named = select(Listing.vendor_account_id).where(Listing.last_crawl_run_id == run.id)
        self.extra_vendor_urls = sorted(u for u in s.scalars(select(VendorAccount.url).where(
            VendorAccount.id.in_(named), VendorAccount.url.is_not(None))) if u not in self.done_urls)
        for counter, value in (("pages", run.pages), ("items", run.items), ("errors", run.errors),
                               ("listings_new", run.listings_new), ("listings_changed", run.listings_changed)):
            self.counts[counter] = value or 0

    def already_done(self, url: str) -> bool:
        return url in self.done_urls

    def resume_extra_vendor_urls(self) -> list[str]:
        return list(self.extra_vendor_urls)

    async def on_spider_closed(self, reason: str) -> CrawlRun:
        """Waits for the batch in flight, then closes the run in the writer thread (Scrapy waits for this
        coroutine before the process ends)."""
        from scrapy.utils.defer import maybe_deferred_to_future

        return await maybe_deferred_to_future(self._closing(reason))

    def _closing(self, reason: str) -> defer.Deferred:
        if self._timer and self._timer.running:
            self._timer.stop()
        d = self._inflight if self._inflight is not None else defer.succeed(None)

        def final(_):
            self._drain_browser_refusals()
            batch, self.pending, self.pending_items = self.pending, [], 0
            return threads.deferToThread(self._close_in_thread, batch, reason)

        def keep(run):
            self.result = run
            return run

        return d.addBoth(final).addCallback(keep)

    def _close_in_thread(self, batch: list[Any], reason: str) -> CrawlRun:
        try:
            self._write_batch(batch)
        finally:
            analysis.shutdown_worker()
        return self.close(reason)

    def close(self, reason: str) -> CrawlRun:
        """Ends the run: vanished listings (complete crawls only), counters, status, sealed WARC."""
        assert self.run is not None and self.evidence is not None
        now = utcnow()
        status, why = "finished", None
        complete = reason == "finished" and not self.counts["index_errors"] and not self.proxy_down
        if self.write_failure:
            status, why = "failed", f"storage error: {self.write_failure}"
        elif self.proxy_down:
            status, why = "failed", self.proxy_down
        elif self.counts["pages"] == 0:
            status, why = "failed", "no page could be fetched"
        elif reason in ("shutdown", "cancelled"):
            status, why = "interrupted", f"stopped ({reason}); continue with --resume"
        elif not complete:
            why = (f"partial crawl ({reason}, {self.counts['index_errors']} index page(s) failed): "
                   "listings not seen were NOT marked vanished")
        gone = 0
        context = {} if self.write_failure else vendor_context.apply_after_run(self.engine, self.run.id)
        with Session(self.engine, expire_on_commit=False) as s:
            if status == "finished" and complete and self.profile.kind == "market":
                gone = mark_vanished(s, self.run.site_id, self.run.id, now)
            run = s.get(CrawlRun, self.run.id)
            stats = self.crawler.stats.get_stats()
            run.pages, run.items, run.errors = self.counts["pages"], self.counts["items"], self.counts["errors"]
            run.listings_new, run.listings_changed = self.counts["listings_new"], self.counts["listings_changed"]
            run.listings_gone = gone
            run.stats = {"close_reason": reason, "complete": complete, "error_kinds": self.error_kinds,
                         "listings": self.counts["listings"], "vendors": self.counts["vendors"],
                         "threads": self.counts["threads"], "posts": self.counts["posts"],
                         "alerts": self.alerts, "vendor_context": context,
                         **{k.split("/", 1)[-1]: v for k, v in stats.items()
                            if isinstance(v, int | float) and k.startswith(("downloader/response_count",
                                                                            "narcowatch/", "retry/count",
                                                                            "request_depth_max"))}}
            self.evidence.close(s)
            s.flush()
            finish_run(s, run, status, now, why)
            s.commit()
            s.refresh(run)
            self.run = run
        self.counts["listings_gone"] = gone
        return self.run

    # ------------------------------------------------------------------ queueing
    def capture(self, request: Request, response: Response) -> None:
        screenshot = None
        for method in request.meta.get("playwright_page_methods") or ():
            if getattr(method, "method", None) == "screenshot" and isinstance(getattr(method, "result", None), bytes):
                screenshot = method.result
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in response.headers.items() for v in vs]
        ctype = response.headers.get(b"Content-Type")
        self.pending.append(_Capture(response.url, response.status, headers, response.body, utcnow(),
                                     ctype.decode("latin-1") if ctype else None, screenshot,
                                     "browser" if request.meta.get("playwright") else "http"))

    def error(self, url: str, kind: str, reason: str, page_type: str = "index") -> None:
        self.pending.append(_Error(url, kind, reason[:2000], page_type, utcnow()))

    def stop_crawl(self, reason: str) -> None:
        from scrapy.utils.defer import deferred_from_coro

        if self.crawler.engine is not None and not getattr(self, "_stopping", False):
            self._stopping = True
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    def error_count(self) -> int:
        return self.counts["errors"] + sum(isinstance(e, _Error) for e in self.pending)

    def add_item(self, record: Any, page_url: str) -> None:
        self.pending.append(_Item(record, page_url))
        self.pending_items += 1
        if self.pending_items >= self.batch_items:
            self.flush()

    def _tick(self) -> None:
        if self.pending and time.monotonic() - self._last_flush >= self.batch_seconds:
            self.flush()

    def _drain_browser_refusals(self) -> None:
        from crawler.egress import BrowserGuard

        guard = self.crawler.settings.get("PLAYWRIGHT_ABORT_REQUEST")
        while isinstance(guard, BrowserGuard) and guard.refused:
            url, reason = guard.refused.pop(0)
            self.error(url, "egress", f"browser sub-request refused: {reason}", "resource")

    # ------------------------------------------------------------------ writing
    def flush(self) -> None:
        """Hand everything queued to the writer so that analysis, fsyncs and SQL do not stall the crawl.
        The batch's records go to the analysis worker at once; the writer thread stores batches in order,
        one transaction each, so batch N is written while N+1 is analysed. At most two batches wait (memory
        stays bounded): beyond that this is a no-op until one is done."""
        self._drain_browser_refusals()
        if not self.pending or self.run is None or self._queued >= 2:
            return
        batch, self.pending, self.pending_items = self.pending, [], 0
        self._last_flush = time.monotonic()
        apply = analysis.submit([e.record for e in batch if isinstance(e, _Item)])
        self._queued += 1

        def write(_):
            if self.write_failure:  # an earlier batch failed; the crawl is stopping
                return None
            return threads.deferToThread(self._write_batch, batch, apply)

        def failed(failure):
            # a batch that cannot be written stops the crawl: continuing would lose data silently
            logger.error("writing a batch failed: %s", failure.getTraceback())
            self.write_failure = failure.getErrorMessage()
            self.stop_crawl("storage_error")
            return None

        def done(result):
            self._queued -= 1
            if self._queued == 0:
                self._inflight = None
            return result

        tail = self._inflight if self._inflight is not None else defer.succeed(None)
        self._inflight = tail.addCallback(write).addErrback(failed).addBoth(done)

    def _write_batch(self, batch: list[Any], analysed: Callable[[], int] | None = None) -> None:
        """Write one batch in one transaction: pages, errors, then records (analysed first)."""
        if not batch:
            return
        # bodies first, all at once (their fsyncs in parallel) while the analysis worker finishes the batch
        self.evidence.store.put_bodies([b for e in batch if isinstance(e, _Capture) for b in (e.body, e.screenshot)
                                        if b])
        if analysed is not None:
            analysed()
        else:
            analysis.annotate([e.record for e in batch if isinstance(e, _Item)])
        seen_at = utcnow()
        with Session(self.engine, expire_on_commit=False) as s:
            lock_vendors(s, self.run.site_id, _handles_named(batch), seen_at)
            # pages first (no record depends on another page's row), then errors and records in arrival order
            captures = [e for e in batch if isinstance(e, _Capture)]
            for entry, page_id in zip(captures, self.evidence.capture_batch(s, captures), strict=True):
                self.page_ids[entry.url] = page_id
            self.counts["pages"] += len(captures)
            listings: list[ListingInput] = []  # upserted together once the batch's vendors are written
            for entry in batch:
                if isinstance(entry, _Capture):
                    continue
                if isinstance(entry, _Error):
                    s.add(CrawlError(crawl_run_id=self.run.id, url=entry.url[:4000], at=entry.at, kind=entry.kind,
                                     reason=entry.reason))
                    self.counts["errors"] += 1
                    self.error_kinds[entry.kind] = self.error_kinds.get(entry.kind, 0) + 1
                    if entry.page_type == "index" and entry.kind not in ("offsite", "egress"):
                        self.counts["index_errors"] += 1
                else:
                    self._write(s, entry.record, self.page_ids.get(entry.page_url), seen_at, listings)
                    self.counts["items"] += 1
            for write in upsert_listings(s, self.run.site_id, listings, seen_at, self.run.id):
                self.counts["listings"] += 1
                self.counts["listings_new"] += int(write.created)
                self.counts["listings_changed"] += int(write.changed)
            s.flush()
            self.evidence.sync()  # WARC bytes on disk before the rows that point at them
            self._before_commit(s)
            s.commit()

    def _before_commit(self, s: Session) -> None:
        """Writes that must commit together with the batch (a distributed run's shared counters)."""

    def _write(self, s: Session, record: Any, page_id: int | None, seen_at: Any,
               listings: list[ListingInput]) -> None:
        """Store one record; a listing (after its vendor) goes to `listings`, which the caller writes in one
        upsert_listings."""
        site_id = self.run.site_id
        if isinstance(record, VendorRecord):
            bare = record.profile is None and not record.identifiers
            if bare and record.handle in self.vendor_ids:
                return  # named by a listing again: nothing new to say
            if bare:
                existing = s.scalars(select(VendorAccount).where(VendorAccount.site_id == site_id,
                                                                 VendorAccount.handle == record.handle)).one_or_none()
                if existing is not None:
                    if record.url and not existing.url:
                        existing.url = record.url
                    if page_id is not None and existing.page_id is None:
                        existing.page_id = page_id
                    self.vendor_ids[record.handle] = existing.id
                    return
            account, created = upsert_vendor(s, site_id, record, seen_at, page_id)
            self.vendor_ids[record.handle] = account.id
            if not bare:
                self.counts["vendors"] += 1
                self._notice_migration(s, account, record)
        elif isinstance(record, ListingRecord):
            vendor_id = None
            if record.vendor_handle:
                vendor_id = self.vendor_ids.get(record.vendor_handle)
                if vendor_id is None:
                    account, _ = upsert_vendor(s, site_id, VendorRecord(handle=record.vendor_handle), seen_at,
                                               page_id)
                    vendor_id = self.vendor_ids[record.vendor_handle] = account.id
            listings.append(ListingInput(record, page_id, vendor_id))
        elif isinstance(record, ThreadRecord):
            thread = upsert_thread(s, site_id, record, seen_at, page_id)
            if thread.page_id is None:
                thread.page_id = page_id
            self.thread_ids[record.external_id] = thread.id
            self.counts["threads"] += 1
        elif isinstance(record, PostRecord):
            thread_id = self.thread_ids.get(record.thread_external_id)
            if thread_id is None:
                thread_id = s.scalars(select(Thread.id).where(
                    Thread.site_id == site_id, Thread.external_id == record.thread_external_id)).one()
            upsert_post(s, site_id, thread_id, record, seen_at, page_id,
                        author_account_id=self._author_account(s, record.author, seen_at))
            self.counts["posts"] += 1
        else:  # pragma: no cover - a page object returned something storage cannot hold
            raise TypeError(f"cannot store {type(record).__name__}")

    def _author_account(self, s: Session, handle: str, seen_at: Any) -> int:
        """The post author's account on this forum (a VendorAccount of the forum site, like a market vendor's,
        so that vendor clustering compares it with market accounts); created bare, last_seen moved once a run."""
        account_id = self.author_ids.get(handle)
        if account_id is None:
            account, _ = upsert_vendor(s, self.run.site_id, VendorRecord(handle=handle), seen_at)
            account_id = self.author_ids[handle] = account.id
        return account_id

    def _notice_migration(self, s: Session, account: VendorAccount, record: VendorRecord) -> None:
        """A vendor account new on this site whose handle or strong identifiers are already known on
        another site: raise an alert once (the vendor moved, or opened a second shop)."""
        if account.first_seen < self.run.started_at or not self.site_known or self.profile.kind != "market":
            return  # forum members are not vendors opening a shop: clustering links them, with evidence
        values = [v for _, v in record.identifiers]
        other = select(VendorAccount.id, VendorAccount.handle, Site.slug).join(Site).where(
            VendorAccount.site_id != account.site_id)
        # the same handle up to case and separators (King_Monk / KingMonk / king-monk): movers keep their name
        key = _handle_key(account.handle)
        matches = [m for m in s.execute(other) if _handle_key(m.handle) == key] if key else []
        if values:
            matches += list(s.execute(other.where(VendorAccount.id.in_(
                select(VendorIdentifier.account_id).where(VendorIdentifier.value.in_(values))))))
        if not matches:
            return
        sites = sorted({f"{slug} ({handle})" for _, handle, slug in matches})
        message = (f"vendor {account.handle!r} appeared on {self.profile.slug}; already known on "
                   f"{', '.join(sites)}")
        exists = s.scalars(select(Alert.id).where(Alert.kind == "vendor_new_site", Alert.message == message)).first()
        if exists is None:
            s.add(Alert(kind="vendor_new_site", site_id=account.site_id, message=message))
            self.alerts.append(message)


def _handles_named(batch: list[Any]) -> set[str]:
    """Every account handle a batch writes or refers to: vendors, and forum post authors (locked up front,
    in order, by `lock_vendors`)."""
    handles = set()
    for entry in batch:
        record = getattr(entry, "record", None)
        if isinstance(record, VendorRecord):
            handles.add(record.handle)
        elif isinstance(record, ListingRecord) and record.vendor_handle:
            handles.add(record.vendor_handle)
        elif isinstance(record, PostRecord) and record.author:
            handles.add(record.author)
    return handles


def _handle_key(handle: str) -> str:
    return re.sub(r"[\W_]+", "", handle.casefold())


class EvidenceCapture:
    """Downloader middleware closest to the wire: every response goes to the evidence store."""

    def __init__(self, store: RunStore):
        self.store = store

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EvidenceCapture:
        return cls(StoragePipeline.store_for(crawler))

    def process_response(self, request: Request, response: Response) -> Response:
        self.store.capture(request, response)
        return response


class StoragePipeline:
    """Item pipeline: opens (or resumes) the run, queues items for batched writes, closes the run."""

    def __init__(self, store: RunStore):
        self.store = store

    @staticmethod
    def store_for(crawler: Crawler) -> RunStore:
        store = getattr(crawler, "nw_store", None)
        if store is None:
            opts = crawler.nw_options  # set by crawler.run.run_crawl
            store = RunStore(crawler, opts["engine"], opts["evidence"], crawler.settings["NARCOWATCH_PROFILE"],
                             crawler.settings.getbool("NARCOWATCH_RESUME"))
            crawler.nw_store = store
            crawler.signals.connect(store.on_spider_closed, signal=signals.spider_closed)
        return store

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        return cls(cls.store_for(crawler))

    def open_spider(self) -> None:
        self.store.open()

    def process_item(self, item: Any) -> Any:
        self.store.add_item(item.record, item.page_url)
        return item


