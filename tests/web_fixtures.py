"""A small world for the web tests, written through the storage API: sites, runs with captured evidence
(real bodies and screenshots), listings with price history, vendors with identifiers, a cluster with
links, forum posts, schedules, a weekly report folder, and one user per role.

Hostile payloads sit in every scraped field the app shows (titles, descriptions, handles, profile, posts,
signatures, URLs, cluster sentences): the browser tests assert they render as inert text.
"""

from __future__ import annotations

import json
import struct
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from storage.evidence import EvidenceStore
from storage.evidence_run import RunEvidence
from storage.models import (
    ClusterLink,
    ClusterMember,
    CrawlError,
    CrawlRun,
    JobRun,
    Schedule,
    VendorCluster,
)
from storage.records import ListingRecord, PostRecord, ThreadRecord, VendorRecord
from storage.upsert import (
    finish_run,
    get_or_create_site,
    upsert_listing,
    upsert_post,
    upsert_thread,
    upsert_vendor,
)
from web.accounts import add_user

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
ROLE_USERS = {"admin": "alice", "cyber_unit": "cyrus", "investigator": "ivan", "drug_desk": "dora"}

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SVG = "\"><svg onload=alert(1)>"
JS_URL = "javascript:alert(1)"
PAYLOADS = (SCRIPT, IMG, SVG, JS_URL, "{{7*7}} ${7*7}", "</textarea><script>alert(2)</script>",
            "<a href=\"javascript:alert(1)\">click</a>", "=HYPERLINK(\"http://203.0.113.7\",\"x\")")


_production_hashers: list = []  # what cheap_password_hashing replaced


def production_hasher():
    from web import security

    return _production_hashers[0] if _production_hashers else security._hasher


@contextmanager
def cheap_password_hashing():
    """argon2id with small parameters while the web tests run: the default (64 MiB, 3 passes) costs
    0.1-2 s per hash or sign-in on a busy CI machine, and the tests sign in dozens of times. The production
    parameters are checked by test_web.py::test_passwords_are_hashed_with_argon2id_defaults."""
    from argon2 import PasswordHasher

    from web import security

    saved = security._hasher
    _production_hashers.append(saved)
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    security._dummy_hash.cache_clear()
    try:
        yield
    finally:
        security._hasher = saved
        security._dummy_hash.cache_clear()


