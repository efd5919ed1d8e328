"""`narcowatch sites check FILE`: fetch one page of each kind the profile knows and show what every
selector extracted, so a profile author sees at once which selector is wrong.

Fetching obeys the same rules as a crawl: the egress guard's allow-list, the site's SOCKS proxy with remote
DNS (never direct for onion hosts), the browser for browser-mode sites.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from crawler.egress import Policy
from crawler.pages import page_object_for, select
from crawler.profile import Profile, Selector
from crawler.settings import CHROMIUM_ARGS, proxy_url


@dataclass
class CheckedPage:
    page_type: str
    url: str
    status: int | None
    error: str | None = None
    fields: list[tuple[str, Any]] = field(default_factory=list)  # (field, values extracted)
    records: list[Any] = field(default_factory=list)
    links: dict[str, list[str]] = field(default_factory=dict)


async def _fetch_http(url: str, proxy: str | None, timeout: float, user_agent: str | None) -> tuple[int, str]:
    import httpcore
    import httpx

    from crawler.handlers import SocksBackend

    headers = {"User-Agent": user_agent or "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"}
    async with httpx.AsyncClient(timeout=timeout, headers=headers, trust_env=False, follow_redirects=True) as client:
        if proxy:
            client._transport._pool = httpcore.AsyncConnectionPool(  # type: ignore[attr-defined]
                network_backend=SocksBackend(proxy))
        response = await client.get(url)
        return response.status_code, response.text


async def _fetch_browser(urls: list[str], proxy: str | None, chromium: str, timeout: float) -> Any:
    from playwright.async_api import async_playwright

    args = list(CHROMIUM_ARGS)
    if proxy:
        args.append("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")
    pw = await async_playwright().start()
    browser = await pw.chromium.launch(executable_path=chromium, headless=True, args=args)
    kwargs: dict[str, Any] = {}
    if proxy:
        from urllib.parse import urlsplit

        parts = urlsplit(proxy)
        kwargs["proxy"] = {"server": f"socks5://{parts.hostname}:{parts.port}"}
    context = await browser.new_context(**kwargs)
    return pw, browser, context


def _field_values(spec_fields: Any, root: Any, url: str, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if spec_fields is None:
        return out
    for name, spec in spec_fields:
        if isinstance(spec, Selector):
            out.append((prefix + name, select(root, spec, url)))
        elif isinstance(spec, dict):
            for sub, sub_spec in spec.items():
                out.append((f"{prefix}{name}.{sub}", select(root, sub_spec, url)))
    return out


def check_profile(profile: Profile, *, chromium: str, tor_proxy: str) -> list[CheckedPage]:
    return asyncio.run(_check(profile, chromium=chromium, tor_proxy=tor_proxy))


async def _check(profile: Profile, *, chromium: str, tor_proxy: str) -> list[CheckedPage]:
    policy = Policy(profile)
    proxy = proxy_url(profile, tor_proxy)
    timeout = profile.politeness.timeout
    browser_parts = None
    if profile.fetch == "browser":
        browser_parts = await _fetch_browser([], proxy, chromium, timeout)

    async def fetch(url: str) -> tuple[int, str]:
        if browser_parts:
            page = await browser_parts[2].new_page()
            try:
                response = await page.goto(url, timeout=timeout * 1000)
                if profile.browser.wait_for:
                    await page.wait_for_selector(profile.browser.wait_for, timeout=10_000)
                return (response.status if response else 0), await page.content()
            finally:
                await page.close()
        return await _fetch_http(url, proxy, timeout, profile.user_agent)

    results: list[CheckedPage] = []
    queue = [("index", u) for u in profile.absolute_start_urls()[:1]]
    done: set[str] = set()
    try:
        while queue:
            page_type, url = queue.pop(0)
            if page_type in done:
                continue
            done.add(page_type)
            reason = policy.refusal(url)
            if reason:
                results.append(CheckedPage(page_type, url, None, f"not fetched: {reason}"))
                continue
            try:
                status, html = await fetch(url)
            except Exception as exc:  # shown to the author, who fixes the profile or the proxy
                results.append(CheckedPage(page_type, url, None, f"{type(exc).__name__}: {exc}"))
                continue
            obj = page_object_for(profile, page_type)(url, html, profile)
            checked = CheckedPage(page_type, url, status)
            spec = obj.spec
            if spec is not None and getattr(spec, "fields", None) is not None:
                checked.fields = _field_values(spec.fields, obj.root, url)
            if page_type == "thread" and spec is not None and spec.posts is not None:
                nodes = obj.root.css(spec.posts.each.css) if spec.posts.each.css else obj.root.xpath(
                    spec.posts.each.xpath or ".")
                checked.fields.append(("posts.each", [f"{len(nodes)} element(s)"]))
                if nodes:
                    checked.fields += _field_values(spec.posts.fields, nodes[0], url, "posts[0].")
            try:
                result = obj.result()
                checked.records, checked.links = result.records, result.links
            except Exception as exc:
                checked.error = f"page object failed: {type(exc).__name__}: {exc}"
            results.append(checked)
            for target, urls in checked.links.items():
                if target not in done and urls and getattr(profile.pages, target) is not None:
                    queue.append((target, urls[0]))
    finally:
        if browser_parts:
            pw, browser, _ = browser_parts
            await browser.close()
            await pw.stop()
    return results
