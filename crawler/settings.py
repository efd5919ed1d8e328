"""Every Scrapy default narcowatch crawls with, in one place, grouped and commented.

`crawl_settings(profile, ...)` starts from these and applies the profile's politeness section; components
read what they need once in `from_crawler`.
"""

from __future__ import annotations

from typing import Any

from crawler.profile import Profile

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--disable-extensions", "--mute-audio",
                 "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
                 "--js-flags=--max-old-space-size=256"]

DEFAULTS: dict[str, Any] = {
    # --- engine -------------------------------------------------------------------------------------
    "BOT_NAME": "narcowatch",
    # scrapy-playwright needs the asyncio reactor; the SOCKS handler uses asyncio too
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    "LOG_LEVEL": "WARNING",  # the progress line says what happens; errors go to the database
    "TELNETCONSOLE_ENABLED": False,
    "COOKIES_ENABLED": True,  # markets gate pages behind session cookies
    "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    "USER_AGENT": "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0",  # Tor Browser's
    # --- politeness (overridden per profile) -------------------------------------------------------
    "ROBOTSTXT_OBEY": True,
    "DOWNLOAD_DELAY": 1.0,
    "DOWNLOAD_DELAY_JITTER": 0.5,  # +-50 %: a fixed rhythm is a fingerprint
    "CONCURRENT_REQUESTS": 8,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 1.0,
    "AUTOTHROTTLE_MAX_DELAY": 60.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
    # --- caps: a hostile site cannot keep us forever -------------------------------------------------
    "DEPTH_LIMIT": 10,
    "CLOSESPIDER_PAGECOUNT": 5000,
    "CLOSESPIDER_ITEMCOUNT": 0,
    "CLOSESPIDER_TIMEOUT": 0,
    "DOWNLOAD_TIMEOUT": 30,  # whole download: a slow drip is cut here
    "DOWNLOAD_MAXSIZE": 10 * 2**20,  # also applied to the decompressed body: gzip bombs stop here
    "DOWNLOAD_WARNSIZE": 0,
    "REDIRECT_MAX_TIMES": 5,
    "METAREFRESH_MAXDELAY": 10,
    "RETRY_ENABLED": True,
    "RETRY_TIMES": 2,
    "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
    "NARCOWATCH_RETRY_AFTER_MAX": 120,  # seconds; a longer Retry-After is a failure, not a wait
    "NARCOWATCH_CRAWL_DELAY_MAX": 60,  # seconds; a robots.txt Crawl-delay above this is capped here
    "URLLENGTH_LIMIT": 2083,
    "DUPEFILTER_CLASS": "scrapy.dupefilters.RFPDupeFilter",  # calendar traps: same URL never twice
    "HTTPERROR_ALLOW_ALL": True,  # the spider records every status itself (CrawlError rows)
    "MEMUSAGE_ENABLED": True,
    "MEMUSAGE_LIMIT_MB": 1200,
    "REACTOR_THREADPOOL_MAXSIZE": 4,
    "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue",
    # --- components ----------------------------------------------------------------------------------
    "DOWNLOAD_HANDLERS": {
        "http": "crawler.handlers.GuardedDownloadHandler",
        "https": "crawler.handlers.GuardedDownloadHandler",
        # nothing but http(s) ever leaves: ftp, s3, file, data are refused
        "ftp": None, "s3": None, "file": None, "data": None,
    },
    "DOWNLOADER_MIDDLEWARES": {
        # first look at a request: where it may go (before robots.txt, which would fetch)
        "crawler.egress.EgressGuard": 50,
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": 100,
        "crawler.politeness.RetryAfterMiddleware": 540,  # before RetryMiddleware (550) sees a 429/503
        # robots.txt Crawl-delay as a floor under the site's slot delay (only when the profile obeys robots)
        "crawler.politeness.RobotsCrawlDelay": 560,
        # the page cap counts requests as they leave, after everything that may refuse or delay them
        "crawler.politeness.PageCap": 900,
        # closest to the wire: every response as it came (redirects, errors included) goes to evidence
        "crawler.store.EvidenceCapture": 950,
    },
    "SPIDER_MIDDLEWARES": {},
    "ITEM_PIPELINES": {"crawler.store.StoragePipeline": 500},
    "EXTENSIONS": {
        "crawler.progress.Progress": 500,
        "scrapy.extensions.telnet.TelnetConsole": None,
    },
    # --- browser mode (scrapy-playwright + Debian chromium) ----------------------------------------------
    "PLAYWRIGHT_BROWSER_TYPE": "chromium",
    "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 4,  # bounded memory: tabs and contexts are capped
    "PLAYWRIGHT_MAX_CONTEXTS": 1,
    "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 30_000,
    "PLAYWRIGHT_ABORT_REQUEST": "crawler.egress.refuse_all",  # crawl_settings gives each crawl its own guard
    # --- narcowatch ---------------------------------------------------------------------------------------
    "NARCOWATCH_ANALYSIS_WORKER": True,  # analyse in a worker process (the other core), not under the GIL
    "NARCOWATCH_BATCH_ITEMS": 200,  # items per database transaction
    "NARCOWATCH_BATCH_SECONDS": 2.0,  # ... or this long, whichever comes first
    "NARCOWATCH_PROGRESS_INTERVAL": 2.0,  # seconds between progress lines on stderr
}


