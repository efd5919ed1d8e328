"""Evidence capture for one crawl run: bodies + WARC records + Page rows, sealed when the run closes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.evidence import EvidenceStore, WarcRecorder
from storage.models import CrawlRun, Page, Site, WarcFile, utcnow
from storage.upsert import record_page


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

    def sync(self) -> None:
        self.recorder.sync()

    def close(self, session: Session) -> None:
        size, digest = self.recorder.close()
        session.execute(update(WarcFile).where(WarcFile.id == self.warc_id).values(
            size=size, sha256=digest, sealed_at=utcnow()))


def pages_of_run(session: Session, run_id: int) -> list[Page]:
    return list(session.scalars(select(Page).where(Page.crawl_run_id == run_id).order_by(Page.id)))
