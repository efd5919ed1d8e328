"""The one download handler for http(s): routes each request to the browser, the SOCKS5 tunnel or the
plain HTTP client, and fails closed for onion hosts.

Scrapy has no SOCKS support. Requests of a proxied site go through httpx whose connections are opened by
`SocksBackend`: it connects to the proxy (and only the proxy) and asks it, with the host NAME (ATYP
domain, RFC 1928), to connect onwards, so names are never resolved locally. Each site sends its own
username/password (RFC 1929): Tor isolates circuits by SOCKS credentials (IsolateSOCKSAuth, on by default),
so every site gets its own circuit, as production onion crawlers do.
"""

from __future__ import annotations

import ipaddress
import struct
import zlib
from typing import Any
from urllib.parse import unquote, urlsplit

import httpcore
import httpx
from scrapy import Request
from scrapy.core.downloader.handlers._httpx import HttpxDownloadHandler
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.misc import build_from_crawler

SOCKS_ERRORS = {1: "general SOCKS server failure", 2: "connection not allowed by ruleset",
                3: "network unreachable", 4: "host unreachable", 5: "connection refused", 6: "TTL expired",
                7: "command not supported", 8: "address type not supported"}


class FailClosed(Exception):
    """A request that would have left without its proxy; it is refused, never sent."""


class SocksError(httpcore.ProxyError):
    pass


async def _read_exactly(stream: httpcore.AsyncNetworkStream, n: int, timeout: float | None) -> bytes:
    data = b""
    while len(data) < n:
        chunk = await stream.read(n - len(data), timeout=timeout)
        if not chunk:
            raise SocksError("SOCKS proxy closed the connection during the handshake")
        data += chunk
    return data


async def socks5_connect(stream: httpcore.AsyncNetworkStream, host: str, port: int, username: str | None,
                         password: str | None, timeout: float | None) -> None:
    """RFC 1928 CONNECT with the host sent as a name (never resolved here); RFC 1929 auth when given."""
    methods = b"\x02" if username is not None else b"\x00"
    await stream.write(b"\x05\x01" + methods, timeout=timeout)
    version, method = await _read_exactly(stream, 2, timeout)
    if version != 5 or method == 0xFF or method != methods[0]:
        raise SocksError(f"SOCKS proxy refused the authentication method (answered {version}/{method})")
    if method == 2:
        user, pwd = (username or "").encode(), (password or "").encode()
        await stream.write(b"\x01" + bytes([len(user)]) + user + bytes([len(pwd)]) + pwd, timeout=timeout)
        _, status = await _read_exactly(stream, 2, timeout)
        if status != 0:
            raise SocksError("SOCKS proxy rejected the username/password")
    try:
        ip = ipaddress.ip_address(host)
        address = (b"\x01" + ip.packed) if ip.version == 4 else (b"\x04" + ip.packed)
    except ValueError:
        name = host.encode("idna")
        address = b"\x03" + bytes([len(name)]) + name  # ATYP domain: the proxy resolves it
    await stream.write(b"\x05\x01\x00" + address + struct.pack(">H", port), timeout=timeout)
    version, reply, _, atyp = await _read_exactly(stream, 4, timeout)
    if reply != 0:
        raise SocksError(f"SOCKS proxy could not connect to {host}:{port}: "
                         f"{SOCKS_ERRORS.get(reply, f'error {reply}')}")
    skip = {1: 4, 4: 16}.get(atyp)
    if skip is None:
        (length,) = await _read_exactly(stream, 1, timeout)
        skip = length
    await _read_exactly(stream, skip + 2, timeout)


class SocksBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend whose every TCP connection is a SOCKS5 tunnel through one proxy."""

    def __init__(self, proxy: str):
        parts = urlsplit(proxy)
        self.proxy_host, self.proxy_port = parts.hostname or "127.0.0.1", parts.port or 1080
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else ("" if parts.username else None)
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Any = None):
        try:
            stream = await self._inner.connect_tcp(self.proxy_host, self.proxy_port, timeout=timeout)
        except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as exc:
            raise SocksError(f"SOCKS proxy {self.proxy_host}:{self.proxy_port} is unreachable ({exc}); "
                             "nothing was sent directly") from exc
        try:
            await socks5_connect(stream, host, port, self.username, self.password, timeout)
        except BaseException:
            await stream.aclose()
            raise
        return stream

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None):
        raise SocksError("unix sockets are not used")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class SocksDownloadHandler(HttpxDownloadHandler):
    """Scrapy's httpx handler with one client per proxy URL (credentials included) over `SocksBackend`."""

    experimental = False  # the part we use (one request, streamed body, caps) is the stable core

    def _make_client(self, proxy_url: str | None = None) -> httpx.AsyncClient:
        client = super()._make_client(None)
        if proxy_url:
            proxy_url = proxy_url.removeprefix("nw+")
            transport = client._transport  # httpx keeps its transport here; we only swap its pool
            transport._pool = httpcore.AsyncConnectionPool(  # type: ignore[attr-defined]
                ssl_context=self._ssl_context, max_connections=self._pool_size_total or None,
                max_keepalive_connections=self._pool_size_total or None, keepalive_expiry=30,
                network_backend=SocksBackend(proxy_url))
        return client

    def _extract_proxy_url_with_creds(self, request: Request) -> str | None:
        # a private scheme: the base class would look for httpx's own SOCKS extra, which we do not use
        proxy = request.meta.get("nw_socks")
        return f"nw+{proxy}" if proxy else None

    @staticmethod
    def _build_base_response_args(response: httpx.Response, request: Request, headers: Any) -> Any:
        return {"status": response.status_code, "url": request.url, "headers": headers, "certificate": None,
                "ip_address": None, "protocol": response.http_version}


