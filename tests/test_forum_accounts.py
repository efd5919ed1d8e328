"""Forum authors as accounts: every post author is a VendorAccount of the forum site, posts link to it, and
vendor clustering compares those accounts with market accounts (a vendor advertising on the forum under a
look-alike handle is linked to their shops, with evidence). SQLite and PostgreSQL where a database is used;
the crawl of the testbed (market A + forum) is slow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_crawl_support import PROFILE, SITES, engine_for, run_cli, site_id

from storage.cluster_store import recluster
from storage.models import ClusterLink, ClusterMember, Post, Site, VendorAccount
from storage.records import ListingRecord, PostRecord, ThreadRecord, VendorRecord
from storage.upsert import get_or_create_site, upsert_listing, upsert_post, upsert_thread, upsert_vendor

T0 = datetime(2026, 9, 28, 12, 0, tzinfo=UTC)
FP = "06A8C8AFCA93081610B537AB9E2DD898D2DA213E"
USER_PAGE = """<html><body><h1 class="username">Leon_Mountain</h1><p>Joined <span class="joined">2024-08-26</span>
&middot; <span class="post-count">4</span> posts</p><p class="market">Vendor on Silk Lantern as LemonMountain</p>
<div class="signature">PGP 06A8 C8AF CA93 0816 10B5 37AB 9E2D D898 D2DA 213E | Telegram: @valleyx711 |
Tips: bc1qkapd8lay2zkx2l0mwpty8an60nq8lav48ew4wq | Questions? PM me.</div></body></html>"""


def test_forum_profile_page_gives_the_account_its_identifiers_and_shop():
    from crawler.pages import parse_page
    from crawler.profile import load_profile

    profile = load_profile(SITES / "testbed_forum.yaml")
    [record] = parse_page(profile, "vendor", "http://127.0.0.1/user/Leon_Mountain", USER_PAGE).records
    assert record.handle == "Leon_Mountain"
    assert set(record.identifiers) == {("pgp", FP), ("telegram", "@valleyx711"),
                                       ("btc", "bc1qkapd8lay2zkx2l0mwpty8an60nq8lav48ew4wq")}
    assert record.profile["mentions"] == "LemonMountain" and record.profile["member_since"] == "2024-08-26"
    thread = parse_page(profile, "thread", "http://127.0.0.1/thread/1",
                        '<h1 class="thread-title">t</h1><article class="post" id="p1"><div class="post-author">'
                        '<a href="/user/Leon_Mountain">Leon_Mountain</a></div><div class="post-text">hi</div>'
                        "</article>")
    assert thread.links["vendor"] == ["http://127.0.0.1/user/Leon_Mountain"]


def _forum_author(s: Session, handle: str, identifiers=(), mentions=None, posts=("hello",)) -> int:
    """What the crawl stores for one forum member: the account (from the profile page), posts linked to it."""
    site = get_or_create_site(s, "forum", "Forum", "forum", "http://forum.test/")
    profile = {"mentions": mentions} if mentions else None
    account, _ = upsert_vendor(s, site.id, VendorRecord(handle=handle, profile=profile,
                                                        identifiers=list(identifiers)), T0)
    thread = upsert_thread(s, site.id, ThreadRecord(f"t-{handle}", "a thread", f"http://forum.test/t/{handle}"), T0)
    for n, text in enumerate(posts):
        upsert_post(s, site.id, thread.id, PostRecord(f"{handle}-{n}", thread.external_id, handle, text,
                                                      signature="Telegram: @valleyx711 | PM me"), T0,
                    author_account_id=account.id)
    return account.id


def _market_vendor(s: Session, slug: str, handle: str, identifiers=(), titles=("Amnesia Haze 10g",)) -> int:
    site = get_or_create_site(s, slug, slug, "market", f"http://{slug}.test/")
    account, _ = upsert_vendor(s, site.id, VendorRecord(handle=handle, identifiers=list(identifiers),
                                                        profile={"ships_from": "Netherlands"}), T0)
    for n, title in enumerate(titles):
        upsert_listing(s, site.id, ListingRecord(external_id=f"{handle}-{n}", url=f"/l/{handle}-{n}", title=title,
                                                 ships_from="NL", vendor_handle=handle), T0,
                       vendor_account_id=account.id)
    return account.id


def test_forum_account_joins_the_market_accounts_of_the_same_vendor(session: Session):
    shop = _market_vendor(session, "market_c", "LemonMountain", [("pgp", FP)])
    other = _market_vendor(session, "market_a", "Lemon_Mountain_NL", [("pgp", FP)])
    member = _forum_author(session, "Leon_Mountain", [("pgp", FP)], mentions="LemonMountain")
    # a forum member whose name looks like a vendor's and who shows nothing else: a name alone never links
    lookalike = _forum_author(session, "LemonMountains", posts=("where do I buy?",))
    session.commit()
    post_authors = set(session.scalars(select(Post.author_account_id)))
    assert post_authors == {member, lookalike}
    summary, _ = recluster(session)
    session.commit()
    cluster = dict(session.execute(select(ClusterMember.account_id, ClusterMember.cluster_id)).all())
    assert cluster[member] == cluster[shop] == cluster[other]
    assert cluster[lookalike] != cluster[shop]
    link = session.scalars(select(ClusterLink).where(
        ClusterLink.account_a_id == min(member, shop), ClusterLink.account_b_id == max(member, shop))).one()
    assert link.evidence["status"] == "joined"
    assert "same PGP fingerprint" in link.sentence and "LemonMountain" in link.sentence, link.sentence
    assert summary.accounts == 4


def test_weekly_report_does_not_count_forum_authors_as_new_vendors(session: Session):
    from reports.build import build_summary
    from reports.weeks import Week
    from storage.models import CrawlRun

    _market_vendor(session, "market_a", "LemonMountain")
    _forum_author(session, "Leon_Mountain")
    for site in session.scalars(select(Site)):
        session.add(CrawlRun(site_id=site.id, started_at=T0, finished_at=T0, status="finished"))
    session.commit()
    vendors = build_summary(session, Week.parse("2026-W40"))["vendors"]
    assert vendors["new_accounts"] == 1 and [v["handle"] for v in vendors["new"]] == ["LemonMountain"]


@pytest.mark.slow  # crawls markets A and C and the forum: ~5 minutes on a loaded machine
@pytest.mark.timeout(2400)
def test_crawled_forum_authors_are_accounts_linked_to_their_market_accounts(tmp_path):
    """Day 1: markets A and C (through the SOCKS proxy) and the forum crawled into one database, then
    `narcowatch cluster --db`. Every post links to its author's forum account; forum <-> market pairs of one
    actor (answer key) are linked with issue 7's precision and recall (>= 0.98, >= 0.95).

    Measured: 19 of 20 forum<->market pairs found, none false (precision 1.0, recall 0.95). The missed one
    is a forum member whose only evidence (PGP key, named shop) points at market B, which this test does not
    crawl (browser only)."""
    from classifiers.vendors.metrics import cross_group_pairs
    from testbed.answerkey import answer_key
    from testbed.server import Testbed

    key = answer_key(day=1)
    home = tmp_path / "home"
    run_cli(home, "db", "upgrade")
    with Testbed(day=1) as tb:
        run_cli(home, "crawl", PROFILE["market_a"], "--base-url", tb.url("market_a") + "/", timeout=1500)
        run_cli(home, "crawl", PROFILE["market_c"], "--proxy", tb.proxy_url, timeout=1500)
        run_cli(home, "crawl", PROFILE["forum"], "--base-url", tb.url("forum") + "/", timeout=1500)
    run_cli(home, "cluster", "--db", timeout=600)
    actor_of = {acc["account_id"]: actor["actor_id"] for actor in key["actors"] for acc in actor["accounts"]}
    truth = {(f"testbed_{v['site']}", v["handle"]): actor_of[v["account_id"]] for v in key["vendors"]
             if v["site"] in ("market_a", "market_c")}
    truth.update({("testbed_forum", p["author"]): actor_of[p["account_id"]] for p in key["posts"]})
    engine = engine_for(home)
    try:
        with Session(engine) as s:
            forum = site_id(s, "testbed_forum")
            accounts = {a.id: a for a in s.scalars(select(VendorAccount))}
            slug = dict(s.execute(select(Site.id, Site.slug)).all())
            unlinked = [p.external_id for p in s.scalars(select(Post).where(Post.author_account_id.is_(None)))]
            wrong = [(p.external_id, p.author) for p in s.scalars(select(Post)) if p.author_account_id and (
                accounts[p.author_account_id].site_id != forum or accounts[p.author_account_id].handle != p.author)]
            members = dict(s.execute(select(ClusterMember.account_id, ClusterMember.cluster_id)).all())
    finally:
        engine.dispose()
    assert unlinked == [] and wrong == []
    forum_handles = {a.handle for a in accounts.values() if a.site_id == forum}
    assert forum_handles == {p["author"] for p in key["posts"]}
    named = {(slug[a.site_id], a.handle): a.id for a in accounts.values()}
    assert set(truth) <= set(named)
    pred = {k: members[named[k]] for k in truth}
    group = {k: "forum" if k[0] == "testbed_forum" else "market" for k in truth}
    cross = cross_group_pairs(pred, truth, group)
    assert cross["true_pairs"] >= 15  # the key has vendors advertising on the forum
    assert cross["precision"] >= 0.98 and cross["recall"] >= 0.95, cross


def test_retention_purges_a_forum_signature_with_the_identifiers(session: Session, evidence):
    """The signature on a member's profile page holds contacts and keys in free text: it expires with the
    identifiers (NARCOWATCH_RETAIN_IDENTIFIERS_DAYS), the rest of the profile stays."""
    from datetime import timedelta

    from storage.models import VendorIdentifier
    from storage.retention import Rules, purge

    site = get_or_create_site(session, "forum", "Forum", "forum", "http://forum.test/")
    account, _ = upsert_vendor(session, site.id, VendorRecord(
        handle="Leon_Mountain", profile={"signature": "PGP 06A8 ... | Telegram: @valleyx711", "posts": "4",
                                         "mentions": "LemonMountain"},
        identifiers=[("pgp", FP), ("telegram", "@valleyx711")]), T0)
    session.commit()
    purge(session, evidence, Rules(pages_days=None, posts_days=None, identifiers_days=30), T0 + timedelta(days=60))
    session.expire_all()
    assert session.get(VendorAccount, account.id).profile == {"posts": "4", "mentions": "LemonMountain"}
    assert session.scalars(select(VendorIdentifier).where(VendorIdentifier.account_id == account.id)).all() == []


def test_cross_group_pairs_counts_only_pairs_across_groups():
    from classifiers.vendors.metrics import cross_group_pairs

    pred = {"f1": 1, "m1": 1, "m2": 1, "f2": 2, "m3": 2, "m4": 3}
    truth = {"f1": "A", "m1": "A", "m2": "B", "f2": "C", "m3": "D", "m4": "C"}
    group = {"f1": "forum", "f2": "forum", "m1": "market", "m2": "market", "m3": "market", "m4": "market"}
    got = cross_group_pairs(pred, truth, group)
    # predicted across: f1-m1, f1-m2, f2-m3; true across: f1-m1, f2-m4; correct: f1-m1 (m1-m2 is not across)
    assert (got["predicted_pairs"], got["true_pairs"], got["correct_pairs"]) == (3, 2, 1)
    assert got["precision"] == pytest.approx(1 / 3) and got["recall"] == pytest.approx(0.5)


def test_load_accounts_gives_forum_accounts_their_opened_threads_signatures_and_post_identifiers(session: Session):
    from storage.cluster_store import load_accounts

    member = _forum_author(session, "Leon_Mountain", [("pgp", FP)], mentions="LemonMountain",
                           posts=("[WTS] Amnesia Haze 10g, ping me on session 05" + "ab" * 32,))
    site = session.get(VendorAccount, member).site_id
    # a reply in someone else's thread: that thread's title is not the replier's
    other = upsert_thread(session, site, ThreadRecord("t-other", "Best weed in Berlin?", "http://forum.test/o"), T0)
    upsert_post(session, site, other.id, PostRecord("o-1", "t-other", "Asker", "anyone?", posted_at=T0), T0,
                author_account_id=_forum_author(session, "Asker", posts=()))
    upsert_post(session, site, other.id, PostRecord("o-2", "t-other", "Leon_Mountain", "me",
                                                    posted_at=T0.replace(hour=13)), T0, author_account_id=member)
    post = session.scalars(select(Post).where(Post.external_id == "Leon_Mountain-0")).one()
    post.analysis = {"identifiers": [{"kind": "session", "value": "05" + "ab" * 32}]}
    session.commit()
    accounts, ids = load_accounts(session)
    by_id = {a.account_id: a for a in accounts}
    leon, asker = by_id["forum:Leon_Mountain"], by_id["forum:Asker"]
    assert ids["forum:Leon_Mountain"] == member
    assert leon.titles == ("a thread",) and asker.titles == ("Best weed in Berlin?",)
    assert leon.pgp_fingerprints == (FP,) and "session:05" + "ab" * 32 in leon.contacts
    assert "Telegram: @valleyx711" in leon.profile
