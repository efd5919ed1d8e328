"""Running one crawl: Scrapy in this process (the reactor cannot restart, so one crawl per process).

`narcowatch crawl SITE` calls `run_crawl`; `narcowatch crawl --all`, the demo and the scheduler start
`narcowatch crawl SITE` as subprocesses.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from sqlalchemy import Engine

from crawler.profile import Profile
from crawler.settings import crawl_settings
from crawler.spider import SiteSpider
from storage.evidence import EvidenceStore


@dataclass
class CrawlResult:
    site: str
    run_id: int | None
    status: str
    reason: str | None
    counts: dict[str, int] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)
    error_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "finished"


def run_crawl(profile: Profile, engine: Engine, evidence: EvidenceStore, *, chromium: str, tor_proxy: str,
              resume: bool = False, extra_settings: dict[str, Any] | None = None) -> CrawlResult:
    values = crawl_settings(profile, chromium=chromium, tor_proxy=tor_proxy, resume=resume)
    values.update(extra_settings or {})
    # the writer thread (evidence fsyncs, SQL) shares the GIL with the reactor: hand it back quickly so
    # socket calls on the reactor thread do not each wait a full 5 ms switch interval
    sys.setswitchinterval(0.0005)
    values["LOG_INSTALL_ROOT_HANDLER"] = False  # the CLI has configured logging already
    # Scrapy logs through the root logger; keep its chatter (the version banner CrawlerProcess logs as it
    # starts, included) out of the progress display
    for name in ("scrapy", "scrapy_playwright", "py.warnings", "twisted", "asyncio", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(values.get("LOG_LEVEL", "WARNING"))
    process = CrawlerProcess(Settings(values))
    crawler = process.create_crawler(SiteSpider)
    # live objects cannot go through Settings (it deep-copies); components find them on the crawler
    crawler.nw_options = {"engine": engine, "evidence": evidence}
    process.crawl(crawler, profile=profile)
    process.start()
    store = getattr(crawler, "nw_store", None)
    run = store.result if store else None
    if run is None:
        return CrawlResult(profile.slug, None, "failed", "the crawl did not start (see the log above)")
    return CrawlResult(profile.slug, run.id, run.status, run.reason, dict(store.counts), list(store.alerts),
                       dict(store.error_kinds))


def testbed_overrides(slug: str, info: dict[str, Any]) -> list[str]:
    """`narcowatch crawl` options that point a `testbed_<site>` profile at a running testbed, from the
    state `narcowatch testbed serve` writes (testbed.json) or `Testbed.info()`; [] for other profiles."""
    site = slug.removeprefix("testbed_")
    if not slug.startswith("testbed_"):
        return []
    if site == "market_c":
        return ["--base-url", info["onion_url"].rstrip("/") + "/", "--proxy", info["proxy_url"]]
    url = (info.get("sites") or {}).get(site)
    return ["--base-url", url.rstrip("/") + "/"] if url else []


def read_testbed_info(home: Path) -> dict[str, Any]:
    path = home / "testbed.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FileNotFoundError(f"{path}: no running testbed found (start `narcowatch testbed serve`)") from exc


def crawl_subprocess(site: str, *options: str, env: dict[str, str] | None = None, capture: bool = False,
                     timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run `narcowatch crawl SITE OPTIONS...` in a child process (one crawl per process: the Twisted reactor
    cannot restart). With `capture`, stdout/stderr are returned instead of shown."""
    return subprocess.run([sys.executable, "-m", "narcowatch", "crawl", site, *options], env=env,
                          capture_output=capture, text=True, timeout=timeout)
