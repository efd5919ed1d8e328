"""The generated world and its answer key: size, coverage, linking evidence, determinism, days."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from rapidfuzz import fuzz

import testbed
from testbed import btc, ids, vocab
from testbed.world import DAYS, DEFAULT_SEED, MARKETS, build

ROOT = Path(__file__).resolve().parents[1]
TAXONOMY = {"cannabis", "stimulants", "ecstasy", "psychedelics", "opioids", "benzodiazepines", "prescription",
            "dissociatives", "doping", "nps", "precursors", "not_drug"}


@pytest.fixture(scope="module")
def key1() -> dict:
    return testbed.answer_key(DEFAULT_SEED, 1)


def _digest(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, ensure_ascii=False).encode()).hexdigest()


def test_same_seed_same_key_in_a_fresh_interpreter(key1):
    code = (f"import json,hashlib,testbed;k=testbed.answer_key({DEFAULT_SEED},3);"
            "print(hashlib.sha256(json.dumps(k,ensure_ascii=False).encode()).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"}).stdout.strip()
    assert out == _digest(testbed.answer_key(DEFAULT_SEED, 3))


def test_other_seed_other_world(key1):
    other = testbed.answer_key(7, 1)
    assert _digest(other) != _digest(key1)
    assert {r["title"] for r in other["listings"]} != {r["title"] for r in key1["listings"]}


def test_generation_is_fast():
    t = time.perf_counter()
    build.__wrapped__(4242)
    assert time.perf_counter() - t < 5


def test_sizes(key1):
    assert len(key1["listings"]) >= 2000
    vendor_actors = {v["actor_id"] for v in key1["vendors"]}
    assert len(key1["vendors"]) >= 150
    assert len(vendor_actors) >= 90
    assert {r["site"] for r in key1["listings"]} == set(MARKETS)
    assert len(key1["posts"]) >= 500 and len(key1["threads"]) >= 60


def test_answer_key_is_json_with_documented_fields(key1):
    json.loads(json.dumps(key1))
    assert list(key1)[:6] == ["schema", "seed", "day", "date", "days", "sites"]
    assert key1["date"] == "2026-09-28" and testbed.answer_key(DEFAULT_SEED, 2)["date"] == "2026-09-29"
    for field in ("site", "external_id", "url", "title", "description", "price", "currency", "price_options",
                  "quantity", "unit", "ships_from", "ships_to", "stock", "vendor", "category", "substances"):
        assert all(field in r for r in key1["listings"]), field
    for field in ("site", "handle", "account_id", "actor_id", "pgp_fingerprint", "pgp_key", "contacts", "wallets"):
        assert all(field in v for v in key1["vendors"]), field
    for field in ("thread_id", "post_id", "author", "posted_at", "lang", "text", "quotes", "signature",
                  "is_trade", "substances"):
        assert all(field in p for p in key1["posts"]), field


def test_every_category_and_canonical_ids(key1):
    canonical = {r["id"]: r["category"] for r in csv.DictReader((ROOT / "extractors/data/canonical.csv").open())}
    cats = Counter(r["category"] for r in key1["listings"])
    assert set(cats) == TAXONOMY
    assert cats["precursors"] >= 10 and cats["doping"] >= 10 and cats["not_drug"] >= 10
    for r in key1["listings"]:
        assert r["category"] in TAXONOMY
        for s in r["substances"]:
            assert canonical[s] == r["category"], (r["title"], s)
        assert (r["category"] == "not_drug") == (not r["substances"])
    for p in key1["posts"]:
        assert all(s in canonical for s in p["substances"])


def test_prices_and_quantities_are_consistent(key1):
    for r in key1["listings"]:
        assert r["price"] == r["price_options"][0]["price"]
        assert r["quantity"] == r["price_options"][0]["quantity"]
        assert r["price_value"].replace(".", "").isdigit()
        if r["site"] == "market_b":
            assert r["currency"] in ("XMR", "BTC") and "," in r["price"] and r["price_fiat"].endswith("€")
        elif r["site"] == "market_c":
            assert r["currency"] == "BTC" and r["price"].startswith("BTC ") and "USD" in r["price_fiat"]
        else:
            assert r["currency"] in ("USD", "EUR", "GBP", "BTC")
    tiers = [r for r in key1["listings"] if len(r["price_options"]) >= 4]
    assert len(tiers) > 50


def test_multilingual_titles_and_posts(key1):
    langs = Counter(r["lang"] for r in key1["listings"])
    assert all(langs[lang] >= 20 for lang in ("en", "fr", "es", "de", "nl")), langs
    post_langs = Counter(p["lang"] for p in key1["posts"])
    assert all(post_langs[lang] >= 20 for lang in ("en", "fr", "es", "de", "nl")), post_langs
    harm = [p for p in key1["posts"] if p["board"] == "harm-reduction"]
    assert harm and all(not p["is_trade"] for p in harm) and any(p["substances"] for p in harm)
    assert sum(1 for p in key1["posts"] if p["is_trade"] and p["substances"]) >= 100
    offtopic = [p for p in key1["posts"] if not p["is_trade"] and not p["substances"]]
    assert len(offtopic) >= 100
    assert any(p["quotes"] for p in key1["posts"]) and any(p["signature"] for p in key1["posts"])


def test_hostile_payloads_are_in_the_key_as_text(key1):
    fields = ([r["title"] for r in key1["listings"]], [r["description"] for r in key1["listings"]],
              [v["handle"] for v in key1["vendors"]], [p["text"] for p in key1["posts"]])
    for texts in fields:
        assert any("<script" in t or "onerror=" in t or "javascript:" in t or "<b>" in t for t in texts)


def test_bitcoin_addresses_and_pgp(key1):
    assert btc.bech32_address(bytes.fromhex("751e76e8199196d454941c45d1b3a323f1433bd6")) == \
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    assert btc.base58check(b"\x00" * 21) == "1111111111111111111114oLvT2"
    wallets = [w for v in key1["vendors"] for w in v["wallets"]]
    assert len(wallets) > 20 and all(btc.valid(w) for w in wallets)
    assert not btc.valid(wallets[0][:-1] + ("q" if wallets[0][-1] != "q" else "p"))
    keyed = [v for v in key1["vendors"] if v["pgp_key"]]
    import base64
    for v in keyed[:20]:  # one v4 public-key packet whose header declares its true length (RFC 4880)
        lines = v["pgp_key"].splitlines()
        data = base64.b64decode("".join(ln for ln in lines[2:-2]))
        assert data[0] == 0x99 and int.from_bytes(data[1:3], "big") == len(data) - 3 and data[3] == 4
        assert hashlib.sha1(data).hexdigest().upper() == v["pgp_key_fingerprint"]
    assert all(ids.fingerprint_of_block(v["pgp_key"]) == v["pgp_key_fingerprint"] for v in keyed)
    assert all(v["pgp_fingerprint"] in (None, v["pgp_key_fingerprint"]) for v in keyed)
    assert any(v["pgp_key"] and v["pgp_fingerprint"] is None for v in key1["vendors"])
    onion = build(DEFAULT_SEED).onion_host
    assert re.fullmatch(r"[a-z2-7]{56}\.onion", onion)


def _accounts_by_actor(key: dict) -> dict[str, list[dict]]:
    by: dict[str, list[dict]] = {}
    for v in key["vendors"]:
        by.setdefault(v["actor_id"], []).append(v)
    return by


def test_linking_evidence_of_every_kind(key1):
    by = _accounts_by_actor(key1)
    multi = {a: vs for a, vs in by.items() if len(vs) > 1}
    assert len(multi) >= 30
    kinds = Counter()
    for vs in multi.values():
        a, b = vs[0], vs[1]
        shared = set()
        if a["pgp_key_fingerprint"] and a["pgp_key_fingerprint"] == b["pgp_key_fingerprint"]:
            shared.add("pgp")
        if set(a["wallets"]) & set(b["wallets"]):
            shared.add("wallet")
        if set(a["contacts"].values()) & set(b["contacts"].values()):
            shared.add("contact")
        kinds.update(shared or {"style-only"})
    assert all(kinds[k] >= 2 for k in ("pgp", "wallet", "contact", "style-only")), kinds
    # handles vary across sites: case, separators, suffixes, leetspeak, typos
    differing = [vs for vs in multi.values() if len({v["handle"] for v in vs}) > 1]
    assert len(differing) >= 20


def test_decoys_look_alike_but_share_nothing(key1):
    actors = {a["actor_id"]: a for a in key1["actors"]}
    decoys = [a for a in actors.values() if a["is_decoy_of"]]
    assert len(decoys) >= 5
    vend = _accounts_by_actor(key1)
    checked = 0
    for d in decoys:
        mine, theirs = vend.get(d["actor_id"], []), vend.get(d["is_decoy_of"], [])
        if not mine or not theirs:
            continue
        checked += 1
        best = max(fuzz.ratio(m["handle"].lower(), t["handle"].lower()) for m in mine for t in theirs)
        assert best >= 70, (d, best)
        keys = {v["pgp_key_fingerprint"] for v in mine} & {v["pgp_key_fingerprint"] for v in theirs}
        assert not (keys - {None})
        assert not {w for v in mine for w in v["wallets"]} & {w for v in theirs for w in v["wallets"]}
    assert checked >= 5


def test_days_change_things():
    keys = {d: testbed.answer_key(DEFAULT_SEED, d) for d in range(1, DAYS + 1)}
    assert keys[1]["changes"]["previous_day"] is None
    total = Counter()
    for d in range(2, DAYS + 1):
        for k, val in keys[d]["changes"].items():
            if isinstance(val, list):
                total[k] += len(val)
    fields = Counter(c["field"] for d in range(2, DAYS + 1) for c in keys[d]["changes"]["changed"])
    assert fields["price"] >= 50 and fields["stock"] >= 50 and fields["ships_to"] >= 5
    assert total["new_listings"] >= 50 and total["vanished_listings"] >= 50
    assert total["vendor_moves"] >= 3 and total["sites_down"] >= 2 and total["sites_up"] >= 2
    assert keys[2]["changes"]["vendor_moves"], "the first re-crawl (day 2) has a vendor move to notice"
    down = [d for d in keys if not all(s["up"] for s in keys[d]["sites"])]
    assert down and all(not [r for r in keys[d]["listings"] if r["site"] in
                             [s["id"] for s in keys[d]["sites"] if not s["up"]]] for d in down)
    # a changed price in the key really differs between the two days' listing records
    d = next(d for d in range(2, DAYS + 1) if any(c["field"] == "price" for c in keys[d]["changes"]["changed"]))
    c = next(c for c in keys[d]["changes"]["changed"] if c["field"] == "price")
    before = next(r for r in keys[d - 1]["listings"] if r["external_id"] == c["external_id"] and r["site"] == c["site"])
    after = next(r for r in keys[d]["listings"] if r["external_id"] == c["external_id"] and r["site"] == c["site"])
    assert (before["price"], after["price"]) == (c["before"], c["after"])
    move = next(m for d in keys for m in keys[d]["changes"]["vendor_moves"])
    assert move["from"]["site"] != move["to"]["site"]


def test_vocabulary_maps_to_canonical_ids():
    canonical = {r["id"]: r["category"] for r in csv.DictReader((ROOT / "extractors/data/canonical.csv").open())}
    for p in vocab.PRODUCTS:
        for s in p.substances:
            assert canonical.get(s) == p.category, (p.key, s)
        assert set(p.intl) == {"fr", "es", "de", "nl"}, p.key
