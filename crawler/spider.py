"""The generic spider: it navigates, page objects extract.

It starts at the profile's start URLs as index pages; on every page it asks the page object for records
(yielded as items) and for links by the page type they lead to, and follows the ones the profile allows.
It never parses fields itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import scrapy
from scrapy import signals
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.egress import EgressRefused, Policy
from crawler.pages import PageObject, page_object_for
from crawler.politeness import PageCapReached
from crawler.profile import Profile

try:
    from scrapy_playwright.page import PageMethod
except ImportError:  # pragma: no cover - browser mode needs it, http mode does not
    PageMethod = None


@dataclass
class Crawled:
    """An item: one record from one page (the page's URL ties it to its evidence)."""

    record: Any
    page_url: str
    page_type: str


class SiteSpider(scrapy.Spider):
    name = "site"

    def __init__(self, profile: Profile, **kwargs: Any):
        super().__init__(name=profile.slug, **kwargs)
        self.profile = profile
        self.policy = Policy(profile)
        self.allowed_domains = []  # the egress guard decides, with ports and private-address rules
        self.browser = profile.fetch == "browser"
        self._refused: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.dropped, signal=signals.request_dropped)
        return spider

    @property
    def store(self):
        return self.crawler.nw_store  # set by crawler.store.StoragePipeline.from_crawler

    # ------------------------------------------------------------------ requests
    def request(self, url: str, page_type: str, **kw: Any) -> scrapy.Request:
        meta: dict[str, Any] = {"nw_page_type": page_type}
        if self.browser:
            meta["playwright"] = True
            meta["playwright_context"] = "site"
            methods = []
            if self.profile.browser.wait_for:
                methods.append(PageMethod("wait_for_selector", self.profile.browser.wait_for, timeout=10_000))
            spec = self.profile.pages.listing
            if page_type == "listing" and spec is not None and spec.screenshot:
                methods.append(PageMethod("screenshot", full_page=True, type="png"))
            if methods:
                meta["playwright_page_methods"] = methods
        return scrapy.Request(url, callback=self.parse_page, errback=self.failed, meta=meta,
                              priority={"index": 0, "thread": 1, "listing": 2, "vendor": 3}[page_type], **kw)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.profile.absolute_start_urls():
            yield self.request(url, "index")
        # a resumed run: pages whose records are already committed are not fetched again, but the
        # vendors their listings named still need their own pages
        for url in self.store.resume_extra_vendor_urls():
            yield self.request(url, "vendor")

    # ------------------------------------------------------------------ parsing
    def parse_page(self, response: Response) -> Iterator[Any]:
        page_type = response.meta["nw_page_type"]
        if response.status >= 400 or not hasattr(response, "text"):
            reason = response.meta.get("nw_failure") or f"HTTP {response.status}"
            if not hasattr(response, "text") and response.status < 400:
                reason = f"not an HTML page ({response.headers.get(b'Content-Type', b'?').decode('latin-1')})"
            self.store.error(response.url, "http" if response.status >= 400 else "content", reason, page_type)
            return
        page: PageObject = page_object_for(self.profile, page_type)(response.url, response.selector, self.profile)
        try:
            result = page.result()
        except Exception as exc:  # a parsing bug must not lose the rest of the crawl; it is recorded
            self.store.error(response.url, "parse", f"{type(exc).__name__}: {exc}", page_type)
            return
        for record in result.records:
            yield Crawled(record, response.url, page_type)
        for target, urls in result.links.items():
            if getattr(self.profile.pages, target) is None:
                continue
            for url in urls:
                reason = self.policy.refusal(url)
                if reason:
                    if url not in self._refused:
                        self._refused.add(url)
                        self.store.error(url, "offsite", f"link not followed: {reason}", target)
                    continue
                if self.store.already_done(url):
                    self.crawler.stats.inc_value("narcowatch/resume_skipped")
                    continue
                yield self.request(url, target)

    def dropped(self, request: scrapy.Request, **_kw: Any) -> None:
        """The scheduler dropped a request it had seen. A redirect back into its own chain is a redirect
        loop, which Scrapy ends silently: record it. (A redirect to a page fetched by another path is not.)"""
        chain = request.meta.get("redirect_urls") or []
        if request.url in chain:
            hops = " -> ".join([*chain, request.url])
            self.store.error(request.url, "redirect", f"redirect loop: {hops}",
                             request.meta.get("nw_page_type", "index"))

    def failed(self, failure: Failure) -> None:
        request = failure.request
        exc = failure.value
        page_type = request.meta.get("nw_page_type", "index")
        if isinstance(exc, HttpError | PageCapReached):
            # responses with any status reach parse_page (HTTPERROR_ALLOW_ALL); a request held back by the
            # page cap is the crawl ending, not an error of the site
            return
        kind, reason = classify(exc)
        if isinstance(exc, EgressRefused):
            kind = "egress"
        self.store.error(request.url, kind, reason, page_type)
        if kind == "proxy" and "unreachable" in reason:
            # fail closed and loud: nothing more is attempted once the site's proxy is down
            self.store.proxy_down = reason
            self.store.stop_crawl("proxy_unreachable")


def classify(exc: BaseException) -> tuple[str, str]:
    """(kind, reason) of a failed download, in words an analyst can act on."""
    name = type(exc).__name__
    text = str(exc) or name
    lowered = text.lower()
    if "socks" in lowered or "proxy" in lowered:
        return "proxy", text
    if "fail closed" in lowered or name == "FailClosed":
        return "proxy", text
    if "robots.txt" in lowered:
        return "robots", "forbidden by robots.txt"
    if name in ("TimeoutError", "DownloadTimeoutError", "TCPTimedOutError", "ConnectTimeout", "ReadTimeout") \
            or "took longer than" in lowered or "timeout" in lowered:
        return "timeout", text
    if name == "DownloadCancelledError" and text == name:
        return "size", "download cancelled: the response grew past the size cap (max_size) while streaming"
    if "maxsize" in lowered or "max size" in lowered or "exceeds" in lowered or name == "DownloadCancelledError":
        return "size", text
    if "redirect" in lowered:
        return "redirect", text
    if name in ("DNSLookupError", "CannotResolveHostError"):
        return "dns", text
    if "refused" in lowered or name in ("ConnectionRefusedError", "DownloadConnectionRefusedError"):
        return "connect", text
    if name == "EgressRefused":
        return "egress", text
    if name == "IgnoreRequest":
        return "ignored", text
    return "download", f"{name}: {text}"
