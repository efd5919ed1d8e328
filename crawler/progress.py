"""Progress on stderr while a crawl runs: pages, items, errors, pages/s (one line every few seconds)."""

from __future__ import annotations

import sys
import time

from scrapy import signals
from scrapy.crawler import Crawler
from twisted.internet import task


class Progress:
    def __init__(self, crawler: Crawler, interval: float, stream=None):
        self.crawler = crawler
        self.interval = interval
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        ext = cls(crawler, crawler.settings.getfloat("NARCOWATCH_PROGRESS_INTERVAL"))
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def line(self) -> str:
        stats = self.crawler.stats
        pages = stats.get_value("response_received_count", 0)
        items = stats.get_value("item_scraped_count", 0)
        store = getattr(self.crawler, "nw_store", None)
        errors = store.error_count() if store else 0
        elapsed = max(time.monotonic() - self.started, 1e-6)
        name = self.crawler.spider.name if self.crawler.spider else "crawl"
        return f"{name}: {pages} pages, {items} items, {errors} errors, {pages / elapsed:.1f} pages/s"

    def opened(self) -> None:
        self.started = time.monotonic()
        if self.interval > 0:
            self._loop = task.LoopingCall(self.show)
            self._loop.start(self.interval, now=False)

    def show(self) -> None:
        print(self.line(), file=self.stream, flush=True)

    def closed(self) -> None:
        if self._loop and self._loop.running:
            self._loop.stop()
        self.show()
