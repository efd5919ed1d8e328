"""Retention purges expired pages, posts and identifiers, and keeps everything under a case hold."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from narcowatch.cli import cli
from storage.evidence_check import verify
from storage.evidence_run import RunEvidence
from storage.models import CaseHold, Listing, Page, Post, Site, VendorAccount, VendorIdentifier, WarcFile
from storage.records import PostRecord, ThreadRecord, VendorRecord
from storage.retention import Rules, plan, purge
from storage.upsert import upsert_listing, upsert_post, upsert_thread, upsert_vendor
from tests.storage_helpers import at, listing, new_run

NOW = at(400)


def populate(session, evidence):
    """Day 1: two listings on their own pages (separate runs, so separate WARC files), a vendor with
    identifiers, two posts; all old by NOW."""
    ids = {}
    for key in ("A", "B"):
        run = new_run(session, when=at(1))
        rec = RunEvidence(evidence, session, run, session.get(Site, run.site_id))
        page = rec.capture(session, f"http://market_a.test/listing/{key}", 200, [], f"<p>{key}</p>".encode(),
                           at(1), "text/html")
        vendor, _ = upsert_vendor(session, run.site_id, VendorRecord(
            f"vendor{key}", profile={"contacts": {"telegram": f"@v{key}"}, "terms": "no refunds"},
            identifiers=[("telegram", f"@v{key}"), ("btc", f"bc1q{key.lower()}")]), at(1), page.id)
        ids[key] = upsert_listing(session, run.site_id, listing(key), at(1), run.id, page.id, vendor.id).listing_id
        ids[f"vendor{key}"] = vendor.id
        rec.sync()
        rec.close(session)
    thread = upsert_thread(session, run.site_id, ThreadRecord("t", "t", "http://f/t"), at(1))
    ids["p1"] = upsert_post(session, run.site_id, thread.id, PostRecord("p1", "t", "u", "old post", at(1)),
                            at(1))[0].id
    ids["p2"] = upsert_post(session, run.site_id, thread.id, PostRecord("p2", "t", "u", "fresh post",
                                                                        NOW - timedelta(days=1)), NOW)[0].id
    session.commit()
    return ids


def n(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_purge_without_rules_deletes_nothing(session, evidence):
    populate(session, evidence)
    p = plan(session, Rules(None, None, None), NOW)
    assert p.page_ids == p.post_ids == p.identifier_ids == []


def test_purge_deletes_expired_data_and_keeps_held(session, evidence):
    ids = populate(session, evidence)
    session.add(CaseHold(case_ref="OP-TEST-1", kind="listing", target_id=ids["A"], created_by="inv1"))
    session.add(CaseHold(case_ref="OP-TEST-1", kind="vendor", target_id=ids["vendorA"], created_by="inv1"))
    session.add(CaseHold(case_ref="OLD", kind="listing", target_id=ids["B"], created_by="inv1",
                         released_at=at(300), released_by="inv1"))  # released: no protection any more
    session.commit()
    held_page = session.get(Listing, ids["A"]).page_id
    held_sha = session.get(Page, held_page).sha256
    gone_page = session.get(Listing, ids["B"]).page_id
    gone_sha = session.get(Page, gone_page).sha256
    result = purge(session, evidence, Rules(pages_days=90, posts_days=90, identifiers_days=90), NOW)
    assert result.plan.page_ids == [gone_page] and result.plan.held_pages_kept == 1
    assert session.get(Page, held_page) is not None and evidence.has_body(held_sha)
    assert session.get(Page, gone_page) is None and not evidence.has_body(gone_sha)
    assert session.get(Listing, ids["B"]).page_id is None  # the listing row stays, its raw page is gone
    assert result.warc_files_deleted == 1 and n(session, WarcFile) == 1
    assert [p.id for p in session.scalars(select(Post))] == [ids["p2"]]
    kept = session.scalars(select(VendorIdentifier.account_id)).all()
    assert set(kept) == {ids["vendorA"]}
    assert session.get(VendorAccount, ids["vendorB"]).profile == {"terms": "no refunds"}
    assert "contacts" in session.get(VendorAccount, ids["vendorA"]).profile
    assert verify(session, evidence).ok  # nothing left pointing at a deleted file


def test_site_hold_keeps_everything_of_the_site(session, evidence):
    ids = populate(session, evidence)
    site_id = session.get(Listing, ids["A"]).site_id
    session.add(CaseHold(case_ref="OP-SITE", kind="site", target_id=site_id, created_by="inv1"))
    session.commit()
    result = purge(session, evidence, Rules(0, 0, 0), NOW)
    assert result.plan.page_ids == [] and result.plan.post_ids == [] and result.plan.identifier_ids == []
    assert n(session, Page) == 2 and n(session, Post) == 2


def test_cli_dry_run_then_purge_with_a_hold(nw_home, monkeypatch):
    from storage.db import default_engine, session_scope
    from storage.evidence import EvidenceStore

    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    with session_scope(default_engine()) as session:
        ids = populate(session, EvidenceStore(nw_home / "evidence"))
    monkeypatch.setenv("NARCOWATCH_RETAIN_PAGES_DAYS", "30")
    out = runner.invoke(cli, ["hold", "add", "listing", str(ids["A"]), "--case", "OP-7", "--by", "inv1"])
    assert out.exit_code == 0, out.output
    assert "OP-7" in runner.invoke(cli, ["hold", "list"]).output
    bad = runner.invoke(cli, ["hold", "add", "listing", "9999", "--case", "X"])
    assert bad.exit_code != 0 and "no listing with id 9999" in bad.output
    dry = runner.invoke(cli, ["retention", "purge"])
    assert "dry run" in dry.output
    with session_scope(default_engine()) as session:
        assert n(session, Page) == 2  # nothing deleted by a dry run
    # the pages of this fixture are old relative to the real clock: purge now deletes B's page only
    done = runner.invoke(cli, ["retention", "purge", "--yes"])
    assert done.exit_code == 0 and "purged 1 pages" in done.output
    released = runner.invoke(cli, ["hold", "release", "1", "--by", "inv1"])
    assert released.exit_code == 0
    monkeypatch.setenv("NARCOWATCH_RETAIN_POSTS_DAYS", "soon")
    assert "expected a whole number" in runner.invoke(cli, ["retention", "show"]).output
