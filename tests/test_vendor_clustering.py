"""cluster_accounts: evidence, decoys, explanations, feedback constraints, stable ids."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from classifiers.vendors import Account, Feedback, RecordError, cluster_accounts
from classifiers.vendors.metrics import bcubed, pairwise

DATA = Path(__file__).parent / "data" / "vendor_accounts.jsonl"


def load() -> tuple[list[Account], dict[str, str]]:
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    return [Account.from_dict(r) for r in rows], {r["account_id"]: r["actor"] for r in rows}


def together(result, a: str, b: str) -> bool:
    assignment = result.assignments()
    return assignment[a].cluster_id == assignment[b].cluster_id


def when(day: int) -> datetime:
    return datetime(2024, 5, day, 12, 0, tzinfo=UTC)


def test_fixture_is_clustered_exactly_by_actor() -> None:
    accounts, truth = load()
    result = cluster_accounts(accounts)
    pred = {m: c.cluster_id for c in result.clusters for m in c.members}
    assert pairwise(pred, truth)["precision"] == 1.0
    assert pairwise(pred, truth)["recall"] == 1.0


def test_decoys_with_look_alike_handles_and_other_keys_stay_apart() -> None:
    accounts, _ = load()
    result = cluster_accounts(accounts)
    # hydra:5 "drgreen" and versus:2 "DrGreenOfficial" (which even copied a listing title) keep their own keys.
    for decoy in ("hydra:5", "versus:2"):
        assert not together(result, "agora:1", decoy)
        assert not together(result, "empire:33", decoy)
    assert not together(result, "agora:4", "dream:9")  # green_dragon (NL) vs green_dragon_de (DE)


def test_links_carry_evidence_and_a_sentence() -> None:
    accounts, _ = load()
    result = cluster_accounts(accounts)
    link = next(lk for lk in result.links if {lk.a, lk.b} == {"agora:1", "dream:7"})
    assert link.status == "joined" and link.score > 0.99
    assert link.evidence["pgp_fingerprints"] and link.evidence["handle_similarity"] == 1.0
    assert link.sentence.startswith("same PGP fingerprint 3A1F 9C2B")
    assert "handles 100% similar (dr_green_uk ~ DrGreen)" in link.sentence
    assert "both ship from GB" in link.sentence
    style = next(lk for lk in result.links if {lk.a, lk.b} == {"agora:3", "empire:9"})
    assert "4 of 4 listing titles the same" in style.sentence and "profile texts" in style.sentence


def test_cluster_confidence_is_the_weakest_joining_link() -> None:
    accounts, _ = load()
    result = cluster_accounts(accounts)
    cluster = result.assignments()["hydra:6"]
    link = next(lk for lk in result.links if {lk.a, lk.b} == {"hydra:6", "versus:3"})
    assert cluster.confidence == pytest.approx(link.score, abs=1e-3)
    assert result.assignments()["agora:4"].confidence == 1.0  # a single account asserts nothing


def test_handle_alone_does_not_link() -> None:
    accounts = [Account("a:1", "a", "DrGreen"), Account("b:1", "b", "dr_green")]
    result = cluster_accounts(accounts)
    assert not together(result, "a:1", "b:1")


def _snow(account_id: str, handle: str, key: str | None, own_title: str) -> Account:
    # A look-alike name, one copied listing, same country and product line: enough to link two accounts
    # without keys, not enough to outweigh two different keys.
    return Account(account_id, account_id.split(":")[0], handle, ships_from=("NL",),
                   pgp_fingerprints=(key * 40,) if key else (),
                   titles=("5g Colombian cocaine 91% SnowWhite", own_title, "Bolivian cocaine 2g flake"))


def test_conflicting_pgp_keys_count_against_a_link() -> None:
    same = [_snow("a:1", "snowwhite", "A", "10g cocaine crystal rocks"),
            _snow("b:1", "snow_white", None, "1g cocaine sample SW")]
    assert together(cluster_accounts(same), "a:1", "b:1")
    conflict = [same[0], _snow("b:1", "snow_white", "B", "1g cocaine sample SW")]
    assert not together(cluster_accounts(conflict), "a:1", "b:1")


def test_no_chaining_through_an_account_without_a_key() -> None:
    accounts = [_snow("a:1", "snowwhite", "A", "10g cocaine crystal rocks"),
                _snow("b:1", "snow_white", None, "1g cocaine sample SW"),
                _snow("c:1", "SnowWhite", "C", "25g cocaine bulk deal")]
    result = cluster_accounts(accounts)
    assert not together(result, "a:1", "c:1")
    assert together(result, "a:1", "b:1") or together(result, "b:1", "c:1")
    assert any(lk.status == "blocked" and "different PGP keys" in lk.sentence for lk in result.links)


def test_service_wallet_shared_by_many_accounts_links_nobody() -> None:
    escrow = "bc1qescrowescrowescrowescrowescrowescrow0"
    accounts = [Account(f"m:{i}", "m", f"vendor{i:03d}{random.Random(i).choice('abcdef')}", wallets=(escrow,))
                for i in range(40)]
    result = cluster_accounts(accounts)
    assert len(result.clusters) == 40


def test_reject_is_respected_even_transitively() -> None:
    accounts, _ = load()
    reject = Feedback("reject", "inv.jones", when(1), account_a="dream:7", account_b="empire:33",
                      note="different writing style")
    result = cluster_accounts(accounts, [reject])
    assert not together(result, "dream:7", "empire:33")  # they were joined through agora:1 before
    rejected = [lk for lk in result.links if lk.status == "rejected"]
    assert all("inv.jones" in lk.sentence for lk in rejected)
    direct = Feedback("reject", "inv.jones", when(1), account_a="agora:1", account_b="dream:7")
    assert not together(cluster_accounts(accounts, [direct]), "agora:1", "dream:7")


def test_confirm_joins_and_later_decision_wins() -> None:
    accounts, _ = load()
    confirm = Feedback("confirm", "inv.smith", when(2), account_a="agora:4", account_b="hydra:6",
                       note="same parcel photos")
    result = cluster_accounts(accounts, [confirm])
    assert together(result, "agora:4", "hydra:6") and together(result, "agora:4", "versus:3")
    link = next(lk for lk in result.links if lk.status == "confirmed")
    assert "inv.smith" in link.sentence and link.evidence["when"].startswith("2024-05-02")
    undo = Feedback("reject", "inv.smith", when(3), account_a="agora:4", account_b="hydra:6")
    assert not together(cluster_accounts(accounts, [undo, confirm]), "agora:4", "hydra:6")


def test_split_and_merge() -> None:
    accounts, _ = load()
    split = Feedback("split", "inv.lee", when(4), members=("empire:33",), others=("agora:1", "dream:7"))
    result = cluster_accounts(accounts, [split])
    assert together(result, "agora:1", "dream:7") and not together(result, "agora:1", "empire:33")
    merge = Feedback("merge", "inv.lee", when(5), members=("agora:4", "dream:9", "hydra:5"))
    result = cluster_accounts(accounts, [merge])
    assert together(result, "agora:4", "dream:9") and together(result, "dream:9", "hydra:5")


def test_confirm_contradicting_a_reject_is_reported_and_reject_kept() -> None:
    accounts, _ = load()
    feedback = [Feedback("reject", "a", when(1), account_a="agora:4", account_b="dream:9"),
                Feedback("confirm", "b", when(2), account_a="agora:4", account_b="hydra:6"),
                Feedback("confirm", "c", when(3), account_a="hydra:6", account_b="dream:9")]
    result = cluster_accounts(accounts, feedback)
    assert not together(result, "agora:4", "dream:9")
    assert any("contradicts" in w for w in result.warnings)


def test_unknown_accounts_in_feedback_are_warned_about() -> None:
    accounts, _ = load()
    result = cluster_accounts(accounts, [Feedback("reject", "a", when(1), account_a="agora:1", account_b="nope:1")])
    assert any("nope:1" in w for w in result.warnings)


def test_cluster_ids_are_stable() -> None:
    accounts, _ = load()
    first = cluster_accounts(accounts).assignments()
    shuffled = list(accounts)
    random.Random(3).shuffle(shuffled)
    shuffled.append(Account("zzz:1", "zzz", "unrelated_vendor"))
    second = cluster_accounts(shuffled).assignments()
    assert all(first[a].cluster_id == second[a].cluster_id for a in first)


def test_duplicate_account_ids_are_refused() -> None:
    with pytest.raises(RecordError, match="unique"):
        cluster_accounts([Account("a:1", "a", "x"), Account("a:1", "a", "y")])


def test_feedback_records_are_validated() -> None:
    with pytest.raises(RecordError, match="account_b"):
        Feedback.from_dict({"kind": "reject", "who": "x", "when": "2024-05-01T10:00:00Z", "account_a": "a"})
    with pytest.raises(RecordError, match="when"):
        Feedback.from_dict({"kind": "confirm", "who": "x", "when": "yesterday", "account_a": "a", "account_b": "b"})
    with pytest.raises(RecordError, match="kind"):
        Feedback.from_dict({"kind": "maybe", "who": "x", "when": "2024-05-01T10:00:00Z"})


def test_metrics_on_a_known_example() -> None:
    truth = {"a": 1, "b": 1, "c": 1, "d": 2}
    pred = {"a": "x", "b": "x", "c": "y", "d": "y"}
    p = pairwise(pred, truth)
    assert (p["correct_pairs"], p["predicted_pairs"], p["true_pairs"]) == (1, 2, 3)
    b = bcubed(pred, truth)
    assert b["precision"] == pytest.approx((1 + 1 + 0.5 + 0.5) / 4)
    assert b["recall"] == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)


def together_ids(result, a: str, b: str) -> bool:
    return result.assignments()[a].cluster_id == result.assignments()[b].cluster_id


def test_a_claimed_alias_scoped_to_a_site_links_only_that_account() -> None:
    # A forum profile says "Vendor on Bazaar as DrGreen": the DrGreen of another market is someone else.
    claim = Account.from_dict({"account_id": "forum:DrGreen420", "site": "forum", "handle": "DrGreen420",
                               "mentions": [{"site": "bazaar", "handle": "DrGreen"}]})
    shop = Account("bazaar:DrGreen", "bazaar", "DrGreen")
    other = Account("cobalt:DrGreen", "cobalt", "DrGreen", ships_from=("CO",))
    result = cluster_accounts([claim, shop, other])
    assert together_ids(result, "forum:DrGreen420", "bazaar:DrGreen")
    assert not together_ids(result, "forum:DrGreen420", "cobalt:DrGreen")
    link = next(lk for lk in result.links if {lk.a, lk.b} == {"forum:DrGreen420", "bazaar:DrGreen"})
    assert "names 'DrGreen' as its own elsewhere" in link.sentence
    with pytest.raises(RecordError, match="mentions"):
        Account.from_dict({"account_id": "x", "site": "s", "handle": "h", "mentions": [{"site": "s"}]})


def test_a_claimed_alias_is_a_candidate_even_with_an_unlike_handle() -> None:
    # "Vendor on Bazaar as NorthernLights" from a forum account called "nl_grower": no handle block holds both.
    claim = Account.from_dict({"account_id": "forum:nl_grower", "site": "forum", "handle": "nl_grower",
                               "contacts": ["wickr:nlgrow"],
                               "mentions": [{"site": "bazaar", "handle": "NorthernLights"}]})
    shop = Account("bazaar:NorthernLights", "bazaar", "NorthernLights", ships_from=("NL",))
    for exhaustive in (False, True):
        result = cluster_accounts([claim, shop], exhaustive=exhaustive)
        # a claim alone (it can be forged) is a candidate for review, not a link
        link = next(lk for lk in result.links if {lk.a, lk.b} == {"forum:nl_grower", "bazaar:NorthernLights"})
        assert link.status == "review" and link.evidence["claimed_alias"]
        assert not together_ids(result, "forum:nl_grower", "bazaar:NorthernLights")


def test_cyclic_gc_is_paused_while_clustering_and_restored(monkeypatch) -> None:
    """The collector is off during a run (full collections over millions of live objects cost a third of a
    300k-account run) and back on afterwards, also when the run fails; left off if the caller had it off."""
    import gc

    from classifiers.vendors import cluster as cluster_module

    seen = []
    real = cluster_module.all_features

    def spy(accounts):
        seen.append(gc.isenabled())
        return real(accounts)

    monkeypatch.setattr(cluster_module, "all_features", spy)
    accounts, _ = load()
    assert gc.isenabled()
    cluster_accounts(accounts)
    assert seen == [False] and gc.isenabled()
    with pytest.raises(RecordError):
        cluster_accounts(accounts + accounts[:1])  # a repeated account_id
    assert gc.isenabled()
    gc.disable()
    try:
        cluster_accounts(accounts)
        assert not gc.isenabled()
    finally:
        gc.enable()