def png(width: int = 48, height: int = 32, rgb: tuple[int, int, int] = (200, 60, 60)) -> bytes:
    """A valid PNG, enough to stand in for a page screenshot."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@dataclass
class World:
    listings: dict[str, int] = field(default_factory=dict)  # name -> id
    vendors: dict[str, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    sites: dict[str, int] = field(default_factory=dict)
    cluster_id: str = ""
    links: dict[str, int] = field(default_factory=dict)
    thread_id: int = 0
    post_ids: list[int] = field(default_factory=list)
    report_week: str = ""
    hostile: Hostile | None = None  # the testbed's own script-injection content (see build_testbed_hostile)


def _listing_html(title: str, description: str) -> bytes:
    # what a hostile market might serve: the body itself carries scripts that must never run in the app
    return (f"<html><head><title>{title}</title><script>alert('body')</script></head><body>"
            f"<h1>{title}</h1><p>{description}</p><img src=x onerror=alert('body')></body></html>").encode()


def _run(session: Session, store: EvidenceStore, slug: str, name: str, kind: str, when: datetime,
         is_onion: bool = False):
    site = get_or_create_site(session, slug, name, kind,
                              f"http://{slug}{'abcdefghijklmnop.onion' if is_onion else '.test'}/", is_onion)
    run = CrawlRun(site_id=site.id, started_at=when)
    session.add(run)
    session.flush()
    return site, run, RunEvidence(store, session, run, site)


def build(session: Session, store: EvidenceStore, reports_dir: Path | None = None) -> World:
    w = World()
    for role, username in ROLE_USERS.items():
        add_user(session, username, PASSWORD, [role], actor="fixture")

    # --- market_a: two crawls a week apart, the price of the main listing drops -----------------------
    listings = {
        "coke": ListingRecord("A1", "http://market_a.test/listing/A1", "3.5g Colombian cocaine 90% pure",
                              "Stealth shipping from NL. Tracked.", Decimal("210.00"), "EUR", quantity=3.5, unit="g",
                              price_per_unit=Decimal("60.00"), ships_from="NL", ships_to=["EU", "GB"], stock=12,
                              vendor_handle="DrGreen", category="stimulants", substances=["cocaine"]),
        "mdma": ListingRecord("A2", "http://market_a.test/listing/A2", "10x MDMA pills 220mg Tesla",
                              "Lab tested. Ships from DE.", Decimal("45.00"), "EUR", quantity=10, unit="unit",
                              price_per_unit=Decimal("4.50"), ships_from="DE", ships_to=["EU"], stock=100,
                              vendor_handle="DrGreen", category="ecstasy", substances=["mdma"]),
        "xss": ListingRecord("A3", JS_URL, f"Ketamine 5g {SCRIPT} {IMG}",
                             " ".join(PAYLOADS), Decimal("150.00"), "EUR", quantity=5, unit="g",
                             price_per_unit=Decimal("30.00"), ships_from="GB", ships_to=["WW"], stock=3,
                             vendor_handle=f"evil{SCRIPT}", category="dissociatives", substances=["ketamine"]),
    }
    prices = {"coke": [("210.00", "60.00"), ("175.00", "50.00"), ("192.50", "55.00")]}
    vendors_a = {
        "DrGreen": VendorRecord("DrGreen", "http://market_a.test/vendor/DrGreen",
                                {"terms": f"No refunds. {IMG}", "ships_from": "NL", "pgp": "-----BEGIN PGP..."},
                                [("pgp", "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"),
                                 ("btc", "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh")]),
        f"evil{SCRIPT}": VendorRecord(f"evil{SCRIPT}", JS_URL + "//vendor", {"about": SVG}, [("telegram", f"@evil{IMG}")]),
    }
    for day, (when_offset) in enumerate((0, 7, 14)):
        when = T0 + timedelta(days=when_offset)
        site, run, evidence = _run(session, store, "market_a", "Market A", "market", when)
        w.sites["market_a"] = site.id
        for handle, record in vendors_a.items():
            page = evidence.capture(session, record.url or f"http://market_a.test/v/{handle}", 200,
                                    [("Content-Type", "text/html")], _listing_html(handle, "vendor"), when,
                                    "text/html")
            account, _ = upsert_vendor(session, site.id, record, when, page.id)
            w.vendors[handle] = account.id
        for name, record in listings.items():
            if name in prices:
                price, ppu = prices[name][day]
                record.price, record.price_per_unit = Decimal(price), Decimal(ppu)
            body = _listing_html(record.title, record.description or "")
            shot = png(rgb=(40 + 60 * day, 90, 160)) if name in ("coke", "xss") else None
            page = evidence.capture(session, record.url, 200, [("Content-Type", "text/html; charset=utf-8")], body,
                                    when + timedelta(minutes=5), "text/html; charset=utf-8", screenshot=shot,
                                    fetch_mode="browser" if shot else "http")
            w.pages[name] = page.id
            written = upsert_listing(session, site.id, record, when, run.id, page.id, w.vendors[record.vendor_handle])
            w.listings[name] = written.listing_id
        if day == 1:
            session.add(CrawlError(crawl_run_id=run.id, url=f"http://market_a.test/{SCRIPT}", kind="timeout",
                                   reason="no answer in 60 s"))
        evidence.sync()
        evidence.close(session)
        finish_run(session, run, "finished", when + timedelta(minutes=30))
        run.pages, run.items = 5, 5
        session.commit()

    # --- market_c (onion): the same trafficker under a similar name -----------------------------------
    when = T0 + timedelta(days=3)
    site_c, run_c, ev_c = _run(session, store, "market_c", "Market C", "market", when, is_onion=True)
    w.sites["market_c"] = site_c.id
    rec = VendorRecord("DrGreen_NL", "http://market_cabcdefghijklmnop.onion/u/DrGreen_NL", {"terms": "NL only"},
                       [("pgp", "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678")])
    page = ev_c.capture(session, rec.url, 200, [("Content-Type", "text/html")], _listing_html("DrGreen_NL", "v"),
                        when, "text/html")
    account, _ = upsert_vendor(session, site_c.id, rec, when, page.id)
    w.vendors["DrGreen_NL"] = account.id
    lrec = ListingRecord("C1", "http://market_cabcdefghijklmnop.onion/item/C1", "Cocaine 7g fishscale NL",
                         "Same stealth as always.", Decimal("350.00"), "EUR", quantity=7, unit="g",
                         price_per_unit=Decimal("50.00"), ships_from="NL", ships_to=["EU"], vendor_handle="DrGreen_NL",
                         category="stimulants", substances=["cocaine"])
    page = ev_c.capture(session, lrec.url, 200, [("Content-Type", "text/html")], _listing_html(lrec.title, "x"),
                        when, "text/html")
    w.listings["onion"] = upsert_listing(session, site_c.id, lrec, when, run_c.id, page.id, account.id).listing_id
    other = VendorRecord("GreenDoctor", None, None, [])
    account2, _ = upsert_vendor(session, site_c.id, other, when)
    w.vendors["GreenDoctor"] = account2.id
    ev_c.sync()
    ev_c.close(session)
    finish_run(session, run_c, "failed", when + timedelta(minutes=3), "proxy refused the connection")

    # --- forum_b: a thread with hostile posts by the vendor --------------------------------------------
    site_f, run_f, ev_f = _run(session, store, "forum_b", "Forum B", "forum", T0 + timedelta(days=2))
    w.sites["forum_b"] = site_f.id
    forum_account, _ = upsert_vendor(session, site_f.id, VendorRecord("drgreen"), T0 + timedelta(days=2))
    w.vendors["drgreen_forum"] = forum_account.id
    thread = upsert_thread(session, site_f.id, ThreadRecord("T1", f"Best NL cocaine vendor? {SCRIPT}",
                                                            "http://forum_b.test/t/1", "Marketplace"),
                           T0 + timedelta(days=2))
    w.thread_id = thread.id
    texts = [f"DrGreen ships cocaine fast, 60 a gram {IMG}", f"Scam warning {SVG} {JS_URL}",
             "Anyone tried the Tesla MDMA pills?"]
    for i, text in enumerate(texts):
        post, _ = upsert_post(session, site_f.id, thread.id, PostRecord(
            f"P{i}", "T1", "drgreen" if i == 0 else f"user{i}{SCRIPT if i == 1 else ''}", text,
            T0 + timedelta(days=2, hours=i), "en", signature=f"stay safe {IMG}" if i == 0 else None,
            category="stimulants" if i == 0 else None, substances=["cocaine"] if i == 0 else []),
            T0 + timedelta(days=2))
        if i == 0:
            post.author_account_id = forum_account.id
        w.post_ids.append(post.id)
    ev_f.sync()
    ev_f.close(session)
    finish_run(session, run_f, "finished", T0 + timedelta(days=2, minutes=9))

    # --- the cluster: DrGreen (A) = DrGreen_NL (C onion) = drgreen (forum); GreenDoctor scored outside --
    cid = "c-drgreen"
    w.cluster_id = cid
    session.add(VendorCluster(id=cid, confidence=0.87, size=3, updated_at=T0 + timedelta(days=15)))
    session.add(VendorCluster(id="c-evil", confidence=1.0, size=1, updated_at=T0 + timedelta(days=15)))
    session.flush()  # no ORM relationships here: members must follow their cluster explicitly
    for name in ("DrGreen", "DrGreen_NL", "drgreen_forum"):
        session.add(ClusterMember(account_id=w.vendors[name], cluster_id=cid))
    session.add(ClusterMember(account_id=w.vendors[f"evil{SCRIPT}"], cluster_id="c-evil"))
    session.flush()

    def link(name: str, a: str, b: str, score: float, sentence: str, evidence: dict) -> None:
        ia, ib = sorted((w.vendors[a], w.vendors[b]))
        row = ClusterLink(account_a_id=ia, account_b_id=ib, score=score, evidence=evidence, sentence=sentence)
        session.add(row)
        session.flush()
        w.links[name] = row.id

    link("pgp", "DrGreen", "DrGreen_NL", 0.99,
         "same PGP fingerprint A1B2 C3D4 … 5678; handles 91% similar (DrGreen ~ DrGreen_NL); both ship from NL",
         {"log_odds": 9.1, "strong_identifiers": 1, "pgp_fingerprints": ["A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"],
          "handle_similarity": 0.91, "origins_shared": ["NL"]})
    link("forum", "DrGreen", "drgreen_forum", 0.87,
         f"handles 100% similar (DrGreen ~ drgreen); products 80% the same (cocaine) {SCRIPT}",
         {"log_odds": 1.9, "strong_identifiers": 0, "handle_similarity": 1.0, "products_shared": ["cocaine", IMG]})
    link("outside", "DrGreen_NL", "GreenDoctor", 0.41, "handles 62% similar (DrGreen_NL ~ GreenDoctor) (short or "
         "common name); no product in common", {"log_odds": -0.4, "strong_identifiers": 0, "handle_similarity": 0.62})

    # --- schedules and job runs -------------------------------------------------------------------------
    sched = Schedule(name="crawl:market_a", kind="crawl", site_id=w.sites["market_a"], cron="0 */6 * * *",
                     jitter_seconds=900, timeout_seconds=3600)
    session.add(sched)
    session.flush()
    session.add_all([Schedule(name="crawl:market_c", kind="crawl", site_id=w.sites["market_c"],
                                     interval_seconds=43200, paused=True),
                     Schedule(name="report:weekly", kind="report", cron="0 6 * * 1")])
    # JobRun.name is being added by the scheduler work; set it when the model has it
    named = {"name": sched.name} if hasattr(JobRun, "name") else {}
    session.add_all([JobRun(schedule_id=sched.id, kind="crawl", site_id=w.sites["market_a"], status="finished",
                            started_at=T0, finished_at=T0 + timedelta(minutes=30), **named),
                     JobRun(schedule_id=sched.id, kind="crawl", site_id=w.sites["market_a"], status="timeout",
                            started_at=T0 + timedelta(days=1), reason="killed after 3600 s", **named)])
    session.commit()

    if reports_dir is not None:
        week = reports_dir / "2026-W36"
        week.mkdir(parents=True, exist_ok=True)
        (week / "report.html").write_text(f"<html><body><h1>Week 36</h1>{SCRIPT}</body></html>", encoding="utf-8")
        (week / "report.csv").write_text("substance,listings\ncocaine,2\n", encoding="utf-8")
        (week / "summary.json").write_text(json.dumps({"week": "2026-W36", "listings_new": 4,
                                                       "top_substance": f"cocaine {SCRIPT}"}), encoding="utf-8")
        w.report_week = week.name
    w.hostile = build_testbed_hostile(session, store, T0 + timedelta(days=4))
    return w


# --- the testbed's own script-injection content ------------------------------------------------------------
# The payloads below are not ours: they are the listings, vendor handles and forum posts the testbed
# (testbed.world, testbed.listgen, testbed.forumgen; payloads in testbed.vocab.PAYLOADS) serves to the
# crawler, stored as the crawler would store them. One listing per payload, every prank vendor handle.
TESTBED_SITE = "testbed_hostile"


@dataclass
class Hostile:
    listings: dict[str, int] = field(default_factory=dict)  # payload -> listing id (payload in title/description)
    titles: dict[int, str] = field(default_factory=dict)  # listing id -> stored title
    descriptions: dict[int, str] = field(default_factory=dict)
    vendors: dict[str, int] = field(default_factory=dict)  # prank handle -> account id
    thread_id: int = 0
    posts: dict[int, str] = field(default_factory=dict)  # post id -> text
    signatures: dict[int, str] = field(default_factory=dict)


def _testbed_world():
    from testbed import world as tb_world

    return tb_world.build()


def payloads() -> tuple[str, ...]:
    from testbed import vocab

    return vocab.PAYLOADS


def build_testbed_hostile(session: Session, store: EvidenceStore, when: datetime = T0) -> Hostile:
    from testbed import vocab

    tb = _testbed_world()
    out = Hostile()
    site, run, evidence = _run(session, store, TESTBED_SITE, "Testbed markets (script injection)", "market", when)
    chosen = {}
    for payload in vocab.PAYLOADS:
        for li in sorted(tb.listings, key=lambda x: (x.site, x.external_id)):
            if payload in li.title or payload in li.description:
                chosen.setdefault(payload, li)
                break
    missing = [p for p in vocab.PAYLOADS if p not in chosen]
    assert not missing, f"the testbed no longer serves listings with these payloads: {missing}"
    pranks = [a for a in sorted(tb.accounts.values(), key=lambda a: a.account_id)
              if a.site.startswith("market_") and "<" in a.handle]
    for acc in pranks:  # one listing of each prank vendor, so the handle shows up in search and on pages
        li = next((x for x in sorted(tb.listings, key=lambda x: x.external_id) if x.account_id == acc.account_id),
                  None)
        if li is not None:
            chosen[acc.handle] = li
    accounts: dict[str, int] = {}
    for key, li in chosen.items():
        acc = tb.accounts[li.account_id]
        if acc.handle not in accounts:
            vrec = VendorRecord(acc.handle, f"http://{li.site}.test/vendor/{acc.handle}",
                                {"terms": acc.terms or ""}, [])
            page = evidence.capture(session, vrec.url, 200, [("Content-Type", "text/html")],
                                    _listing_html(acc.handle, acc.terms or ""), when, "text/html")
            account, _ = upsert_vendor(session, site.id, vrec, when, page.id)
            accounts[acc.handle] = account.id
        codes = vocab.SHIPS_TO[li.ships_to][1]
        record = ListingRecord(f"{li.site}-{li.external_id}", f"http://{li.site}.test/listing/{li.external_id}",
                               li.title, li.description, li.prices[0], li.currency, quantity=li.quantities[0],
                               unit=li.unit, ships_from=li.ships_from[1], ships_to=list(codes),
                               vendor_handle=acc.handle, category=li.category, substances=list(li.substances))
        page = evidence.capture(session, record.url, 200, [("Content-Type", "text/html; charset=utf-8")],
                                _listing_html(li.title, li.description), when, "text/html; charset=utf-8")
        written = upsert_listing(session, site.id, record, when, run.id, page.id, accounts[acc.handle])
        out.listings[key] = written.listing_id
        out.titles[written.listing_id] = li.title
        out.descriptions[written.listing_id] = li.description
    out.vendors = {h: i for h, i in accounts.items() if "<" in h}
    # forum: posts carrying payloads, and the prankster members (handle and signature)
    forum_posts = [(t, p) for t in tb.forum.threads for p in t.posts
                   if any(x in p.text for x in vocab.PAYLOADS) or "<" in tb.accounts[p.account_id].handle]
    thread = upsert_thread(session, site.id, ThreadRecord("TB-hostile", "Testbed posts with payloads",
                                                          "http://forum.test/t/hostile", "testbed"), when)
    out.thread_id = thread.id
    for _thread, p in forum_posts[:12]:
        author = tb.accounts[p.account_id]
        post, _ = upsert_post(session, site.id, thread.id, PostRecord(
            f"TB{p.post_id}", "TB-hostile", author.handle, p.text, p.posted_at.replace(tzinfo=UTC), p.lang,
            signature=author.signature), when)
        out.posts[post.id] = p.text
        if author.signature:
            out.signatures[post.id] = author.signature
    evidence.sync()
    evidence.close(session)
    finish_run(session, run, "finished", when + timedelta(minutes=20))
    session.commit()
    return out
