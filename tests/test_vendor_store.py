"""storage/cluster_store.py: stored accounts -> clustering -> VendorCluster/ClusterMember/ClusterLink rows,
idempotent, respecting stored feedback; `narcowatch cluster --db`. SQLite and PostgreSQL (db_url)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from classifiers.vendors.metrics import bcubed, pairwise
from storage.cluster_store import add_feedback, load_accounts, recluster
from storage.models import ClusterFeedback, ClusterLink, ClusterMember, VendorAccount, VendorCluster
from storage.records import ListingRecord, VendorRecord
from storage.upsert import ListingInput, get_or_create_site, upsert_listing, upsert_listings, upsert_vendor

T0 = datetime(2026, 9, 28, 12, 0, tzinfo=UTC)
FP_A = "3A1F9C2B5D7E11223344556677889900AABBCCDD"
FP_B = "77665544332211009988FFEEDDCCBBAA00112233"


def _site(s: Session, slug: str) -> int:
    return get_or_create_site(s, slug, slug, "market", f"http://{slug}.test/").id


def _vendor(s: Session, slug: str, handle: str, identifiers=(), ships_from="Netherlands", terms="",
            titles=()) -> int:
    site_id = _site(s, slug)
    account, _ = upsert_vendor(s, site_id, VendorRecord(handle=handle, profile={"ships_from": ships_from,
                                                                                 "terms": terms},
                                                        identifiers=list(identifiers)), T0)
    for n, title in enumerate(titles):
        upsert_listing(s, site_id, ListingRecord(external_id=f"{handle}-{n}", url=f"/l/{handle}-{n}", title=title,
                                                 ships_from="NL", vendor_handle=handle), T0,
                       vendor_account_id=account.id)
    return account.id


@pytest.fixture
def world(session: Session) -> dict[str, int]:
    """Two vendors (one on two markets), an impersonator, and a pair that only looks alike."""
    ids = {
        "green_a": _vendor(session, "market_a", "DrGreen_UK", [("pgp", FP_A), ("telegram", "@drgreen")],
                           titles=["Amnesia Haze 10g indoor", "Moroccan hash 25g premium"]),
        "green_c": _vendor(session, "market_c", "dr.gr33n", [("pgp", FP_A)],
                           titles=["Amnesia Haze 10g indoor"]),
        # impersonator: near-identical name, own key, other country and products
        "fake": _vendor(session, "market_b", "DrGreen", [("pgp", FP_B)], ships_from="Colombia",
                        titles=["Cocaine 5g pure uncut", "Crack rocks 2g"]),
        # alike handles, nothing else shared: a candidate for review, not a link
        "lotus_a": _vendor(session, "market_a", "LotusGarden", ships_from="Germany"),
        "lotus_b": _vendor(session, "market_b", "LotusGardens", ships_from="Germany"),
    }
    session.commit()
    return ids


def _counts(s: Session) -> tuple[int, int, int, int]:
    return (s.scalar(select(func.count()).select_from(VendorCluster)),
            s.scalar(select(func.count()).select_from(ClusterMember)),
            s.scalar(select(func.count()).select_from(ClusterLink)),
            s.scalar(select(func.count()).select_from(ClusterFeedback)))


def _cluster_of(s: Session, account_id: int) -> str:
    return s.scalars(select(ClusterMember.cluster_id).where(ClusterMember.account_id == account_id)).one()


def _link(s: Session, a: int, b: int) -> ClusterLink | None:
    return s.scalars(select(ClusterLink).where(ClusterLink.account_a_id == min(a, b),
                                               ClusterLink.account_b_id == max(a, b))).one_or_none()


def test_load_accounts_reads_identifiers_listings_and_profile(session: Session, world: dict[str, int]) -> None:
    accounts, ids = load_accounts(session)
    by_key = {a.account_id: a for a in accounts}
    green = by_key["market_a:DrGreen_UK"]
    assert ids["market_a:DrGreen_UK"] == world["green_a"]
    assert green.pgp_fingerprints == (FP_A,) and green.contacts == ("telegram:@drgreen",)
    assert set(green.titles) == {"Amnesia Haze 10g indoor", "Moroccan hash 25g premium"}
    assert set(green.ships_from) == {"NL", "Netherlands"}


def test_recluster_stores_clusters_and_explained_links_idempotently(session: Session, world: dict[str, int]) -> None:
    summary, _ = recluster(session)
    session.commit()
    assert summary.accounts == 5
    assert _cluster_of(session, world["green_a"]) == _cluster_of(session, world["green_c"])
    assert _cluster_of(session, world["fake"]) != _cluster_of(session, world["green_a"])  # decoy apart
    assert _cluster_of(session, world["lotus_a"]) != _cluster_of(session, world["lotus_b"])
    link = _link(session, world["green_a"], world["green_c"])
    assert link is not None and link.decision is None and link.score > 0.9
    assert "same PGP fingerprint 3A1F 9C2B" in link.sentence and link.evidence["status"] == "joined"
    cluster = session.get(VendorCluster, _cluster_of(session, world["green_a"]))
    assert cluster.size == 2 and 0.9 < cluster.confidence <= 1.0
    before = _counts(session)
    stamps = dict(session.execute(select(ClusterLink.id, ClusterLink.updated_at)).all())
    again, _ = recluster(session)
    session.commit()
    assert _counts(session) == before  # nothing duplicated
    assert (again.links_inserted, again.links_updated, again.links_deleted, again.clusters_inserted,
            again.clusters_updated, again.clusters_deleted, again.members_changed) == (0, 0, 0, 0, 0, 0, 0)
    assert dict(session.execute(select(ClusterLink.id, ClusterLink.updated_at)).all()) == stamps


def _web_decision(s: Session, link: ClusterLink, decision: str, who: str, at: datetime) -> None:
    """What web/routes_investigate.py `_decide` writes."""
    s.add(ClusterFeedback(kind=decision, account_a_id=link.account_a_id, account_b_id=link.account_b_id, who=who,
                          at=at, note="checked"))
    link.decision = "confirmed" if decision == "confirm" else "rejected"
    link.decided_by, link.decided_at = who, at
    s.commit()


def test_rejected_link_stays_rejected_and_confirmed_stays_joined(session: Session, world: dict[str, int]) -> None:
    recluster(session)
    session.commit()
    strong = _link(session, world["green_a"], world["green_c"])
    weak = _link(session, world["lotus_a"], world["lotus_b"])
    assert weak is not None and weak.evidence["status"] == "review"
    _web_decision(session, strong, "reject", "inv.jones", T0 + timedelta(days=1))
    _web_decision(session, weak, "confirm", "inv.smith", T0 + timedelta(days=1, hours=1))
    for _ in range(2):  # and again: decisions survive every re-clustering
        summary, _ = recluster(session)
        session.commit()
        assert summary.feedback == 2
        assert _cluster_of(session, world["green_a"]) != _cluster_of(session, world["green_c"])
        assert _cluster_of(session, world["lotus_a"]) == _cluster_of(session, world["lotus_b"])
        strong = _link(session, world["green_a"], world["green_c"])
        weak = _link(session, world["lotus_a"], world["lotus_b"])
        assert (strong.decision, strong.decided_by, strong.evidence["status"]) == ("rejected", "inv.jones",
                                                                                  "rejected")
        assert "rejected by inv.jones" in strong.sentence
        assert (weak.decision, weak.decided_by, weak.evidence["status"]) == ("confirmed", "inv.smith", "confirmed")
    # a later decision on the same pair wins
    _web_decision(session, strong, "confirm", "inv.lead", T0 + timedelta(days=2))
    recluster(session)
    session.commit()
    assert _cluster_of(session, world["green_a"]) == _cluster_of(session, world["green_c"])
    assert _link(session, world["green_a"], world["green_c"]).decided_by == "inv.lead"


def test_split_and_merge_feedback(session: Session, world: dict[str, int]) -> None:
    add_feedback(session, "merge", "inv.smith", members=[world["lotus_a"], world["lotus_b"]],
                 at=T0 + timedelta(days=1))
    add_feedback(session, "split", "inv.jones", members=[world["green_a"]], others=[world["green_c"]],
                 at=T0 + timedelta(days=1), note="two people share the key")
    add_feedback(session, "split", "inv.jones", members=[world["green_a"]], others=[world["green_c"]],
                 at=T0 + timedelta(days=1), note="two people share the key")  # imported twice: stored once
    session.commit()
    assert session.scalar(select(func.count()).select_from(ClusterFeedback)) == 2
    recluster(session)
    session.commit()
    assert _cluster_of(session, world["lotus_a"]) == _cluster_of(session, world["lotus_b"])
    assert _cluster_of(session, world["green_a"]) != _cluster_of(session, world["green_c"])


def test_new_accounts_join_and_stale_links_go(session: Session, world: dict[str, int]) -> None:
    recluster(session)
    session.commit()
    third = _vendor(session, "forum", "DrGreenUK", [("telegram", "drgreen")])
    session.commit()
    summary, _ = recluster(session)
    session.commit()
    assert summary.accounts == 6
    assert _cluster_of(session, third) == _cluster_of(session, world["green_a"])
    # an undecided link whose evidence disappeared is dropped; a decided one is kept
    weak = _link(session, world["lotus_a"], world["lotus_b"])
    session.delete(session.get(ClusterMember, world["lotus_b"]))
    session.execute(VendorAccount.__table__.update().where(VendorAccount.id == world["lotus_b"])
                    .values(handle="QuantumBreeze"))
    session.commit()
    summary, _ = recluster(session)
    session.commit()
    assert summary.links_deleted >= 1 and session.get(ClusterLink, weak.id) is None
    assert session.get(ClusterMember, world["lotus_b"]) is not None


def test_testbed_world_through_the_database(session: Session) -> None:
    """The testbed's day-1 market accounts stored as a crawl stores them, then clustered from the DB."""
    import testbed
    from extractors.identifiers import find_identifiers, pgp_fingerprint

    key = testbed.answer_key(testbed.DEFAULT_SEED, 1)
    listings = defaultdict(list)
    for item in key["listings"]:
        listings[(item["site"], item["vendor"])].append(item)
    truth: dict[int, str] = {}
    batches: dict[int, list[ListingInput]] = defaultdict(list)
    actor_of = {a["account_id"]: actor["actor_id"] for actor in key["actors"] for a in actor["accounts"]}
    for v in key["vendors"]:
        site_id = _site(session, v["site"])
        idents = [(kind, value) for kind, value in (v.get("contacts") or {}).items()]
        if v.get("pgp_fingerprint"):
            idents.append(("pgp", v["pgp_fingerprint"]))
        elif v.get("pgp_key"):
            idents.append(("pgp", pgp_fingerprint(v["pgp_key"])))
        idents += [(f["kind"], f["value"]) for f in find_identifiers(v.get("terms") or "")
                   if f["kind"] in ("btc", "xmr", "eth")]
        account, _ = upsert_vendor(session, site_id, VendorRecord(
            handle=v["handle"], profile={"ships_from": v.get("ships_from"), "terms": v.get("terms"),
                                         "mentions": v.get("mentions")}, identifiers=idents), T0)
        truth[account.id] = actor_of[v["account_id"]]
        batches[site_id] += [ListingInput(ListingRecord(
            external_id=item["external_id"], url=item["url"], title=item["title"], ships_from=item["ships_from"],
            vendor_handle=v["handle"]), None, account.id) for item in listings[(v["site"], v["handle"])]]
    for site_id, batch in batches.items():
        upsert_listings(session, site_id, batch, T0)
    session.commit()
    summary, _ = recluster(session)
    session.commit()
    pred = dict(session.execute(select(ClusterMember.account_id, ClusterMember.cluster_id)).all())
    pw, b3 = pairwise(pred, truth), bcubed(pred, truth)
    assert summary.accounts == len(key["vendors"])
    assert pw["precision"] >= 0.98 and pw["recall"] >= 0.95, pw
    assert b3["precision"] >= 0.98 and b3["recall"] >= 0.95, b3
    # decoys (other actors with look-alike handles and their own PGP keys) stay apart from whom they imitate
    account_of = {v["account_id"]: a for a, v in zip(truth, key["vendors"], strict=True)}
    decoys = [actor for actor in key["actors"] if actor.get("is_decoy_of")]
    assert len(decoys) >= 5
    owner = {actor["actor_id"]: actor for actor in key["actors"]}
    for decoy in decoys:
        mine = {pred[account_of[a["account_id"]]] for a in decoy["accounts"] if a["account_id"] in account_of}
        theirs = {pred[account_of[a["account_id"]]] for a in owner[decoy["is_decoy_of"]]["accounts"]
                  if a["account_id"] in account_of}
        assert mine and theirs and not mine & theirs, (decoy["actor_id"], decoy["is_decoy_of"])


