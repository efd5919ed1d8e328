"""The ground truth for one day: what every page shows, who is behind each account, what changed.

See docs/testbed.md for the schema. Keys are inserted in a fixed order and lists are sorted, so
`json.dumps(answer_key(seed, day))` is byte-identical for the same seed and day.
"""

from __future__ import annotations

from testbed import world as world_mod
from testbed.view import DayView, view
from testbed.world import MARKETS, SITE_NAMES, SITES

SCHEMA_VERSION = 1


def _site_entries(v: DayView) -> list[dict]:
    out = []
    for s in SITES:
        entry = {"id": s, "name": SITE_NAMES[s],
                 "kind": {"market_b": "market-js", "market_c": "onion-market", "forum": "forum",
                          "hostile": "hostile"}.get(s, "market"),
                 "up": v.up[s]}
        if s == "market_c":
            entry["onion"] = v.world.onion_host
        out.append(entry)
    return out


def _last_up_before(w, site: str, day: int) -> int | None:
    for d in range(day - 1, 0, -1):
        if w.site_up(site, d):
            return d
    return None


def _changes(seed: int, v: DayView) -> dict:
    w = v.world
    day = v.day
    out: dict = {"previous_day": day - 1 if day > 1 else None, "new_listings": [], "vanished_listings": [],
                 "changed": [], "new_vendors": [], "vanished_vendors": [], "vendor_moves": [],
                 "sites_down": [], "sites_up": [], "new_posts": []}
    if day == 1:
        return out
    prev_all = view(seed, day - 1)
    for s in SITES:
        if prev_all.up[s] and not v.up[s]:
            out["sites_down"].append(s)
        if v.up[s] and not prev_all.up[s]:
            out["sites_up"].append(s)
    for s in MARKETS:
        if not v.up[s]:
            continue
        before_day = _last_up_before(w, s, day)
        if before_day is None:
            continue
        before = view(seed, before_day)
        old = {r["external_id"]: r for r in before.listings[s]}
        new = {r["external_id"]: r for r in v.listings[s]}
        out["new_listings"] += [{"site": s, "external_id": e} for e in sorted(set(new) - set(old))]
        out["vanished_listings"] += [{"site": s, "external_id": e} for e in sorted(set(old) - set(new))]
        for e in sorted(set(new) & set(old)):
            for field in ("price", "stock", "ships_to"):
                if old[e][field] != new[e][field]:
                    out["changed"].append({"site": s, "external_id": e, "field": field,
                                           "before": old[e][field], "after": new[e][field]})
        old_v = {r["account_id"]: r for r in before.vendors[s]}
        new_v = {r["account_id"]: r for r in v.vendors[s]}
        out["new_vendors"] += [{"site": s, "account_id": a, "handle": new_v[a]["handle"]} for a in sorted(set(new_v) - set(old_v))]
        out["vanished_vendors"] += [{"site": s, "account_id": a, "handle": old_v[a]["handle"]}
                                    for a in sorted(set(old_v) - set(new_v))]
    for m in w.moves:
        if m["day"] == day:
            src, dst = w.accounts[m["from_account"]], w.accounts[m["to_account"]]
            out["vendor_moves"].append({
                "actor_id": m["actor_id"],
                "from": {"site": src.site, "handle": src.handle, "account_id": src.account_id},
                "to": {"site": dst.site, "handle": dst.handle, "account_id": dst.account_id}})
    for posts in v.posts.values():
        out["new_posts"] += [p["post_id"] for p in posts if p["posted_at"][:10] == v.date.isoformat()]
    out["new_posts"].sort()
    return out


def answer_key(seed: int = world_mod.DEFAULT_SEED, day: int = 1) -> dict:
    """Ground truth for `day` (1..N) of the world built from `seed`."""
    v = view(seed, day)
    w = v.world
    listings = [r for s in MARKETS for r in sorted(v.listings[s], key=lambda r: r["external_id"])]
    vendors = [r for s in MARKETS for r in v.vendors[s]]
    actors = []
    for aid in sorted(w.actors):
        a = w.actors[aid]
        accs = []
        for acc_id in a.accounts:
            acc = w.accounts[acc_id]
            if acc.first_day > day:
                continue
            accs.append({"account_id": acc_id, "site": acc.site, "handle": acc.handle,
                         "active": w.active(acc, day) and v.up[acc.site],
                         "linked_by": list(acc.links) if acc_id != a.accounts[0] else []})
        actors.append({"actor_id": aid, "role": a.role, "country": a.country[0], "is_decoy_of": a.decoy_of,
                       "accounts": accs})
    threads = sorted(v.threads, key=lambda t: t["thread_id"])
    posts = [p for t in threads for p in v.posts[t["thread_id"]]]
    boards = [{"board": slug, "name": name, "lang": lang} for slug, name, lang, _k in w.forum.boards]
    return {
        "schema": SCHEMA_VERSION, "seed": seed, "day": day, "date": v.date.isoformat(), "days": w.days,
        "sites": _site_entries(v),
        "rates_usd": {k: f"{val:f}" for k, val in sorted(w.rates[day].items())},
        "listings": listings, "vendors": vendors, "actors": actors, "boards": boards,
        "threads": threads, "posts": posts, "changes": _changes(seed, v),
    }
