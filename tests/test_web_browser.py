"""The web app in headless chromium (Playwright) against a real server on a free 127.0.0.1 port: an
investigator signs in, searches, opens a cluster, confirms a link and exports; the testbed's script-injection
payloads render as inert text and no dialog ever opens. Screenshots of every page land in the test's
temporary folder (`screens/`), for people to look at."""

from __future__ import annotations

import csv
import io
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from tests import web_fixtures as wf

CHROMIUM = os.environ.get("NARCOWATCH_CHROMIUM") or "/usr/lib/chromium/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no chromium at {CHROMIUM}")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



@pytest.fixture(scope="module", autouse=True)
def _cheap_argon2():
    with wf.cheap_password_hashing():
        yield

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn
    from sqlalchemy.orm import Session

    from storage.db import make_engine
    from storage.evidence import EvidenceStore
    from storage.migrate import upgrade
    from web.app import create_app

    root = tmp_path_factory.mktemp("browser")
    engine = make_engine(f"sqlite:///{root / 'nw.db'}")
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        world = wf.build(session, EvidenceStore(root / "evidence"), root / "reports")
    app = create_app(engine, root / "evidence", root, root / "reports")
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the web server did not start within 20 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", world, root
    srv.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


class Tab:
    """A signed-in page that records every dialog and console error, and screenshots on request."""

    def __init__(self, browser, base: str, username: str, shots: Path):
        self.context = browser.new_context(accept_downloads=True, viewport={"width": 1440, "height": 900})
        self.page = self.context.new_page()
        self.base, self.shots = base, shots
        self.dialogs: list[str] = []
        self.foreign: list[str] = []  # any request leaving the app's origin (a payload phoning home)
        self.page.on("dialog", self._dialog)
        self.page.on("request", lambda r: None if r.url.startswith(base) or r.url.startswith("data:")
                     else self.foreign.append(r.url))
        self.page.goto(f"{base}/search")
        assert "/login" in self.page.url
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", wf.PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{base}/search")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def go(self, path: str, shot: str | None = None):
        response = self.page.goto(self.base + path)
        assert response.status == 200, (path, response.status)
        if shot:
            self.page.screenshot(path=str(self.shots / f"{shot}.png"), full_page=True)
        return response

    def no_live_payloads(self) -> None:
        """Nothing scraped became markup: no script, no img with a bogus src, no svg/iframe, no js link,
        no element with an event-handler attribute anywhere in the document."""
        page = self.page
        assert page.locator("script").count() == 0
        assert page.locator("img[src='x'], svg[onload], iframe, object, embed, [onerror], [onmouseover]").count() == 0
        assert page.locator("a[href^='javascript'], [src^='javascript']").count() == 0
        handlers = page.evaluate("""() => [...document.querySelectorAll('*')].flatMap(e =>
            [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))""")
        assert handlers == [], handlers
        # the prank handles' "<b>" / "<i>x</i>": markup from a vendor name would add these elements
        assert page.locator("main b:not(.kvp > b), main i").count() == 0


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screens")


def test_investigator_searches_opens_a_cluster_confirms_a_link_and_exports(server, browser, shots):
    base, world, _root = server
    tab = Tab(browser, base, "ivan", shots)
    page = tab.page
    page.screenshot(path=str(shots / "search-empty.png"), full_page=True)

    # search, with a filter from the sidebar
    page.fill("input[name=q]", "cocaine")
    page.select_option("select[name=site]", ["market_a", "market_c"])
    page.click("form#filters button[type=submit]")
    page.wait_for_url("**/search?*")
    rows = page.locator("table.grid tbody tr")
    assert rows.count() == 2
    assert "cocaine" in rows.first.inner_text().lower()
    page.screenshot(path=str(shots / "search-results.png"), full_page=True)

    # export the results as CSV
    with page.expect_download() as download:
        page.click("text=Export CSV")
    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert len(list(csv.reader(io.StringIO(content)))) == 3

    # the hostile listing renders as text
    page.fill("input[name=q]", "ketamine")
    page.click("form#filters button[type=submit]")
    page.wait_for_url("**/search?*q=ketamine*")
    assert wf.SCRIPT in page.locator("table.grid tbody").inner_text()
    page.click("table.grid tbody a >> nth=0")
    page.wait_for_url(f"**/listings/{world.listings['xss']}")
    assert wf.SCRIPT in page.locator("h1").inner_text() and wf.IMG in page.locator("h1").inner_text()
    assert wf.JS_URL in page.locator("code.url").first.inner_text()
    tab.no_live_payloads()

    # open the cluster from the vendor page of the listing with a real history
    tab.go(f"/listings/{world.listings['coke']}")
    page.click("text=cluster c-drgreen")
    page.wait_for_url(f"**/clusters/{world.cluster_id}")
    assert page.locator("table.grid").first.locator("tbody tr").count() == 3  # members on three sites
    link_row = page.locator(f"#link-{world.links['forum']}")
    assert "undecided" in link_row.inner_text()
    link_row.locator("input[name=note]").fill("same handle, posts about his own shop")
    link_row.locator("button.confirm").click()
    page.wait_for_url(f"**/clusters/{world.cluster_id}*")
    link_row = page.locator(f"#link-{world.links['forum']}")
    assert "confirmed" in link_row.inner_text() and "ivan" in link_row.inner_text()
    assert "same handle, posts about his own shop" in page.locator("table.grid").last.inner_text()
    tab.no_live_payloads()
    page.screenshot(path=str(shots / "cluster.png"), full_page=True)

    # export the link chart (GraphML) and the i2 CSV
    with page.expect_download() as download:
        page.click("text=Link chart (GraphML)")
    assert b"<graphml" in Path(download.value.path()).read_bytes()
    with page.expect_download() as download:
        page.click("text=i2 ANB (CSV)")
    assert "Entity1_ID" in Path(download.value.path()).read_text(encoding="utf-8-sig")

    assert tab.dialogs == [], f"a scraped payload ran: {tab.dialogs}"
    assert tab.foreign == [], f"a scraped payload made the browser fetch: {tab.foreign}"
    tab.context.close()


