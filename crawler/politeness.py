"""Retry-After honoured: a 429/503 that says when to come back is retried after that wait (up to a cap),
and the site's download slot is slowed down for the rest of the crawl so we do not hammer it again."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

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