# sub-resources a rendered page may not load: heavy, and not what evidence is about
BLOCKED_RESOURCES = {"image", "media", "font", "websocket", "eventsource", "manifest", "texttrack"}


class SizeCapExceeded(Exception):
    """A body larger than the size cap once decompressed (gzip bomb)."""


def decoded_body(response: Response, limit: int) -> bytes:
    """The body with its Content-Encoding undone, never more than `limit` bytes (0: no cap)."""
    encoding = (response.headers.get(b"Content-Encoding") or b"").decode("latin-1").strip().lower()
    body = response.body
    if encoding in ("", "identity"):
        out = body
    elif encoding in ("gzip", "x-gzip", "deflate"):
        inflater = zlib.decompressobj(47 if encoding != "deflate" else zlib.MAX_WBITS)
        out = inflater.decompress(body, (limit + 1) if limit else 0)
        if encoding == "deflate" and not out and body:  # raw deflate, as some servers send it
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            out = inflater.decompress(body, (limit + 1) if limit else 0)
    else:
        raise SizeCapExceeded(f"{response.url}: Content-Encoding {encoding!r} is not accepted in browser mode")
    if limit and len(out) > limit:
        raise SizeCapExceeded(f"{response.url}: body exceeds the {limit}-byte size cap once decompressed "
                              "(gzip bomb?); not rendered")
    return out


class GuardedDownloadHandler(BaseDownloadHandler):
    """http/https: browser requests to Playwright, proxied requests through SOCKS, the rest direct; an
    .onion request without a proxy fails here whatever any middleware did."""

    lazy = False

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        profile = crawler.settings.get("NARCOWATCH_PROFILE")
        self._proxy: str | None = crawler.settings.get("NARCOWATCH_PROXY")
        self._http = build_from_crawler(HTTP11DownloadHandler, crawler)
        self._socks: SocksDownloadHandler | None = (
            build_from_crawler(SocksDownloadHandler, crawler) if self._proxy else None)
        self._browser = None
        self._maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        if profile is not None and profile.fetch == "browser":
            from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

            self._browser = build_from_crawler(ScrapyPlaywrightDownloadHandler, crawler)

    async def download_request(self, request: Request) -> Response:
        host = (urlsplit(request.url).hostname or "").lower()
        if request.meta.get("playwright"):
            if self._browser is None:
                raise FailClosed("browser request in a crawl without browser mode")
            if host.endswith(".onion") and not self._proxy:
                raise FailClosed(f"{host}: onion host and no proxy configured; not fetched")
            return await self._browser_download(request)
        return await self._plain_download(request, host)

    async def _browser_download(self, request: Request) -> Response:
        """The document is fetched first over plain HTTP (same proxy, same caps on time and decompressed
        size), and only an HTML page within the caps is handed to Chromium, which gets it from memory: a
        50 MB page, a gzip bomb or a slow drip never reaches the browser. Redirects, errors and non-HTML
        answers go back to Scrapy as they are (redirect, retry and Retry-After middlewares handle them)."""
        headers = request.headers.copy()
        headers[b"Accept-Encoding"] = b"gzip, deflate"
        first = await self._plain_download(request.replace(headers=headers),
                                           (urlsplit(request.url).hostname or "").lower())
        ctype = (first.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        if first.status >= 300 or not ("html" in ctype or not ctype):
            return first
        limit = int(request.meta.get("download_maxsize") or self._maxsize or 0)
        body = decoded_body(first, limit)
        shown = [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in first.headers.items() for v in vs
                 if k.lower() not in (b"content-encoding", b"content-length", b"transfer-encoding")]
        document_url = request.url

        async def serve_document(page: Any, _request: Request) -> None:
            async def route(route: Any, pw_request: Any) -> None:
                if pw_request.url == document_url and pw_request.is_navigation_request():
                    await route.fulfill(status=first.status, headers=dict(shown), body=body)
                elif pw_request.resource_type == "document" or pw_request.resource_type in BLOCKED_RESOURCES:
                    await route.abort()  # the spider navigates, not the page; heavy media are not evidence
                else:
                    await route.fallback()  # to scrapy-playwright's handler and its egress check

            await page.route("**", route)

        request.meta["playwright_page_init_callback"] = serve_document
        return await self._browser.download_request(request)

    async def _plain_download(self, request: Request, host: str) -> Response:
        if request.meta.get("nw_socks"):
            assert self._socks is not None
            return await self._socks.download_request(request)
        if self._proxy or host.endswith(".onion"):
            # a proxied site never goes direct, whatever path a request took to get here
            raise FailClosed(f"{request.url}: would leave without the site's proxy; not fetched")
        return await self._http.download_request(request)

    async def close(self) -> None:
        await self._http.close()
        if self._socks:
            await self._socks.close()
        if self._browser:
            await self._browser.close()
