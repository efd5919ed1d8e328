"""The served sites show exactly what the answer key says; same seed, same bytes; day switching."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest
from parsel import Selector

import testbed
from testbed.server import Testbed
from testbed.socks import socks_http_get
from testbed.world import DEFAULT_SEED

pytestmark = pytest.mark.timeout(120)


def norm(text: str | None) -> str:
    return " ".join((text or "").split())


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def text_of(sel: Selector, css: str) -> str:
    return norm(sel.css(css).xpath("string()").get())


def onion_get(tb: Testbed, path: str) -> tuple[int, bytes]:
    raw = socks_http_get(("127.0.0.1", tb.proxy.port), tb.onion_host, path)
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.fixture(scope="module")
def tb():
    with Testbed(seed=DEFAULT_SEED, day=1) as bed:
        yield bed


@pytest.fixture(scope="module")
def key():
    return testbed.answer_key(DEFAULT_SEED, 1)


def _sample(records: list[dict], site: str, n: int = 25) -> list[dict]:
    mine = [r for r in records if r["site"] == site]
    hostile = [r for r in mine if "<" in r["title"] or "<" in r["description"] or "<" in r["vendor"]]
    return mine[:: max(1, len(mine) // n)] + hostile[:5]


def test_servers_bind_loopback_free_ports_and_stop():
    with Testbed(seed=DEFAULT_SEED) as bed:
        ports = {s: int(bed.url(s).rsplit(":", 1)[1]) for s in ("market_a", "market_b", "forum", "hostile")}
        assert all(bed.url(s).startswith("http://127.0.0.1:") for s in ports)
        assert len(set(ports.values())) == 4
        assert get(bed.url("market_a") + "/")[0] == 200
    for port in ports.values():
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


# Fetches `paths` of every site from a Testbed and prints {site: {path: sha256}}; run in a fresh interpreter
# (its own World, another hash seed) so that nothing cached or hash-ordered in this process can make the
# two sides agree.
_DIGEST_SCRIPT = r"""
import hashlib, json, sys, urllib.error, urllib.request
from testbed.server import Testbed
from testbed.socks import socks_http_get

seed, paths = int(sys.argv[1]), json.loads(sys.argv[2])

def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

out = {}
with Testbed(seed=seed, day=1) as tb:
    for site, ps in paths.items():
        for p in ps:
            if site == "market_c":
                raw = socks_http_get(("127.0.0.1", tb.proxy.port), tb.onion_host, p)
                head, _, body = raw.partition(b"\r\n\r\n")
                status = int(head.split()[1])
            else:
                status, body = get(tb.url(site) + p)
            out.setdefault(site, {})[p] = f"{status} {hashlib.sha256(body).hexdigest()}"
