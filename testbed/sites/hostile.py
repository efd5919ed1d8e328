"""The hostile site ("Trapdoor"): everything a crawler must survive. See docs/testbed.md for the list.

Big bodies are generated while they are sent (never held in memory or on disk): the 50 MiB page repeats
a 64 KiB block; the gzip bomb repeats one deflate block of 1 MiB of spaces, cut with a full flush so
every repetition compresses to the same bytes, inside a single valid gzip member (CRC and size trailer).
"""

from __future__ import annotations

import functools
import struct
import threading
import time
import zlib
from collections.abc import Iterator

from testbed import vocab
from testbed.httpbase import Request, Response, esc, html_response
from testbed.sites.common import State, not_found
from testbed.world import START

HUGE_BYTES = 50 * 1024 * 1024
BOMB_CHUNK = 1024 * 1024
BOMB_CHUNKS = 1024  # 1 GiB once decompressed
DRIP_BYTES = 1200
DRIP_INTERVAL = 0.5  # seconds per byte: ten minutes for the whole body
LIMIT_INTERVAL = 1.0  # /limited/: at most one request per second per client
RETRY_AFTER = 1


@functools.cache
def _bomb_parts() -> tuple[bytes, bytes, bytes, int]:
    chunk = b" " * BOMB_CHUNK
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    assert piece == again, "deflate pieces must repeat byte for byte"
    tail = c.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(BOMB_CHUNKS):
        crc = zlib.crc32(chunk, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03"
    trailer = struct.pack("<II", crc, (BOMB_CHUNK * BOMB_CHUNKS) & 0xFFFFFFFF)
    return header, piece, tail + trailer, len(header) + len(piece) * BOMB_CHUNKS + len(tail) + len(trailer)


def bomb_body() -> Iterator[bytes]:
    header, piece, end, _n = _bomb_parts()
    yield header
    for _ in range(BOMB_CHUNKS):
        yield piece
    yield end


def huge_body() -> Iterator[bytes]:
    head = b"<!DOCTYPE html><html><head><title>Catalogue (complete)</title></head><body>\n"
    row = b'<p class="row">Filler row of an endless catalogue <a href="/catalog?page=1">catalogue</a></p>\n'
    block = (row * (65536 // len(row) + 1))[:65536]
    sent = len(head)
    yield head
    while sent + len(block) <= HUGE_BYTES:
        yield block
        sent += len(block)
    yield b" " * (HUGE_BYTES - sent)


def drip_body() -> Iterator[bytes]:
    text = (b"<html><body><p>" + b"slow " * 300)[:DRIP_BYTES]
    for i in range(DRIP_BYTES):
        yield text[i:i + 1]
        time.sleep(DRIP_INTERVAL)


MALFORMED = """<html><head><title>Broken page</title></title></head><body>
<div class="listing"><h2>Blue Dream 3.5g<h2><p class=price>$35.00</td>
<a href=/catalog?page=1>unquoted link</a> <a href="/calendar/2026/09>broken quote</a>
<table><tr><td>cell<td>cell two</table></div></div></div></span>
<p>text after <b><i>misnested</b></i> tags & a bare ampersand < and a lone less-than
<script>document.write("<a href='/generated'>js link</a>")</script>
<img src="data:image/png;base64,AAAA" alt=">">
<p>a NUL byte: \x00 and a form feed \x0c here
<ul><li>one<li>two<li>three</ul></ul></ul>
<a href="javascript:alert(1)">javascript link</a>
<!-- a comment that never closes -- >
<p>hidden after the comment</p>
"""

CHARSET_TEXT = "Crème brûlée – 25€ · Größe: groß · Señor café · «Ölfass»"


class Hostile:
    site_id = "hostile"

    def __init__(self, state: State) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._last_ok: dict[str, float] = {}
        self._flaky: dict[str, int] = {}

    def handle(self, req: Request) -> Response:
        p = req.path
        if p == "/":
            return self.index()
        if p.startswith("/calendar"):
            return self.calendar(p)
        if p == "/catalog":
            return self.catalog(req.int_arg("page"), req.arg("sort", "asc"))
        if p == "/loop/a":
            return Response(302, b"", headers=[("Location", "/loop/b")])
        if p == "/loop/b":
            return Response(302, b"", headers=[("Location", "/loop/a")])
        if p == "/redirect-out":
            return Response(302, b"", headers=[("Location", "http://203.0.113.7/landing")])
        if p == "/huge":
            return Response(200, huge_body(), length=HUGE_BYTES)
        if p == "/huge-stream":
            return Response(200, huge_body())  # no Content-Length: ends when the connection closes
        if p == "/bomb":
            return Response(200, bomb_body(), headers=[("Content-Encoding", "gzip")], length=_bomb_parts()[3])
        if p == "/drip":
            return Response(200, drip_body(), length=DRIP_BYTES)
        if p == "/malformed":
            return Response(200, MALFORMED.encode("utf-8"))
        if p == "/charset":
            body = (f'<html><head><meta charset="utf-8"><title>Charset</title></head><body><p class="text">'
                    f"{CHARSET_TEXT}</p></body></html>").encode("cp1252", errors="replace")
            return Response(200, body, "text/html; charset=utf-8")
        if p == "/charset-header":
            body = (f'<html><head><meta charset="utf-8"><title>Charset 2</title></head><body><p class="text">'
                    f"{CHARSET_TEXT}</p></body></html>").encode()
            return Response(200, body, "text/html; charset=iso-8859-1")
        if p.startswith("/limited/"):
            return self.limited(req)
        if p.startswith("/flaky/"):
            return self.flaky(req)
        if p == "/external":
            return self.external()
        if p == "/meta-refresh":
            return html_response('<html><head><meta http-equiv="refresh" content="0;url=http://203.0.113.7/"></head>'
                                 "<body>Redirecting...</body></html>")
        return not_found(p)

    def index(self) -> Response:
        links = ["/calendar/2026/09", "/catalog?page=1", "/loop/a", "/redirect-out", "/huge", "/huge-stream",
                 "/bomb", "/drip", "/malformed", "/charset", "/charset-header", "/limited/1", "/limited/2",
                 "/flaky/1", "/flaky/2", "/external", "/meta-refresh"]
        items = "".join(f'<li><a href="{h}">{h}</a></li>' for h in links)
        ext = "".join(f'<li><a href="{esc(h)}">{esc(h)}</a></li>' for h in vocab.EXTERNAL_HOSTS)
        return html_response(f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Trapdoor</title></head><body>"
                             f"<h1>Trapdoor</h1><ul class=\"traps\">{items}</ul><ul class=\"external\">{ext}</ul>"
                             "</body></html>")

    def calendar(self, p: str) -> Response:
        parts = [x for x in p.split("/")[2:] if x]
        try:
            y, m = int(parts[0]), int(parts[1])
            d = int(parts[2]) if len(parts) > 2 else None
        except (IndexError, ValueError):
            y, m, d = START.year, START.month, None
        prev_y, prev_m = (y, m - 1) if m > 1 else (y - 1, 12)
        next_y, next_m = (y, m + 1) if m < 12 else (y + 1, 1)
        days = "".join(f'<a href="/calendar/{y}/{m:02d}/{n:02d}">{n}</a> ' for n in range(1, 29))
        extra = ""
        if d is not None:
            extra = (f'<p>Events on {y}-{m:02d}-{d:02d}: none. <a href="/calendar/{y}/{m:02d}/{d + 1:02d}">next day</a> '
                     f'<a href="/calendar/{y + 1}/{m:02d}/{d:02d}">same day next year</a></p>')
        return html_response(f"<html><body><h1>Events {y}-{m:02d}</h1>{extra}"
                             f'<a rel="prev" href="/calendar/{prev_y}/{prev_m:02d}">previous month</a> '
                             f'<a rel="next" href="/calendar/{next_y}/{next_m:02d}">next month</a><div>{days}</div>'
                             "</body></html>")

    def catalog(self, page: int, sort: str) -> Response:
        items = "".join(f"<li>Item {page * 10 + i}</li>" for i in range(10))
        other = "desc" if sort == "asc" else "asc"
        return html_response(f"<html><body><h1>Catalogue page {page}</h1><ul>{items}</ul>"
                             f'<a rel="next" href="/catalog?page={page + 1}&amp;sort={sort}">next</a> '
                             f'<a href="/catalog?page={page}&amp;sort={other}">sort {other}</a> '
                             f'<a href="/catalog?page={page + 1}&amp;sort={sort}&amp;sid={page * 7919 % 10007}">next (session)</a>'
                             "</body></html>")

    def limited(self, req: Request) -> Response:
        now = time.monotonic()
        with self._lock:
            last = self._last_ok.get(req.client)
            if last is not None and now - last < LIMIT_INTERVAL:
                return html_response("<h1>429 Too Many Requests</h1><p>Slow down.</p>", 429,
                                     headers=[("Retry-After", str(RETRY_AFTER))])
            self._last_ok[req.client] = now
        return html_response(f"<html><body><h1>Rate-limited page</h1><p>{esc(req.path)} served.</p></body></html>")

    def flaky(self, req: Request) -> Response:
        with self._lock:
            n = self._flaky.get(req.path, 0) + 1
            self._flaky[req.path] = n
        if n % 2 == 1:  # 1st, 3rd, 5th... request of each flaky path fails
            return html_response("<h1>503 Service Unavailable</h1>", 503)
        return html_response(f"<html><body><h1>Flaky page</h1><p>{esc(req.path)} served on attempt {n}.</p></body></html>")

    def external(self) -> Response:
        links = "".join(f'<li><a href="{esc(h)}">{esc(h)}</a></li>' for h in vocab.EXTERNAL_HOSTS)
        return html_response(
            "<html><head><link rel=\"stylesheet\" href=\"http://203.0.113.7/style.css\"></head><body>"
            f"<h1>Elsewhere</h1><ul>{links}</ul><img src=\"http://203.0.113.7/pixel.gif\" alt=\"\">"
            "<iframe src=\"http://example.com/frame\"></iframe>"
            "<form action=\"http://198.51.100.23/login\" method=\"post\"><input name=\"u\"></form>"
            "<a href=\"//example.net/protocol-relative\">protocol-relative</a></body></html>")
