"""Retry-After honoured: a 429/503 that says when to come back is retried after that wait (up to a cap),
and the site's download slot is slowed down for the rest of the crawl so we do not hammer it again."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

logger = logging.getLogger(__name__)


def retry_after_seconds(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None when unreadable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("NARCOWATCH_RETRY_AFTER_MAX")
        self.max_retries = crawler.settings.getint("RETRY_TIMES")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        if not crawler.settings.getbool("RETRY_ENABLED"):
            raise NotConfigured("retries are off")
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in (429, 503) or b"Retry-After" not in response.headers:
            return response
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is None:
            return response
        if wait > self.max_wait:
            request.meta["nw_failure"] = (f"HTTP {response.status} with Retry-After {wait:.0f} s, longer than "
                                          f"the {self.max_wait:.0f} s we wait")
            return response
        retry = get_retry_request(request, spider=self.crawler.spider, max_retry_times=self.max_retries,
                                  reason=f"retry_after_{response.status}")
        if retry is None:
            request.meta["nw_failure"] = f"HTTP {response.status}: still refused after {self.max_retries} retries"
            return response
        self.crawler.stats.inc_value("narcowatch/retry_after_waits")
        # the site asked for a pause: slow its slot for the rest of the crawl, then come back
        slot_key = request.meta.get("download_slot")
        slots = getattr(self.crawler.engine.downloader, "slots", {})
        if slot_key in slots:
            slots[slot_key].delay = max(slots[slot_key].delay, min(wait, self.max_wait))
        await asyncio.sleep(wait)
        return retry


ROBOTS_JITTER = 0.2  # under a Crawl-delay floor: +-20 % around floor / 0.8, so never below the floor


def crawl_delay(robots_body: bytes, user_agent: str) -> float | None:
    """The `Crawl-delay` a robots.txt asks of `user_agent` (its own group, else `*`), or None."""
    from protego import Protego

    try:
        delay = Protego.parse(robots_body.decode("utf-8", errors="replace")).crawl_delay(user_agent)
    except Exception:  # a robots.txt we cannot read asks nothing of us (RobotsTxtMiddleware says the same)
        return None
    return float(delay) if delay and delay > 0 else None


class RobotsCrawlDelay:
    """robots.txt `Crawl-delay` honoured when a profile obeys robots.txt: the delay the site asks for becomes
    a floor under its download slot's delay. The profile's delay, AutoThrottle and Retry-After may go above
    it, never below; jitter stays, but only above the floor. A delay above NARCOWATCH_CRAWL_DELAY_MAX is
    capped there (a hostile robots.txt cannot stall a crawl; its max_seconds cap ends it anyway)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.user_agent = crawler.settings.get("USER_AGENT") or "*"
        self.max_delay = crawler.settings.getfloat("NARCOWATCH_CRAWL_DELAY_MAX")
        self.floors: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsCrawlDelay:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured("the profile ignores robots.txt")
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        slot_key = request.meta.get("download_slot")
        if slot_key is None:
            return response
        if response.status == 200 and urlsplit(request.url).path == "/robots.txt":
            asked = crawl_delay(response.body, self.user_agent)
            if asked:
                self.floors[slot_key] = min(asked, self.max_delay)
                self.crawler.stats.set_value("narcowatch/robots_crawl_delay", self.floors[slot_key])
                logger.info("%s asks for Crawl-delay %s s; honoured (at most %s s)", request.url, asked,
                            self.max_delay)
        floor = self.floors.get(slot_key)
        slot = getattr(self.crawler.engine.downloader, "slots", {}).get(slot_key) if floor else None
        if slot is not None:  # after every response: AutoThrottle may have lowered the delay meanwhile
            slot.jitter = min(slot.jitter, ROBOTS_JITTER)
            slot.delay = max(slot.delay, floor / (1 - slot.jitter))
        return response


class PageCapReached(Exception):
    """A request not sent because the crawl's page cap was reached (not a failure of the site)."""


class PageCap:
    """Downloader middleware, last before the wire: at most `politeness.max_pages` requests leave in one
    crawl (robots.txt, retries and redirects included), and the one that reaches the cap asks the engine to
    close. Scrapy's CLOSESPIDER_PAGECOUNT counts responses and lets the requests already in flight
    complete, so a crawl stored more pages than its cap (409 for 400 with a browser's tabs open).

    In a distributed crawl (a worker: the crawler carries `nw_coordinator`) the count is the fleet's, kept in
    Redis, so the cap holds for all workers together; the same call tells a worker that another one stopped
    the crawl on an item or time cap, and this worker then closes too (with that reason)."""

    def __init__(self, crawler: Crawler, cap: int, coordinator: Any = None):
        self.crawler, self.cap, self.sent = crawler, cap, 0
        self.coordinator, self.closing = coordinator, False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageCap:
        coordinator = getattr(crawler, "nw_coordinator", None)
        if coordinator is not None:
            return cls(crawler, crawler.settings.getint("NARCOWATCH_SHARED_MAX_PAGES"), coordinator)
        cap = crawler.settings.getint("CLOSESPIDER_PAGECOUNT")
        if cap <= 0:
            raise NotConfigured("no page cap")
        return cls(crawler, cap)

    def process_request(self, request: Request) -> None:
        if self.coordinator is not None:
            sent, capped = self.coordinator.count_page(self.cap)  # the fleet's count, and its cap reason
        else:
            self.sent += 1
            sent, capped = self.sent, ("closespider_pagecount" if self.sent >= self.cap else None)
        if self.cap > 0 and sent > self.cap:
            self._close(capped or "closespider_pagecount")
            raise PageCapReached(f"page cap {self.cap} reached: not sent")
        if capped:
            self._close(capped)
        return None

    def _close(self, reason: str) -> None:
        if self.closing:
            return
        from scrapy.utils.defer import deferred_from_coro

        self.closing = True
        logger.info("%s: the crawl closes once the requests in flight are done", reason)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))
