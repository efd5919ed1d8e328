"""Evidence capture for one crawl run: bodies + WARC records + Page rows, sealed when the run closes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.evidence import EvidenceStore, WarcRecorder
from storage.models import CrawlRun, Page, Site, WarcFile, utcnow
from storage.upsert import record_page, record_pages


class RunEvidence:
    """Used by the crawler's storage pipeline. Call `capture` per response inside a session, `sync()` before
    committing that session, `close()` at the end of the run (seals the WARC file)."""

    def __init__(self, store: EvidenceStore, session: Session, run: CrawlRun, site: Site):
        self.store = store
        self.run = run
        path = store.new_warc_path(site.slug, run.id)
        self.recorder: WarcRecorder = store.open_recorder(path, run.id)
        warc = WarcFile(crawl_run_id=run.id, path=path)
        session.add(warc)
        session.flush()
        self.warc_id = warc.id

    def capture(self, session: Session, url: str, status: int, headers: list[tuple[str, str]], body: bytes,
                fetched_at: datetime, content_type: str | None = None, screenshot: bytes | None = None,
                fetch_mode: str = "http", reason: str = "") -> Page:
        sha = self.store.put_body(body)
        screenshot_sha = self.store.put_body(screenshot) if screenshot else None
        extra = {"Fetch-Mode": fetch_mode, "Crawl-Run": str(self.run.id)}
        if screenshot_sha:
            extra["Screenshot-SHA256"] = screenshot_sha
        location = self.recorder.record_response(url, status, headers, body, fetched_at, reason, extra)
        return record_page(session, self.run, url, fetched_at, status, content_type, sha, len(body), location,
                           screenshot_sha, fetch_mode)

    def capture_batch(self, session: Session, captures: Sequence[Any]) -> list[int]:
        """`capture` for many responses (a crawl batch), in order: the same bodies, WARC records and Page
        rows, with the bodies' fsyncs issued together and the Page rows written in one statement. Each
        capture has the attributes url, status, headers, body, fetched_at, content_type, screenshot and
        fetch_mode. Returns the Page ids in order."""
        bodies = self.store.put_bodies([c.body for c in captures])
        shots = self.store.put_bodies([c.screenshot for c in captures if c.screenshot])
        shot = iter(shots)
        pages = []
        for capture, sha in zip(captures, bodies, strict=True):
            screenshot_sha = next(shot) if capture.screenshot else None
            extra = {"Fetch-Mode": capture.fetch_mode, "Crawl-Run": str(self.run.id)}
            if screenshot_sha:
                extra["Screenshot-SHA256"] = screenshot_sha
            location = self.recorder.record_response(capture.url, capture.status, capture.headers, capture.body,
                                                     capture.fetched_at, "", extra)
            pages.append({"url": capture.url, "fetched_at": capture.fetched_at, "status": capture.status,
                          "content_type": capture.content_type, "sha256": sha, "size": len(capture.body),
                          "location": location, "screenshot_sha256": screenshot_sha,
                          "fetch_mode": capture.fetch_mode})
        return record_pages(session, self.run, pages)

    def sync(self) -> None:
        self.recorder.sync()

    def close(self, session: Session) -> None:
        size, digest = self.recorder.close()
        session.execute(update(WarcFile).where(WarcFile.id == self.warc_id).values(
            size=size, sha256=digest, sealed_at=utcnow()))


def pages_of_run(session: Session, run_id: int) -> list[Page]:
    return list(session.scalars(select(Page).where(Page.crawl_run_id == run_id).order_by(Page.id)))
