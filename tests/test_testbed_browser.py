"""Market B: no listing for a plain HTTP client, every listing once chromium runs its JavaScript."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

import pytest

import testbed
from testbed.server import Testbed
from testbed.world import DEFAULT_SEED

CHROMIUM = os.environ.get("NARCOWATCH_CHROMIUM") or "/usr/lib/chromium/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def tb():
    with Testbed(seed=DEFAULT_SEED, day=1) as bed:
        yield bed


@pytest.fixture(scope="module")
def listings_b():
    return [r for r in testbed.answer_key(DEFAULT_SEED, 1)["listings"] if r["site"] == "market_b"]


def _get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.mark.timeout(60)
def test_plain_http_sees_no_listing(tb, listings_b):
    base = tb.url("market_b")
    pages = ["/", "/all", "/all?p=2", "/c/weed-hash"] + [r["url"] for r in listings_b[:20]] + \
        [r["vendor_url"] for r in listings_b[:5]]
    titles = [r["title"] for r in listings_b]
    for p in pages:
        status, body = _get(base + p)
        text = body.decode()
        assert status == 200
        assert not any(t in text for t in titles), p
        assert r'class="card"' not in text and "item-title" not in text
    # the API wants the token the page's script computes
    status, body = _get(base + "/api/v1/listings?page=1")
    assert status == 403 and "X-Bazaar-Token" in json.loads(body)["error"]


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_chromium_renders_every_listing(tb, listings_b):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    base = tb.url("market_b")
    want = {r["external_id"]: r for r in listings_b}
    seen: dict[str, str] = {}
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            url = base + "/all"
            pages = 0
            while url:
                page.goto(url)
                page.wait_for_selector("body[data-ready]", timeout=15000)
                cards = page.eval_on_selector_all(
                    "div.card", "els => els.map(e => [e.dataset.id, e.querySelector('.item-title').textContent])")
                seen.update(dict(cards))
                nxt = page.query_selector("nav.pager a.next")
                url = base + nxt.get_attribute("href") if nxt else None
                pages += 1
            # one item page in full: displayed values are the key's values
            hostile = next((r for r in listings_b if "<" in r["title"]), listings_b[0])
            page.goto(base + hostile["url"])
            page.wait_for_selector("body[data-ready]", timeout=15000)
            assert page.inner_text("h1.item-title") == hostile["title"]
            assert page.inner_text("span.price") == hostile["price"]
            assert page.inner_text("span.fiat") == hostile["price_fiat"]
            assert page.inner_text("dd.ships-to") == ", ".join(hostile["ships_to"])
            assert " ".join(page.inner_text("div.description").split()) == hostile["description"]
            # a shop page (a hostile handle if market B has one)
            vendors = [v for v in testbed.answer_key(DEFAULT_SEED, 1)["vendors"] if v["site"] == "market_b"]
            shop = next((v for v in vendors if "<" in v["handle"]), vendors[0])
            page.goto(base + shop["url"])
            page.wait_for_selector("body[data-ready]", timeout=15000)
            assert page.inner_text("h1.shop-name") == shop["handle"]
            assert page.inner_text("dd.listing-count") == str(shop["listings"])
            assert " ".join(page.inner_text("div.terms").split()) == shop["terms"]
            if shop["pgp_key"]:
                assert page.text_content("pre.pgp") == shop["pgp_key"]
            for kind, value in shop["contacts"].items():
                assert page.inner_text(f"dd.contact-{kind}") == value
            assert len(page.query_selector_all("div.card")) == shop["listings"]
        finally:
            browser.close()
    assert pages > 10
    assert set(seen) == set(want)
    assert all(seen[i] == want[i]["title"] for i in want)
    assert dialogs == []  # payloads were shown as text, never executed
