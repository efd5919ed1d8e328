"""Every hostile behaviour of the Trapdoor site is served as documented."""

from __future__ import annotations

import http.client
import socket
import time
import tracemalloc
import zlib

import pytest
from parsel import Selector

from testbed.server import Testbed
from testbed.sites import hostile
from testbed.world import DEFAULT_SEED

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def tb():
    with Testbed(seed=DEFAULT_SEED) as bed:
        yield bed


def conn(tb) -> http.client.HTTPConnection:
    port = int(tb.url("hostile").rsplit(":", 1)[1])
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)


def fetch(tb, path: str) -> http.client.HTTPResponse:
    c = conn(tb)
    c.request("GET", path)
    return c.getresponse()


def test_calendar_trap_is_endless(tb):
    path, seen = "/calendar/2026/09", set()
    for _ in range(30):
        sel = Selector(text=fetch(tb, path).read().decode())
        path = sel.css("a[rel=next]::attr(href)").get()
        assert path not in seen
        seen.add(path)
    assert path == "/calendar/2029/03"
    day = Selector(text=fetch(tb, "/calendar/2026/09/28").read().decode())
    assert "/calendar/2026/09/29" in day.css("a::attr(href)").getall()


def test_pagination_trap_is_endless(tb):
    body = fetch(tb, "/catalog?page=123456").read().decode()
    sel = Selector(text=body)
    assert sel.css("a[rel=next]::attr(href)").get() == "/catalog?page=123457&sort=asc"
    assert len(sel.css("a::attr(href)").getall()) == 3


def test_redirect_loop(tb):
    a = fetch(tb, "/loop/a")
    assert a.status == 302 and a.getheader("Location") == "/loop/b"
    b = fetch(tb, "/loop/b")
    assert b.status == 302 and b.getheader("Location") == "/loop/a"
    out = fetch(tb, "/redirect-out")
    assert out.status == 302 and out.getheader("Location").startswith("http://203.0.113.7")


def test_50_mb_page_is_streamed(tb):
    tracemalloc.start()
    r = fetch(tb, "/huge")
    assert int(r.getheader("Content-Length")) == 50 * 1024 * 1024
    total = 0
    while chunk := r.read(1 << 20):
        total += len(chunk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert total == 50 * 1024 * 1024
    assert peak < 20 * 1024 * 1024  # server and client together never held the page
    r2 = fetch(tb, "/huge-stream")
    assert r2.getheader("Content-Length") is None
    assert len(r2.read(3 << 20)) == 3 << 20


def test_gzip_bomb(tb):
    r = fetch(tb, "/bomb")
    assert r.getheader("Content-Encoding") == "gzip"
    wire = int(r.getheader("Content-Length"))
    assert wire < 2 * 1024 * 1024
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    compressed = r.read(64 * 1024)
    out = d.decompress(compressed, 64 * 1024 * 1024)
    assert len(out) > 60 * 1024 * 1024  # 64 KiB on the wire already inflates to ~63 MiB
    r.close()
    header, piece, end, size = hostile._bomb_parts()
    assert size == wire and hostile.BOMB_CHUNK * hostile.BOMB_CHUNKS == 1 << 30


@pytest.mark.slow
def test_gzip_bomb_is_one_valid_member(tb):
    body = fetch(tb, "/bomb").read()
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    total = 0
    buf = body
    while buf:
        total += len(d.decompress(buf, 1 << 26))
        buf = d.unconsumed_tail
    total += len(d.flush())
    assert total == 1 << 30 and d.eof


def test_slow_drip(tb):
    port = int(tb.url("hostile").rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"GET /drip HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        data, start = b"", time.monotonic()
        while time.monotonic() - start < 3:
            chunk = s.recv(4096)
            assert chunk, "the drip must not end early"
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert f"Content-Length: {hostile.DRIP_BYTES}".encode() in head
    assert 2 <= len(body) <= 12  # a handful of bytes in ~3 s of a 1,200-byte page


def test_malformed_html(tb):
    body = fetch(tb, "/malformed").read()
    assert b"\x00" in body and b"<!-- a comment that never closes -- >" in body
    assert b"</title></title>" in body and b'href="/calendar/2026/09>' in body
    links = Selector(text=body.decode()).css("a::attr(href)").getall()
    assert "/catalog?page=1" in links


def test_wrong_charset(tb):
    r = fetch(tb, "/charset")
    assert "charset=utf-8" in r.getheader("Content-Type")
    body = r.read()
    assert b'<meta charset="utf-8">' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert hostile.CHARSET_TEXT in body.decode("cp1252")
    r2 = fetch(tb, "/charset-header")
    assert "iso-8859-1" in r2.getheader("Content-Type")
    assert hostile.CHARSET_TEXT in r2.read().decode("utf-8")


def test_429_with_retry_after(tb):
    time.sleep(hostile.LIMIT_INTERVAL)
    assert fetch(tb, "/limited/1").status == 200
    r = fetch(tb, "/limited/2")
    assert r.status == 429 and r.getheader("Retry-After") == str(hostile.RETRY_AFTER)
    time.sleep(int(r.getheader("Retry-After")) + 0.05)
    assert fetch(tb, "/limited/2").status == 200
    log = [e for e in tb.request_log("hostile") if e["path"].startswith("/limited/")]
    assert [e["status"] for e in log[-3:]] == [200, 429, 200]


def test_intermittent_503(tb):
    statuses = [fetch(tb, "/flaky/7").status for _ in range(4)]
    assert statuses == [503, 200, 503, 200]


def test_links_to_non_loopback_hosts(tb):
    body = fetch(tb, "/external").read().decode()
    sel = Selector(text=body)
    urls = sel.css("a::attr(href), img::attr(src), link::attr(href), iframe::attr(src), form::attr(action)").getall()
    outside = [u for u in urls if not u.startswith("/") or u.startswith("//")]
    assert len(outside) >= 8 and all("127.0.0.1" not in u and "localhost" not in u for u in outside)
    assert "http://203.0.113.7/" in fetch(tb, "/meta-refresh").read().decode()
    index = Selector(text=fetch(tb, "/").read().decode()).css("ul.traps a::attr(href)").getall()
    assert {"/bomb", "/huge", "/drip", "/loop/a", "/calendar/2026/09", "/catalog?page=1"} <= set(index)