def test_every_page_renders_payloads_as_inert_text(server, browser, shots):
    base, world, _root = server
    tab = Tab(browser, base, "alice", shots)
    evil = world.vendors["evil" + wf.SCRIPT]
    pages = {
        "home": "/", "search-posts": "/search?kind=posts&q=scam", "listing": f"/listings/{world.listings['coke']}",
        "listing-hostile": f"/listings/{world.listings['xss']}", "vendor": f"/vendors/{world.vendors['DrGreen']}",
        "vendor-hostile": f"/vendors/{evil}", "thread": f"/threads/{world.thread_id}", "clusters": "/clusters",
        "cluster-hostile": "/clusters/c-evil", "sites": "/sites", "site": f"/sites/{world.sites['market_a']}",
        "reports": "/reports", "audit": "/admin/audit", "audit-verify": "/admin/audit/verify", "users": "/admin/users",
    }
    for name, path in pages.items():
        tab.go(path, shot=name)
        tab.no_live_payloads()
    # the hostile bodies themselves: as text, and a generated report with a script in it (sandboxed)
    tab.go(f"/pages/{world.pages['xss']}/text")
    assert "<script>alert('body')</script>" in tab.page.locator("body").inner_text()
    tab.go(f"/reports/{world.report_week}/report.html")
    tab.page.wait_for_timeout(300)
    assert tab.dialogs == [], f"a scraped payload ran: {tab.dialogs}"
    assert tab.foreign == [], f"a scraped payload made the browser fetch: {tab.foreign}"
    tab.go("/admin/audit/verify")
    assert "Hash chain intact" in tab.page.locator(".alert").inner_text()
    tab.context.close()


def test_login_page_and_refusals_in_the_browser(server, browser, shots):
    base, _world, _root = server
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/clusters")
    assert "/login" in page.url
    page.screenshot(path=str(shots / "login.png"))
    page.fill("input[name=username]", "dora")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "Wrong username or password" in page.locator(".error").inner_text()
    page.fill("input[name=username]", "dora")
    page.fill("input[name=password]", wf.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/clusters")
    assert "may not use this page" in page.locator(".error").inner_text()  # drug desk: reports only
    page.screenshot(path=str(shots / "forbidden.png"))
    context.close()


def test_the_testbeds_script_injection_content_renders_as_inert_text(server, browser, shots):
    """Every payload in testbed.vocab.PAYLOADS, in the testbed listings that carry it, the prank vendor
    handles and the forum posts and signatures: shown verbatim as text, never run, nothing fetched."""
    base, world, _root = server
    hostile = world.hostile
    assert set(wf.payloads()) <= set(hostile.listings), "a testbed payload has no listing in the fixture"
    tab = Tab(browser, base, "ivan", shots)
    page = tab.page
    tab.go(f"/search?site={wf.TESTBED_SITE}", shot="search-testbed-hostile")
    table = page.locator("table.grid tbody").inner_text()
    for title in hostile.titles.values():
        assert " ".join(title.split()) in " ".join(table.split()), title
    tab.no_live_payloads()
    for payload, listing_id in hostile.listings.items():
        tab.go(f"/listings/{listing_id}")
        text = " ".join(page.locator("main").inner_text().split())
        assert " ".join(hostile.titles[listing_id].split()) in text, payload
        assert " ".join(hostile.descriptions[listing_id].split()) in text, payload
        tab.no_live_payloads()
    for handle, account_id in hostile.vendors.items():
        tab.go(f"/vendors/{account_id}")
        assert handle in page.locator("h1").inner_text()
        tab.no_live_payloads()
    tab.go(f"/threads/{hostile.thread_id}", shot="thread-testbed-hostile")
    text = " ".join(page.locator("main").inner_text().split())
    for post_text in hostile.posts.values():
        assert " ".join(post_text.split()) in text
    for signature in hostile.signatures.values():
        assert signature in text
    tab.no_live_payloads()
    tab.go(f"/search?kind=posts&site={wf.TESTBED_SITE}")
    tab.no_live_payloads()
    page.wait_for_timeout(200)
    assert tab.dialogs == [], f"a scraped payload ran: {tab.dialogs}"
    assert tab.foreign == [], f"a scraped payload made the browser fetch: {tab.foreign}"
    tab.context.close()


def test_the_inertness_checks_catch_live_payloads(browser):
    """The checks above are not vacuous: the same payloads injected as raw markup are caught."""
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    probe = Tab.__new__(Tab)
    probe.page = page
    for payload in wf.payloads():
        if "<" not in payload:
            continue
        page.set_content(f"<html><body><main><p>{payload}</p></main></body></html>")
        with pytest.raises(AssertionError):
            probe.no_live_payloads()
    page.set_content("<html><body><main><p>&lt;b&gt;inert&lt;/b&gt;</p></main></body></html>")
    probe.no_live_payloads()
    assert dialogs, "raw <script>alert(1)</script> should have opened a dialog"
    context.close()
