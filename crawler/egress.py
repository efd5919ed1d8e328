"""Egress guard: a request leaves only for a host (and port) the profile allows, and a proxied site's
requests only through its proxy, with its own circuit credentials.

Loopback and private addresses are refused unless the profile's allow-list says `private: true` (testbeds,
lab sites): a hostile page linking to 127.0.0.1:5432 or 10.0.0.1 gets nothing. Every refusal is a
CrawlError row with its reason. Browser mode has the same rule for every sub-request a page makes
(`BrowserGuard`, one per crawl, wired through PLAYWRIGHT_ABORT_REQUEST).
"""

from __future__ import annotations

import logging
from urllib.parse import quote, unquote, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from crawler.profile import Profile, non_global_ip

logger = logging.getLogger(__name__)


class EgressRefused(IgnoreRequest):
    pass


def _port(parts) -> int:
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return -1


class Policy:
    """Which origins a profile may reach."""

    def __init__(self, profile: Profile):
        base = urlsplit(profile.base_url)
        self.origins: set[tuple[str, int | None]] = {((base.hostname or "").lower(), _port(base))}
        for entry in profile.allow.hosts:
            host, _, port = entry.lower().rpartition(":") if ":" in entry else (entry.lower(), "", "")
            self.origins.add((host, int(port) if port.isdigit() else None))
        self.allow = profile.allow

    def refusal(self, url: str) -> str | None:
        """None when `url` may be fetched, else the reason it may not."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"scheme {parts.scheme or '(none)'!r} is never fetched"
        host, port = (parts.hostname or "").lower(), _port(parts)
        if not host:
            return "no host in URL"
        if (host, port) not in self.origins and (host, None) not in self.origins:
            return f"host {host}:{port} is not allowed by the profile"
        ip = non_global_ip(host)
        if ip is not None and not self.allow.permits(ip):
            return f"{host} is a loopback/private address and the profile's allow.private does not list it"
        return None


# URLs a page resolves inside the browser, never fetched from anywhere
IN_BROWSER = ("data:", "blob:", "about:")


def refuse_all(playwright_request) -> bool:
    """The default route handler when no crawl's guard is set (PLAYWRIGHT_ABORT_REQUEST in DEFAULTS): a
    browser without a profile's policy fetches nothing beyond its own data: URLs."""
    return not playwright_request.url.startswith(IN_BROWSER)


class BrowserGuard:
    """The browser's route handler of one crawl (its PLAYWRIGHT_ABORT_REQUEST, set by crawl_settings):
    aborts every sub-request the crawl's profile does not allow and keeps them for the crawl's store to
    record. One per crawl, never shared through a module global: a distributed worker runs several crawls
    in one process, and each browser must answer to its own site's policy (an onion site's browser under a
    clear-web site's policy could reach the clear web)."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.refused: list[tuple[str, str]] = []

    def __call__(self, playwright_request) -> bool:
        url = playwright_request.url
        if url.startswith(IN_BROWSER):
            return False
        reason = self.policy.refusal(url)
        if reason:
            self.refused.append((url, reason))
            return True
        return False


def circuit_proxy(profile: Profile, proxy: str) -> str:
    """The proxy URL with this site's own credentials: Tor isolates streams by SOCKS credentials
    (IsolateSOCKSAuth), so every site gets a circuit of its own. Credentials in the URL win."""
    parts = urlsplit(proxy)
    user = unquote(parts.username) if parts.username else f"narcowatch-{profile.slug}"
    password = unquote(parts.password) if parts.password else "circuit"
    return f"socks5h://{quote(user)}:{quote(password)}@{parts.hostname}:{parts.port}"


class EgressGuard:
    """Downloader middleware, first in line: refuses what the profile does not allow and routes a proxied
    site's requests through SOCKS with the site's own circuit credentials."""

    def __init__(self, crawler: Crawler, profile: Profile, proxy: str | None):
        self.crawler = crawler
        self.policy = Policy(profile)
        self.proxy = circuit_proxy(profile, proxy) if proxy else None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EgressGuard:
        return cls(crawler, crawler.settings["NARCOWATCH_PROFILE"], crawler.settings.get("NARCOWATCH_PROXY"))

    def process_request(self, request: Request):
        reason = self.policy.refusal(request.url)
        if reason:
            self.crawler.stats.inc_value("narcowatch/egress_refused")
            raise EgressRefused(f"egress refused: {reason}")
        if self.proxy:
            request.meta["nw_socks"] = self.proxy
        return None
