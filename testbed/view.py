"""One day of the world as the sites show it: records whose values are exactly the displayed text.

Pages and the answer key are both rendered from these records, so the key cannot drift from the pages.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import quote

from testbed import ids, vocab
from testbed.forumgen import MARKET_LABEL, Forum
from testbed.pricing import FIAT_PER_USD, comma, fmt_qty, show_a, show_b, show_b_fiat, show_c, show_c_fiat
from testbed.world import MARKETS, SITES, Account, Listing, World, build, day_date

THREAD_PAGE = 10  # posts per thread page
# Answer-key fields no page shows (ground truth): an API must never leak them.
KEY_ONLY_LISTING = ("account_id", "category", "substances", "lang", "first_day")
KEY_ONLY_VENDOR = ("account_id", "actor_id", "pgp_key_fingerprint")
B_NAMES = {"Cannabis": "Weed & Hash", "Stimulants": "Uppers", "Ecstasy": "Party pills & MDMA",
           "Psychedelics": "Psychedelics", "Opioids": "Opiates", "Benzos": "Downers", "Pharmacy": "Pharmacy",
           "Dissociatives": "Dissociatives", "Steroids": "Sports & PEDs", "Research chemicals": "Research chemicals",
           "Chemicals": "Lab supplies", "Digital goods": "Digital", "Counterfeits": "Fakes & replicas"}


def slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text)
    return "-".join(filter(None, out.split("-")))


def vendor_path(site: str, handle: str) -> str:
    h = quote(handle, safe="")
    return {"market_a": f"/vendor/{h}", "market_b": f"/shop/{h}", "market_c": f"/vendor?name={h}"}[site]


def listing_path(site: str, ext: str) -> str:
    return {"market_a": f"/listing/{ext}", "market_b": f"/item/{ext}", "market_c": f"/product?id={ext}"}[site]


def breadcrumb(site: str, group: str) -> list[str]:
    parent, child = vocab.GROUPS[group]
    if site == "market_a":
        return ["Home", parent, child]
    if site == "market_b":
        return ["Bazaar Nova", B_NAMES[parent]]
    return ["Index", child]


@dataclass
class DayView:
    seed: int
    day: int
    date: date
    world: World
    up: dict[str, bool]
    listings: dict[str, list[dict]]
    listing_by_id: dict[tuple[str, str], dict]
    vendors: dict[str, list[dict]]
    vendor_by_handle: dict[tuple[str, str], dict]
    threads: list[dict]
    posts: dict[int, list[dict]]  # thread id -> visible posts in order
    forum_users: dict[str, dict]  # handle -> profile record


def _money(site: str, d: Decimal, currency: str) -> str:
    return {"market_a": show_a, "market_b": show_b, "market_c": show_c}[site](d, currency)


def _fiat(w: World, site: str, d: Decimal, currency: str, day: int) -> str | None:
    if currency in FIAT_PER_USD:
        return None
    usd = d * w.rates[day][currency]
    if site == "market_b":
        return show_b_fiat((usd * FIAT_PER_USD["EUR"]).quantize(Decimal("0.01")))
    return show_c_fiat(usd.quantize(Decimal("0.01")))


def _qty(site: str, x: float) -> str:
    return comma(Decimal(fmt_qty(x))) if site == "market_b" else fmt_qty(x)


def listing_record(w: World, li: Listing, day: int) -> dict:
    acc = w.accounts[li.account_id]
    site = li.site
    prices = w.prices_on(li, day)
    names, codes = vocab.SHIPS_TO[w.ships_to_on(li, day)]
    options = [{"quantity": _qty(site, qv), "unit": li.unit, "price": _money(site, p, li.currency),
                "price_value": f"{p:f}"} for qv, p in zip(li.quantities, prices, strict=True)]
    return {
        "site": site, "external_id": li.external_id, "url": listing_path(site, li.external_id),
        "title": li.title, "description": li.description,
        "price": options[0]["price"], "price_value": options[0]["price_value"], "currency": li.currency,
        "price_fiat": _fiat(w, site, prices[0], li.currency, day), "price_options": options,
        "quantity": options[0]["quantity"], "unit": li.unit,
        "ships_from": li.ships_from[1] if site == "market_b" else li.ships_from[0],
        "ships_to": list(codes if site == "market_b" else names),
        "stock": li.stock[day], "vendor": acc.handle, "vendor_url": vendor_path(site, acc.handle),
        "account_id": acc.account_id, "category": li.category, "substances": list(li.substances),
        "breadcrumb": breadcrumb(site, li.group), "escrow": li.escrow, "lang": li.lang, "first_day": li.first_day,
    }


def vendor_record(w: World, acc: Account, day: int, n_listings: int) -> dict:
    pos, neu, neg = acc.feedback
    days_on = day - acc.first_day
    mentions = []
    for other_id in acc.mentions:
        other = w.accounts[other_id]
        mentions.append({"site": other.site, "handle": other.handle})
    return {
        "site": acc.site, "handle": acc.handle, "url": vendor_path(acc.site, acc.handle),
        "account_id": acc.account_id, "actor_id": acc.actor_id,
        "pgp_fingerprint": acc.key[1] if acc.key and acc.show_fingerprint else None,
        "pgp_key": acc.key[0] if acc.key else None,
        "pgp_key_fingerprint": ids.fingerprint_of_block(acc.key[0]) if acc.key else None,
        "contacts": {k: acc.contacts[k] for k in sorted(acc.contacts)}, "wallets": list(acc.wallets),
        "ships_from": acc.ships_from[1] if acc.site == "market_b" else acc.ships_from[0],
        "terms": acc.terms,
        "feedback": {"positive": pos + acc.feedback_rate * days_on, "neutral": neu + days_on // 4,
                     "negative": neg + days_on // 7},
        "member_since": acc.member_since, "listings": n_listings, "mentions": mentions,
    }


def _post_record(w: World, thread, post, index: int) -> dict:
    acc = w.accounts[post.account_id]
    page = index // THREAD_PAGE + 1
    return {
        "site": "forum", "thread_id": thread.thread_id, "post_id": post.post_id, "board": thread.board,
        "url": f"/thread/{thread.thread_id}?page={page}#p{post.post_id}", "page": page,
        "author": acc.handle, "account_id": acc.account_id,
        "posted_at": post.posted_at.strftime("%Y-%m-%dT%H:%M:00Z"), "lang": post.lang, "text": post.text,
        "quotes": [{"post_id": pid, "author": w.accounts[aid].handle, "text": text} for pid, aid, text in post.quotes],
        "signature": acc.signature, "is_trade": post.is_trade, "substances": list(post.substances),
    }


@functools.lru_cache(maxsize=16)  # ~12 MB a view
def view(seed: int, day: int) -> DayView:
    w = build(seed)
    if not 1 <= day <= w.days:
        raise ValueError(f"day {day} is outside the testbed's days 1..{w.days}")
    up = {s: w.site_up(s, day) for s in SITES}
    listings: dict[str, list[dict]] = {s: [] for s in MARKETS}
    counts: dict[str, int] = {}
    for li in w.listings:
        if up[li.site] and w.listing_active(li, day):
            listings[li.site].append(listing_record(w, li, day))
            counts[li.account_id] = counts.get(li.account_id, 0) + 1
    for s in MARKETS:  # newest first, then by id: the order index pages use
        listings[s].sort(key=lambda r: (-r["first_day"], r["external_id"]))
    vendors: dict[str, list[dict]] = {s: [] for s in MARKETS}
    for acc in sorted(w.accounts.values(), key=lambda a: a.account_id):
        if acc.site in vendors and up[acc.site] and w.active(acc, day):
            vendors[acc.site].append(vendor_record(w, acc, day, counts.get(acc.account_id, 0)))
    threads: list[dict] = []
    posts: dict[int, list[dict]] = {}
    forum: Forum = w.forum  # type: ignore[assignment]
    cutoff = day_date(day)
    post_counts: dict[str, int] = {}
    for t in forum.threads:
        visible = [p for p in t.posts if p.posted_at.date() <= cutoff]
        if not visible:
            continue
        recs = [_post_record(w, t, p, i) for i, p in enumerate(visible)]
        posts[t.thread_id] = recs
        for p in visible:
            post_counts[p.account_id] = post_counts.get(p.account_id, 0) + 1
        threads.append({
            "site": "forum", "thread_id": t.thread_id, "board": t.board, "title": t.title,
            "url": f"/thread/{t.thread_id}", "author": w.accounts[t.account_id].handle,
            "account_id": t.account_id, "lang": t.lang, "posts": len(recs),
            "pages": (len(recs) - 1) // THREAD_PAGE + 1, "last_post_at": recs[-1]["posted_at"],
        })
    users = {}
    for acc in w.accounts.values():
        if acc.site == "forum":
            users[acc.handle] = {"handle": acc.handle, "account_id": acc.account_id,
                                 "posts": post_counts.get(acc.account_id, 0), "signature": acc.signature,
                                 "member_since": acc.member_since,
                                 "market": _market_mention(w, acc)}
    return DayView(
        seed=seed, day=day, date=cutoff, world=w, up=up, listings=listings,
        listing_by_id={(r["site"], r["external_id"]): r for s in MARKETS for r in listings[s]},
        vendors=vendors, vendor_by_handle={(r["site"], r["handle"]): r for s in MARKETS for r in vendors[s]},
        threads=threads, posts=posts, forum_users=users,
    )


def _market_mention(w: World, acc: Account) -> str | None:
    """Forum profiles of vendors name their shop: 'Vendor on Cobalt as X'."""
    actor = w.actors[acc.actor_id]
    if actor.role != "vendor":
        return None
    first = w.accounts[actor.accounts[0]]
    return f"Vendor on {MARKET_LABEL[first.site]} as {first.handle}"