def test_cluster_db_command(nw_home, tmp_path) -> None:
    from narcowatch.cli import cli
    from storage.db import default_engine, session_scope
    from storage.migrate import upgrade

    upgrade(default_engine())
    with session_scope(default_engine()) as s:
        a = _vendor(s, "market_a", "DrGreen_UK", [("pgp", FP_A)])
        b = _vendor(s, "market_c", "dr.gr33n", [("pgp", FP_A)])
    decisions = tmp_path / "decisions.jsonl"
    decisions.write_text('{"kind": "reject", "who": "inv.jones", "when": "2026-10-01T10:00:00Z", '
                         '"account_a": "market_a:DrGreen_UK", "account_b": "market_c:dr.gr33n"}\n')
    out = tmp_path / "clusters.jsonl"
    runner = CliRunner()
    result = runner.invoke(cli, ["cluster", "--db", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 stored accounts -> 1 clusters" in result.output
    assert '"account_id": "market_a:DrGreen_UK"' in out.read_text()
    for _ in range(2):
        result = runner.invoke(cli, ["cluster", "--feedback", str(decisions)])
        assert result.exit_code == 0, result.output
    with session_scope(default_engine()) as s:
        assert s.scalar(select(func.count()).select_from(ClusterFeedback)) == 1
        assert _cluster_of(s, a) != _cluster_of(s, b)
        assert _link(s, a, b).decision == "rejected"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "confirm", "who": "x", "when": "2026-10-01T10:00:00Z", '
                   '"account_a": "market_a:Nobody", "account_b": "market_c:dr.gr33n"}\n')
    result = runner.invoke(cli, ["cluster", "--db", "--feedback", str(bad)])
    assert result.exit_code != 0 and "market_a:Nobody" in result.output and "not stored" in result.output
    result = runner.invoke(cli, ["cluster", "--db", "--input", str(bad)])
    assert result.exit_code != 0 and "not both" in result.output