print(json.dumps(out, sort_keys=True))
"""


def _site_digests(seed: int, paths: dict[str, list[str]], hash_seed: str) -> dict[str, dict[str, str]]:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    proc = subprocess.run([sys.executable, "-c", _DIGEST_SCRIPT, str(seed), json.dumps(paths)], cwd=root,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_same_seed_gives_byte_identical_sites(key):
    """Two fresh interpreters with different hash seeds serve the same bytes for pages of every site (index
    pages, listings, vendors, threads, the JSON API of market B, the onion market and the hostile site's
    deterministic pages); another seed serves other bytes."""
    a = [r for r in key["listings"] if r["site"] == "market_a"]
    b = [r for r in key["listings"] if r["site"] == "market_b"]
    c = [r for r in key["listings"] if r["site"] == "market_c"]
    paths = {
        "market_a": ["/", "/category/cannabis?page=2", "/vendors", "/robots.txt"] + [r["url"] for r in a[::60]]
        + [v["url"] for v in key["vendors"] if v["site"] == "market_a"][::12],
        "market_b": ["/", "/all?p=3", "/static/app.js"] + [r["url"] for r in b[::90]],
        "market_c": ["/"] + [r["url"] for r in c[::40]],
        "forum": ["/", "/board/lounge"] + [f"/thread/{t['thread_id']}" for t in key["threads"][::15]],
        "hostile": ["/", "/calendar/2026/09/03", "/catalog?page=4", "/malformed", "/charset", "/external"],
    }
    first = _site_digests(DEFAULT_SEED, paths, "1")
    second = _site_digests(DEFAULT_SEED, paths, "4242")
    assert sum(len(v) for v in first.values()) == sum(len(v) for v in paths.values())
    assert first == second
    assert all(d.startswith("200 ") for site in ("market_a", "market_b", "forum") for d in first[site].values())
    other = _site_digests(99, {"market_a": ["/"], "forum": ["/"]}, "1")
    assert other["market_a"]["/"] != first["market_a"]["/"] and other["forum"]["/"] != first["forum"]["/"]


def test_market_a_listing_pages_match_the_key(tb, key):
    for r in _sample(key["listings"], "market_a"):
        status, body = get(tb.url("market_a") + r["url"])
        assert status == 200, r["url"]
        sel = Selector(text=body.decode())
        assert text_of(sel, "h1.listing-title") == r["title"]
        assert text_of(sel, "td.price") == r["price"]
        assert text_of(sel, ".quantity .qty") == r["quantity"] and text_of(sel, ".quantity .unit") == r["unit"]
        assert int(text_of(sel, "td.stock")) == r["stock"]
        assert text_of(sel, "td.ships-from") == r["ships_from"]
        assert [norm(x) for x in sel.css("ul.ships-to li").xpath("string()").getall()] == r["ships_to"]
        assert text_of(sel, "a.vendor") == r["vendor"]
        assert sel.css("a.vendor::attr(href)").get() == r["vendor_url"]
        assert text_of(sel, "div.description") == r["description"]
        assert [norm(x) for x in sel.css("nav.breadcrumb a").xpath("string()").getall()] == r["breadcrumb"]
        options = [norm(x) for x in sel.css("select[name=option] option").xpath("string()").getall()]
        assert options == [f'{o["quantity"]} {o["unit"]} - {o["price"]}' for o in r["price_options"]]
        for payload in ("<script>", "<img src=x", "<svg onload"):
            assert payload.encode() not in body.split(b"<main>")[1], "payload must be escaped"


def test_market_a_vendor_pages_match_the_key(tb, key):
    vendors = [v for v in key["vendors"] if v["site"] == "market_a"]
    for v in vendors[::5] + [x for x in vendors if "<" in x["handle"]]:
        status, body = get(tb.url("market_a") + v["url"])
        assert status == 200, v["url"]
        sel = Selector(text=body.decode())
        assert text_of(sel, "h1.vendor-name") == v["handle"]
        contacts = {c.attrib["data-kind"]: norm(c.css(".value").xpath("string()").get())
                    for c in sel.css("li.contact")}
        assert contacts == v["contacts"]
        assert text_of(sel, "div.terms") == v["terms"]
        assert all(w in v["terms"] for w in v["wallets"])
        if v["pgp_key"]:
            assert sel.css("pre.pgp-key::text").get() == v["pgp_key"]
        fpr = sel.css("p.fingerprint code::text").get()
        assert (fpr.replace(" ", "") if fpr else None) == v["pgp_fingerprint"]
        fb = v["feedback"]
        assert [int(text_of(sel, f"dd.feedback .{k}")) for k in ("positive", "neutral", "negative")] == \
            [fb["positive"], fb["neutral"], fb["negative"]]


def test_market_a_pagination_reaches_every_listing_of_a_category(tb, key):
    want = {r["url"] for r in key["listings"] if r["site"] == "market_a" and r["breadcrumb"][1] == "Cannabis"}
    seen: set[str] = set()
    url, pages = tb.url("market_a") + "/category/cannabis", 0
    while url:
        sel = Selector(text=get(url)[1].decode())
        seen.update(sel.css("table.listings a.title::attr(href)").getall())
        nxt = sel.css("a[rel=next]::attr(href)").get()
        url = tb.url("market_a") + nxt if nxt else None
        pages += 1
    assert pages > 3 and seen == want


def test_forum_threads_match_the_key(tb, key):
    long_threads = [t for t in key["threads"] if t["pages"] >= 2][:3]
    assert long_threads
    for t in long_threads + key["threads"][:: len(key["threads"]) // 5]:
        want = [p for p in key["posts"] if p["thread_id"] == t["thread_id"]]
        got = []
        for page in range(1, t["pages"] + 1):
            sel = Selector(text=get(f'{tb.url("forum")}/thread/{t["thread_id"]}?page={page}')[1].decode())
            for art in sel.css("article.post"):
                got.append({
                    "post_id": int(art.attrib["id"][1:]), "author": text_of(art, ".post-author"),
                    "posted_at": art.css("time::attr(datetime)").get(), "text": text_of(art, ".post-text"),
                    "quotes": [{"post_id": int(q.attrib["data-post"]), "author": norm(q.css("cite::text").get())[:-len(" wrote:")],
                                "text": text_of(q, ".quote-text")} for q in art.css("blockquote.quote")],
                    "signature": text_of(art, ".signature") or None, "lang": art.attrib["lang"]})
        assert got == [{k: p[k] for k in ("post_id", "author", "posted_at", "text", "quotes", "signature", "lang")}
                       for p in want]


def test_market_c_pages_match_the_key_through_the_proxy(tb, key):
    for r in _sample(key["listings"], "market_c", 8):
        status, body = onion_get(tb, r["url"])
        assert status == 200
        sel = Selector(text=body.decode())
        assert text_of(sel, "h2.product-title") == r["title"]
        assert text_of(sel, "span.price") == r["price"] and text_of(sel, "span.fiat") == r["price_fiat"]
        assert text_of(sel, "td.stock") == str(r["stock"])
        assert text_of(sel, "div.info") == r["description"]
        assert text_of(sel, "td.destinations") == "; ".join(r["ships_to"])


def test_external_links_on_every_site(tb, key):
    pages = [get(tb.url("market_a") + "/")[1], get(tb.url("market_b") + "/")[1], get(tb.url("forum") + "/")[1],
             get(tb.url("hostile") + "/external")[1], onion_get(tb, "/")[1]]
    for body in pages:
        hrefs = Selector(text=body.decode("utf-8", "replace")).css("a::attr(href)").getall()
        assert any(h.startswith(("http://203.0.113.7", "http://example.com")) for h in hrefs)


def test_set_day_switches_every_site_server_side(key):
    key2 = testbed.answer_key(DEFAULT_SEED, 2)
    change = next(c for c in key2["changes"]["changed"] if c["field"] == "price" and c["site"] == "market_a")
    gone = next(v for v in key2["changes"]["vanished_listings"] if v["site"] == "market_a")
    url = next(r["url"] for r in key2["listings"] if r["external_id"] == change["external_id"])
    gone_url = next(r["url"] for r in key["listings"] if r["external_id"] == gone["external_id"])
    with Testbed(seed=DEFAULT_SEED, day=1) as bed:
        def price() -> str:
            return text_of(Selector(text=get(bed.url("market_a") + url)[1].decode()), "td.price")
        assert price() == change["before"] and get(bed.url("market_a") + gone_url)[0] == 200
        bed.set_day(2)
        assert price() == change["after"] and get(bed.url("market_a") + gone_url)[0] == 404
        assert b"2026-09-29" in get(bed.url("forum") + "/")[1]
        down_day = next(d for d in range(1, 15) if not testbed.answer_key(DEFAULT_SEED, d)["sites"][1]["up"])
        bed.set_day(down_day)
        assert get(bed.url("market_b") + "/")[0] == 503
        with pytest.raises(ValueError):
            bed.set_day(99)


def test_request_log_per_site(tb):
    n = len(tb.request_log("hostile"))
    get(tb.url("hostile") + "/catalog?page=5")
    entries = tb.request_log("hostile")[n:]
    assert [e["path"] for e in entries] == ["/catalog?page=5"]
    assert entries[0]["client"] == "127.0.0.1" and entries[0]["status"] == 200 and entries[0]["ts"] > 0
