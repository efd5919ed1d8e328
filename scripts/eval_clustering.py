"""Evaluate vendor alias clustering against the testbed's answer key and the synthetic population.

Accounts are built only from what a crawl of the testbed sees (see `testbed_accounts`): vendor pages,
listings attached by the vendor handle they display, forum posts grouped by author and the forum profile's
shop line; the answer key's ground-truth fields only give the truth (each account's actor; decoys are
actors of their own). `decoys_joined` counts decoy actors put in a cluster with the actor they imitate.

Reports pairwise precision/recall/F1 and B-cubed for `cluster_accounts`, next to the handle-edit-distance
baseline measured by the same code on the same accounts.

    .venv/bin/python scripts/eval_clustering.py                 # testbed days 1 and 14, synthetic 20k
    .venv/bin/python scripts/eval_clustering.py --days 1,7,14 --errors 20
    .venv/bin/python scripts/eval_clustering.py --seeds 1,2,3,4,5,6,7 --synthetic 0
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifiers.vendors import Account, cluster_accounts  # noqa: E402
from classifiers.vendors.baseline import handle_baseline  # noqa: E402
from classifiers.vendors.metrics import bcubed, cross_group_pairs, pairwise  # noqa: E402

SHOP_LINE = re.compile(r"\bVendor on (.+?) as (\S+)")
FINGERPRINT = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{4} ?){9}[0-9A-Fa-f]{4}(?![0-9A-Fa-f])")


def testbed_accounts(seed: int, day: int) -> tuple[list[Account], dict[str, str]]:
    """Accounts from what a crawl of the testbed sees, and the truth (actor per account) kept apart.

    Only fields the pages show are read: vendor pages (handle, printed fingerprint or the fingerprint
    computed from the printed key block, contacts, wallets in the terms, ships-from, terms, "also on"
    handles), forum profile pages (the shop line), listing pages (title, attached to the vendor by the handle the listing names; substances by
    the extractors, not the key's ground truth) and forum posts (grouped by author name; identifiers found
    in the text by the extractors). The key's ground-truth fields (account_id, actor_id, substances,
    pgp_key_fingerprint) are used only to build `truth`.
    """
    import testbed
    from extractors import analyze_records
    from extractors.identifiers import find_identifiers, pgp_fingerprint
    from testbed.view import view

    key = testbed.answer_key(seed, day)
    # Forum profile pages (/user/<handle>) are not in the key; read them from the served day's content.
    forum_users = view(seed, day).forum_users
    site_ids = {site["name"]: site["id"] for site in key["sites"]}  # the market's name as its pages show it
    actor_of = {acc["account_id"]: actor["actor_id"] for actor in key["actors"] for acc in actor["accounts"]}
    truth: dict[str, str] = {}
    titles: dict[tuple[str, str], list[str]] = defaultdict(list)
    substances: dict[tuple[str, str], set[str]] = defaultdict(set)
    listings = key["listings"]
    found = analyze_records([{"id": i, "title": item["title"]} for i, item in enumerate(listings)])
    for listing, result in zip(listings, found, strict=True):
        shop = (listing["site"], listing["vendor"])
        titles[shop].append(listing["title"])
        substances[shop].update(s["canonical"] for s in result["substances"])
    accounts: list[Account] = []
    market_handles = sorted({v["handle"] for v in key["vendors"]})
    for v in key["vendors"]:
        shop = (v["site"], v["handle"])
        account_id = f"{v['site']}:{v['handle']}"
        truth[account_id] = actor_of[v["account_id"]]
        pgp = {x for x in (v.get("pgp_fingerprint"),) if x}
        if v.get("pgp_key"):
            pgp.add(pgp_fingerprint(v["pgp_key"]))
        contacts = [f"{kind}:{value}" for kind, value in sorted((v.get("contacts") or {}).items())]
        wallets = set(v.get("wallets") or [])
        wallets.update(f["value"] for f in find_identifiers(v.get("terms") or "")
                       if f["kind"] in ("btc", "xmr", "eth"))
        accounts.append(Account.from_dict({
            "account_id": account_id, "site": v["site"], "handle": v["handle"],
            "pgp_fingerprints": sorted(x for x in pgp if x), "wallets": sorted(wallets), "contacts": contacts,
            "ships_from": [v["ships_from"]] if v.get("ships_from") else [], "titles": titles[shop],
            "profile": v.get("terms") or "", "products": sorted(substances[shop]),
            "mentions": [{"site": m["site"], "handle": m["handle"]} for m in v.get("mentions") or []]}))
    posts: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for post in key["posts"]:
        posts[(post["site"], post["author"])].append(post)
        truth.setdefault(f"{post['site']}:{post['author']}", actor_of.get(post["account_id"],
                                                                          f"unknown:{post['account_id']}"))
    opened = defaultdict(list)
    for thread in key["threads"]:
        opened[(thread["site"], thread["author"])].append(thread["title"])
    for (site, author), items in sorted(posts.items()):
        ident: dict[str, set[str]] = defaultdict(set)
        signature = next((p["signature"] for p in items if p.get("signature")), "") or ""
        for p in items:
            text = p["text"] + "\n" + (p.get("signature") or "")
            for hit in find_identifiers(text):
                ident[hit["kind"]].add(hit["value"])
            # Fingerprints written out in posts and signatures ("PGP 3A1F 9C2B ..."), not only key blocks.
            ident["pgp"].update(m.group().replace(" ", "").upper() for m in FINGERPRINT.finditer(text))
        # A shop handle the account names in most of its own posts is its own signature line ("... Shop:
        # DrGreen on Cobalt"); a reviewer names a different vendor in each review. What a forum member
        # talks about is not a product mix, so forum accounts get no products.
        # The author's forum profile page (/user/<handle>) may name their shop and market: "Vendor on
        # Cobalt as X"; the market's short name starts its full name ("Cobalt Market").
        mentions: list = []
        shop = SHOP_LINE.search((forum_users.get(author) or {}).get("market") or "")
        if shop:
            market = next((i for name, i in site_ids.items() if name.startswith(shop.group(1))), None)
            mentions.append({"site": market, "handle": shop.group(2)} if market else shop.group(2))
        else:  # a handle (exactly as shown) named in most of the author's own posts
            counts = {h: sum(1 for p in items if re.search(rf"(?<!\w){re.escape(h)}(?!\w)", p["text"]))
                      for h in market_handles}
            mentions = [h for h, c in counts.items() if c >= 2 and c >= len(items) / 2]
        contacts = [f"{k}:{v}" for k in ("telegram", "wickr", "session", "threema", "signal", "email")
                    for v in sorted(ident.get(k, ()))]
        wallets = sorted(ident.get("btc", set()) | ident.get("xmr", set()) | ident.get("eth", set()))
        accounts.append(Account.from_dict({
            "account_id": f"{site}:{author}", "site": site, "handle": author,
            "pgp_fingerprints": sorted(ident.get("pgp", ())), "wallets": wallets, "contacts": contacts,
            "titles": opened.get((site, author), []), "profile": signature, "mentions": mentions}))
    return accounts, truth


def decoy_pairs(seed: int, day: int) -> list[tuple[set[str], set[str]]]:
    """(decoy's accounts, look-alike actor's accounts) as crawl ids "site:handle", for each decoy actor."""
    import testbed

    key = testbed.answer_key(seed, day)
    ids = {actor["actor_id"]: {f"{a['site']}:{a['handle']}" for a in actor["accounts"] if a.get("active", True)}
           for actor in key["actors"]}
    return [(ids[actor["actor_id"]], ids.get(actor["is_decoy_of"], set())) for actor in key["actors"]
            if actor.get("is_decoy_of")]


def decoys_joined(pred: dict[str, str], pairs: list[tuple[set[str], set[str]]]) -> int:
    """How many decoy actors share a cluster with the actor they imitate."""
    joined = 0
    for decoy, target in pairs:
        if {pred[a] for a in decoy if a in pred} & {pred[a] for a in target if a in pred}:
            joined += 1
    return joined


def crawled_accounts(db_url: str, seed: int, day: int) -> tuple[list[Account], dict[str, str],
                                                                list[tuple[set[str], set[str]]]]:
    """Accounts as `narcowatch cluster --db` loads them from a database a testbed crawl filled (read only),
    with the truth from the answer key by (site, handle); profile slugs "testbed_<site>" name testbed sites."""
    from sqlalchemy.orm import Session

    import testbed
    from storage.cluster_store import load_accounts
    from storage.db import make_engine

    key = testbed.answer_key(seed, day)
    actor_of = {acc["account_id"]: actor["actor_id"] for actor in key["actors"] for acc in actor["accounts"]}
    by_handle = {(v["site"], v["handle"]): actor_of[v["account_id"]] for v in key["vendors"]}
    # forum authors (stored as accounts of the forum site): their actor from the key's posts and threads
    for item in [*key["posts"], *key["threads"]]:
        by_handle.setdefault((item["site"], item["author"]),
                             actor_of.get(item["account_id"], f"unknown:{item['account_id']}"))
    engine = make_engine(db_url)
    with Session(engine) as session:
        accounts, _ = load_accounts(session)
    engine.dispose()
    truth = {}
    for a in accounts:
        site = a.site.removeprefix("testbed_")
        truth[a.account_id] = by_handle.get((site, a.handle), f"unknown:{a.account_id}")
    decoys = [({f"testbed_{x}" for x in d}, {f"testbed_{x}" for x in t}) for d, t in decoy_pairs(seed, day)]
    return accounts, truth, decoys


def synthetic_accounts(n: int, seed: int) -> tuple[list[Account], dict[str, str]]:
    from classifiers.vendors.synth import generate_accounts

    return generate_accounts(n, seed=seed, rich=True)


def evaluate(name: str, accounts: list[Account], truth: dict[str, str], errors: int,
             decoys: list[tuple[set[str], set[str]]] | None = None) -> list[dict]:
    result = cluster_accounts(accounts)
    ours = {m: c.cluster_id for c in result.clusters for m in c.members}
    base = handle_baseline(accounts)
    rows = []
    # forum <-> market pairs on their own: is a forum author linked to the same actor's shops?
    group = {a.account_id: "forum" if a.site.removeprefix("testbed_") == "forum" else "market" for a in accounts}
    for method, pred in (("cluster_accounts", ours), ("handle edit distance >= 0.8", base)):
        pw, b3, cross = pairwise(pred, truth), bcubed(pred, truth), cross_group_pairs(pred, truth, group)
        rows.append({"set": name, "method": method, "accounts": len(accounts),
                     "pairwise_precision": round(pw["precision"], 4), "pairwise_recall": round(pw["recall"], 4),
                     "pairwise_f1": round(pw["f1"], 4), "bcubed_precision": round(b3["precision"], 4),
                     "bcubed_recall": round(b3["recall"], 4), "bcubed_f1": round(b3["f1"], 4),
                     "true_pairs": pw["true_pairs"], "predicted_pairs": pw["predicted_pairs"],
                     "forum_market_precision": round(cross["precision"], 4),
                     "forum_market_recall": round(cross["recall"], 4),
                     "forum_market_pairs": f"{cross['correct_pairs']}/{cross['true_pairs']} "
                                           f"(predicted {cross['predicted_pairs']})",
                     "decoys_joined": "" if decoys is None else f"{decoys_joined(pred, decoys)}/{len(decoys)}"})
    if errors:
        _show_errors(accounts, truth, ours, result, errors)
    return rows


def _show_errors(accounts, truth, pred, result, limit: int) -> None:
    by_id = {a.account_id: a for a in accounts}
    links = {(lk.a, lk.b): lk for lk in result.links}
    fp, fn = [], []
    ids = sorted(by_id)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            same_pred, same_true = pred[a] == pred[b], truth[a] == truth[b]
            if same_pred and not same_true:
                fp.append((a, b))
            elif same_true and not same_pred:
                fn.append((a, b))
    for label, pairs in (("FALSE LINK", fp), ("MISSED", fn)):
        print(f"-- {label}: {len(pairs)} pairs", file=sys.stderr)
        for a, b in pairs[:limit]:
            lk = links.get((a, b))
            why = f"[{lk.status} {lk.score:.2f}] {lk.sentence}" if lk else "(no candidate link)"
            print(f"   {a} {by_id[a].handle!r} ~ {b} {by_id[b].handle!r}: {why}", file=sys.stderr)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=None, help="testbed seed (default: the testbed's)")
    parser.add_argument("--seeds", default=None, help="several testbed seeds, comma-separated (overrides --seed)")
    parser.add_argument("--days", default="1,14", help="testbed days, comma-separated")
    parser.add_argument("--synthetic", type=int, default=20_000, help="synthetic accounts (0: skip)")
    parser.add_argument("--crawl-db", default=None,
                        help="also evaluate the accounts stored in this database (URL) by a crawl of the testbed "
                             "on the first of --days (read only)")
    parser.add_argument("--errors", type=int, default=0, help="print up to N false and missed pairs")
    parser.add_argument("--json", action="store_true", help="one JSON line per row instead of a table")
    args = parser.parse_args(argv)
    rows: list[dict] = []
    try:
        import testbed
        seeds = ([int(x) for x in args.seeds.split(",") if x] if args.seeds else
                 [testbed.DEFAULT_SEED if args.seed is None else args.seed])
        for seed in seeds:
            for day in (int(d) for d in args.days.split(",") if d):
                accounts, truth = testbed_accounts(seed, day)
                rows += evaluate(f"testbed seed {seed} day {day}", accounts, truth, args.errors,
                                 decoy_pairs(seed, day))
            if args.crawl_db:
                day = int(args.days.split(",")[0])
                accounts, truth, decoys = crawled_accounts(args.crawl_db, seed, day)
                rows += evaluate(f"crawled DB, testbed seed {seed} day {day}", accounts, truth, args.errors, decoys)
    except ImportError as exc:
        print(f"testbed not available ({exc}); synthetic only", file=sys.stderr)
    if args.synthetic:
        for seed in (11, 12):
            accounts, truth = synthetic_accounts(args.synthetic, seed)
            rows += evaluate(f"synthetic {len(accounts)} seed {seed}", accounts, truth, args.errors)
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        cols = ["set", "method", "accounts", "pairwise_precision", "pairwise_recall", "pairwise_f1",
                "bcubed_precision", "bcubed_recall", "bcubed_f1", "forum_market_precision", "forum_market_recall",
                "forum_market_pairs", "decoys_joined"]
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))
        for row in rows:
            print("| " + " | ".join(str(row[c]) for c in cols) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
