"""The forum: boards, threads and posts written by vendor actors' forum accounts and by forum members."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from testbed import forumtext as ft
from testbed import ids, texts, vocab
from testbed.world import DAYS, START, Account, Actor, Listing, _contact_set, sub

BOARDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # slug, name, language, kinds of threads
    ("vendors", "Vendor Showcase", "en", ("advert",)),
    ("reviews", "Reviews & Trip Reports", "en", ("review",)),
    ("harm-reduction", "Harm Reduction", "en", ("harm",)),
    ("lounge", "The Lounge (off-topic)", "en", ("offtopic",)),
    ("security", "Security & OPSEC", "en", ("offtopic",)),
    ("francais", "Section francophone", "fr", ("advert", "review", "harm", "offtopic")),
    ("espanol", "Foro en español", "es", ("advert", "review", "harm", "offtopic")),
    ("deutsch", "Deutschsprachiges Forum", "de", ("advert", "review", "harm", "offtopic")),
    ("nederlands", "Nederlandstalige hoek", "nl", ("advert", "review", "harm", "offtopic")),
)
MARKET_LABEL = {"market_a": "Cobalt", "market_b": "Bazaar Nova", "market_c": "Silk Lantern"}


@dataclass
class Post:
    post_id: int
    thread_id: int
    account_id: str
    posted_at: datetime
    lang: str
    text: str
    quotes: list[tuple[int, str, str]]  # (post id, author account id, text as displayed)
    is_trade: bool
    substances: tuple[str, ...]


@dataclass
class Thread:
    thread_id: int
    board: str
    title: str
    account_id: str
    lang: str
    kind: str
    posts: list[Post] = field(default_factory=list)


@dataclass
class Forum:
    boards: tuple[tuple[str, str, str, tuple[str, ...]], ...]
    threads: list[Thread]


def _day_of(ts: datetime) -> int:
    return (ts.date() - START).days + 1


def generate(seed: int, actors: dict[str, Actor], accounts: dict[str, Account], forum_handles: set[str],
             open_account, listings: list[Listing]) -> Forum:
    rng = sub(seed, "forum")
    # vendor actors who also talk on the forum, with a handle variant and a signature that may give them away
    vendors: list[Account] = []
    for aid in sorted(actors):
        actor = actors[aid]
        if actor.role != "vendor" or sub(seed, "forum-join", aid).random() > 0.45:
            continue
        first = accounts[actor.accounts[0]]
        acc = open_account(actor, "forum", 1, sub(seed, "forum-variant", aid), first)
        arng = sub(seed, "signature", acc.account_id)
        bits: list[str] = []
        if "pgp" in acc.links and acc.key:
            bits.append(f"PGP {ids.grouped(acc.key[1])}")
        if acc.contacts:
            k = sorted(acc.contacts)[0]
            bits.append(f"{k.capitalize()}: {acc.contacts[k]}")
        if "wallet" in acc.links:
            bits.append(f"Tips: {actor.wallet}")
        bits.append(actor.style.signoff)
        acc.signature = " | ".join(bits) if arng.random() < 0.85 else None
        vendors.append(acc)
    # forum members: buyers, harm-reduction regulars and people who just chat
    members: list[Account] = []
    words = vocab.FORUM_NAME_WORDS
    for n in range(90):
        mrng = sub(seed, "member", n)
        parts = (mrng.choice(words).capitalize(), mrng.choice(words).capitalize())
        actor = Actor(actor_id=f"actor-{200 + n:03d}", role="member", parts=parts,
                      country=mrng.choice(vocab.COUNTRIES), lang="en", style=texts.make_style(mrng), products=[],
                      key=ids.pgp_key(mrng), wallet="", contacts=_contact_set(mrng, parts), price_level=1.0)
        actor.lang = actor.country[2] if mrng.random() < 0.5 else "en"
        actors[actor.actor_id] = actor
        acc = open_account(actor, "forum", 1, mrng, None, kind=mrng.choice(["sep", "lower", "suffix", "same"]))
        acc.key, acc.contacts, acc.wallets, acc.terms = None, {}, [], ""
        acc.signature = mrng.choice([None, None, actor.style.signoff, f"~ {parts[0].lower()} ~"])
        if n % 40 == 7:  # a prankster's handle and signature
            acc.handle += "<script>alert('sig')</script>"
            acc.signature = "<img src=x onerror=alert(1)> stay safe"
        members.append(acc)

    market_accounts: dict[str, list[Account]] = {}
    for acc in accounts.values():
        if acc.site.startswith("market_"):
            market_accounts.setdefault(acc.actor_id, []).append(acc)
    products = [p for p in vocab.PRODUCTS]
    threads: list[Thread] = []
    post_id = 1000
    thread_id = 100
    for slug, _name, lang, kinds in BOARDS:
        n_threads = rng.randrange(16, 24) if lang == "en" else rng.randrange(9, 13)
        for _ in range(n_threads):
            thread_id += 1
            trng = sub(seed, "thread", thread_id)
            kind = trng.choice(kinds)
            product = trng.choice(products)
            poster_vendor = trng.choice(vendors)
            vendor_market = sorted(market_accounts[poster_vendor.actor_id], key=lambda a: a.account_id)[0]
            slots = _slots(trng, product, vendor_market, accounts, lang)
            opener = poster_vendor if kind == "advert" else trng.choice(members)
            title_tpl = ft.THREAD_TITLES.get(kind, {}).get(lang)
            if title_tpl:
                title = title_tpl.format(**slots)
            else:
                title = trng.choice(ft.OFFTOPIC[lang])[:60].rstrip(" ?.!") + ("?" if trng.random() < 0.5 else "")
            thread = Thread(thread_id, slug, title, opener.account_id, lang, kind)
            start = datetime.combine(START, datetime.min.time()) + timedelta(
                days=trng.randrange(-25, DAYS), minutes=trng.randrange(0, 24 * 60))
            ts = start
            n_posts = trng.choice([trng.randrange(2, 9), trng.randrange(5, 18), trng.randrange(15, 48)])
            for i in range(n_posts):
                post_id += 1
                prng = sub(seed, "post", post_id)
                if i == 0:
                    author = opener
                elif kind == "advert" and prng.random() < 0.3:
                    author = poster_vendor
                else:
                    author = prng.choice(members)
                text, is_trade, subs = _text(prng, kind, i, lang, slots, product, author is poster_vendor)
                if prng.random() < 0.06:
                    text += f" More info: {prng.choice(vocab.EXTERNAL_HOSTS)}"
                if prng.random() < 0.02:
                    text += " " + prng.choice(vocab.PAYLOADS)
                quotes: list[tuple[int, str, str]] = []
                if i > 0 and prng.random() < 0.3:
                    quoted = prng.choice(thread.posts)
                    qtext = quoted.text if len(quoted.text) <= 160 else quoted.text[:157].rsplit(" ", 1)[0] + " ..."
                    quotes.append((quoted.post_id, quoted.account_id, qtext))
                if _day_of(ts) > DAYS:
                    break
                thread.posts.append(Post(post_id, thread_id, author.account_id, ts, lang, " ".join(text.split()),
                                         quotes, is_trade, subs))
                ts += timedelta(minutes=prng.randrange(7, 60 * 30))
            if thread.posts:
                threads.append(thread)
    return Forum(BOARDS, threads)


def _slots(rng: random.Random, product: vocab.Product, vendor_market: Account, accounts: dict[str, Account],
           lang: str) -> dict[str, str]:
    other = rng.choice([p for p in vocab.PRODUCTS if p.category != product.category])
    name = rng.choice(product.names)
    if lang != "en" and product.intl.get(lang) and rng.random() < 0.6:
        name = rng.choice(product.intl[lang])
    return {
        "name": name, "slang": rng.choice(product.slang) if product.slang else name,
        "qty": texts.qty_text(rng.choice(product.tiers), product.unit),
        "price": f"{rng.randrange(20, 400)} {rng.choice(['EUR', 'USD', '€', '$'])}",
        "country": rng.choice(vocab.COUNTRIES)[0], "market": MARKET_LABEL[vendor_market.site],
        "handle": vendor_market.handle, "other": rng.choice(other.names), "other_subs": " ".join(other.substances),
        "days": str(rng.randrange(2, 15)), "score": str(rng.randrange(4, 11)),
    }


def _mentions(tpl: str, slots: dict[str, str], product: vocab.Product) -> tuple[str, ...]:
    """Substances a post really names: the product when {name} or {slang} is used, the other one for {other}."""
    subs: tuple[str, ...] = ()
    if "{name}" in tpl or "{slang}" in tpl:
        subs += product.substances
    if "{other}" in tpl:
        subs += tuple(slots["other_subs"].split())
    return tuple(dict.fromkeys(subs))


def _text(rng: random.Random, kind: str, index: int, lang: str, slots: dict[str, str], product: vocab.Product,
          by_vendor: bool) -> tuple[str, bool, tuple[str, ...]]:
    if kind == "advert":
        if index == 0:
            tpl = rng.choice(ft.ADVERT[lang])
            return tpl.format(**slots), True, _mentions(tpl, slots, product)
        if by_vendor:
            return rng.choice(ft.REPLY_OFFTOPIC[lang]) + " " + slots["handle"], True, ()
        tpl = rng.choice(ft.QUESTION[lang] if rng.random() < 0.5 else ft.REVIEW[lang])
        return tpl.format(**slots), True, _mentions(tpl, slots, product)
    if kind == "review":
        if index == 0 or rng.random() < 0.6:
            tpl = rng.choice(ft.REVIEW[lang])
            return tpl.format(**slots), True, _mentions(tpl, slots, product)
        return rng.choice(ft.REPLY_OFFTOPIC[lang]), False, ()
    if kind == "harm":
        tpl = rng.choice(ft.HARM[lang])
        return tpl.format(**slots), False, _mentions(tpl, slots, product)
    pool = ft.OFFTOPIC[lang] if index == 0 or rng.random() < 0.4 else ft.REPLY_OFFTOPIC[lang]
    return rng.choice(pool), False, ()