def proxy_url(profile: Profile, tor_proxy: str) -> str | None:
    """The SOCKS5 URL a profile's requests go through, or None for direct."""
    if profile.proxy == "none":
        return None
    url = tor_proxy if profile.proxy == "tor" else profile.proxy
    return url.replace("socks5://", "socks5h://", 1)  # names are always resolved by the proxy


def crawl_settings(profile: Profile, *, chromium: str, tor_proxy: str, resume: bool = False,
) -> dict[str, Any]:
    p = profile.politeness
    s = dict(DEFAULTS)
    s["DOWNLOAD_HANDLERS"] = dict(DEFAULTS["DOWNLOAD_HANDLERS"])
    s.update({
        "ROBOTSTXT_OBEY": p.robots == "obey",
        "DOWNLOAD_DELAY": p.delay,
        "CONCURRENT_REQUESTS": p.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": p.concurrency,
        "AUTOTHROTTLE_ENABLED": p.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(p.delay, 0.01),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(p.concurrency),
        "DEPTH_LIMIT": p.max_depth,
        "CLOSESPIDER_PAGECOUNT": p.max_pages,
        "CLOSESPIDER_ITEMCOUNT": p.max_items,
        "CLOSESPIDER_TIMEOUT": p.max_seconds,
        "DOWNLOAD_TIMEOUT": p.timeout,
        "DOWNLOAD_MAXSIZE": p.max_size,
        "REDIRECT_MAX_TIMES": p.max_redirects,
        "RETRY_TIMES": p.retries,
        "NARCOWATCH_PROFILE": profile,
        "NARCOWATCH_PROXY": proxy_url(profile, tor_proxy),
        "NARCOWATCH_RESUME": resume,
    })
    if profile.user_agent:
        s["USER_AGENT"] = profile.user_agent
    if profile.fetch == "browser":
        from crawler.egress import BrowserGuard, Policy

        s["PLAYWRIGHT_ABORT_REQUEST"] = BrowserGuard(Policy(profile))
        s["PLAYWRIGHT_MAX_PAGES_PER_CONTEXT"] = min(profile.browser.max_pages, p.concurrency)
        s["PLAYWRIGHT_MAX_CONTEXTS"] = profile.browser.max_contexts
        s["PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT"] = int(p.timeout * 1000)
        args = list(CHROMIUM_ARGS)
        proxy = s["NARCOWATCH_PROXY"]
        if proxy:
            # belt and braces: with a SOCKS proxy Chromium resolves names at the proxy; this rule makes any
            # lookup that would still happen locally fail instead of leaking the name to the resolver
            args.append("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")
        s["PLAYWRIGHT_LAUNCH_OPTIONS"] = {"executable_path": chromium, "headless": True, "args": args,
                                          "timeout": 60_000}
        context: dict[str, Any] = {"java_script_enabled": True, "ignore_https_errors": True,
                                   "viewport": {"width": 1280, "height": 900},
                                   "user_agent": s["USER_AGENT"], "service_workers": "block"}
        if proxy:
            # Chromium cannot send SOCKS credentials: it talks to a loopback relay that opens each stream to
            # the proxy with this site's credentials (its own Tor circuit), names still resolved remotely
            from crawler.egress import circuit_proxy
            from crawler.socks_relay import SocksRelay

            context["proxy"] = {"server": SocksRelay(circuit_proxy(profile, proxy)).start()}
        s["PLAYWRIGHT_CONTEXTS"] = {"site": context}
    return s
