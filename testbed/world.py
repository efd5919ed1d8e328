"""The testbed world: actors, their accounts on each site, listings and forum posts over days 1..N.

`build(seed)` is pure and deterministic: every random draw comes from a `random.Random` seeded with a
string derived from the seed and the thing being drawn (string seeds hash with SHA-512, independent of
PYTHONHASHSEED), so adding a field to one part never reshuffles another.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from testbed import btc, ids, texts, vocab
from testbed.pricing import FIAT_PER_USD, day_rates, nice_fiat, q

DEFAULT_SEED = 20260928
DAYS = 14
START = date(2026, 9, 28)  # day 1, a Monday
MARKETS = ("market_a", "market_b", "market_c")
SITES = ("market_a", "market_b", "market_c", "forum", "hostile")
SITE_NAMES = {"market_a": "Cobalt Market", "market_b": "Bazaar Nova", "market_c": "Silk Lantern",
              "forum": "Undergrowth Forum", "hostile": "Trapdoor"}
DOWN_DAYS = {"market_b": (8,), "market_c": (11,)}  # a market goes down (and comes back)
MOVE_DAYS = (5, 10)  # days on which some vendors leave one market for another
EARLY_MOVE_DAY = 2  # and one vendor moves from the onion market C to market A on day 2 (both crawl over HTTP)

CATEGORY_WEIGHTS = {"cannabis": 22, "stimulants": 16, "ecstasy": 10, "psychedelics": 10, "opioids": 8,
                    "benzodiazepines": 7, "prescription": 5, "dissociatives": 5, "doping": 7, "nps": 5,
                    "precursors": 4, "not_drug": 3}


def sub(seed: int, *names: object) -> random.Random:
    """An independent random stream for one named thing."""
    return random.Random(f"{seed}/" + "/".join(str(n) for n in names))


def day_date(day: int) -> date:
    return START + timedelta(days=day - 1)


@dataclass
class Actor:
    actor_id: str
    role: str  # "vendor" or "member"
    parts: tuple[str, ...]  # handle words; variants are built from these
    country: tuple[str, str, str]
    lang: str
    style: texts.Style
    products: list[vocab.Product | None]  # None: a not_drug line
    key: tuple[str, str]  # (armored block, fingerprint)
    wallet: str
    contacts: dict[str, str]
    price_level: float
    decoy_of: str | None = None
    accounts: list[str] = field(default_factory=list)


@dataclass
class Account:
    account_id: str
    actor_id: str
    site: str
    handle: str
    first_day: int
    last_day: int
    key: tuple[str, str] | None
    show_fingerprint: bool
    contacts: dict[str, str]
    wallets: list[str]
    ships_from: tuple[str, str, str]
    terms: str
    member_since: str
    feedback: tuple[int, int, int]
    feedback_rate: int
    currency: str
    links: list[str] = field(default_factory=list)  # evidence kinds shared with the actor's first account
    mentions: list[str] = field(default_factory=list)  # account ids this profile names (off-site links)
    signature: str | None = None  # forum accounts
    moved_from: str | None = None


@dataclass
class Listing:
    site: str
    external_id: str
    account_id: str
    title: str
    description: str
    category: str
    substances: tuple[str, ...]
    group: str
    unit: str
    quantities: tuple[float, ...]
    prices: tuple[Decimal, ...]  # vendor-set price of each tier in `currency`, day 1
    currency: str
    ships_from: tuple[str, str, str]
    ships_to: int  # index into vocab.SHIPS_TO
    first_day: int
    last_day: int
    price_steps: dict[int, float]  # from that day on, prices are multiplied by the factor
    stock: tuple[int, ...]  # stock[day]; index 0 unused
    ships_to_change: tuple[int, int] | None  # (day, new SHIPS_TO index)
    escrow: bool
    lang: str
    product_name: str


@dataclass
class World:
    seed: int
    days: int
    onion_host: str
    actors: dict[str, Actor]
    accounts: dict[str, Account]
    listings: list[Listing]
    rates: dict[int, dict[str, Decimal]]
    forum: object  # testbed.forumgen.Forum
    moves: list[dict[str, object]]

    def site_up(self, site: str, day: int) -> bool:
        return day not in DOWN_DAYS.get(site, ())

    def active(self, acc: Account, day: int) -> bool:
        return acc.first_day <= day <= acc.last_day

    def listing_active(self, li: Listing, day: int) -> bool:
        acc = self.accounts[li.account_id]
        return li.first_day <= day <= li.last_day and self.active(acc, day)

    def price_factor(self, li: Listing, day: int) -> float:
        f = 1.0
        for d in sorted(li.price_steps):
            if d <= day:
                f = li.price_steps[d]
        return f

    def prices_on(self, li: Listing, day: int) -> tuple[Decimal, ...]:
        f = self.price_factor(li, day)
        if f == 1.0:
            return li.prices
        if li.currency in FIAT_PER_USD:
            return tuple(nice_fiat(float(p) * f) for p in li.prices)
        return tuple(q(float(p) * f, li.currency) for p in li.prices)

    def ships_to_on(self, li: Listing, day: int) -> int:
        if li.ships_to_change and day >= li.ships_to_change[0]:
            return li.ships_to_change[1]
        return li.ships_to


# ---------------------------------------------------------------- handles


def _camel(parts: tuple[str, ...]) -> str:
    return "".join(parts)


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, max(2, len(word) - 2))
    op = rng.randrange(3)
    if op == 0 and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == 1:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def handle_variant(rng: random.Random, parts: tuple[str, ...], kind: str) -> str:
    base = _camel(parts)
    if kind == "same":
        return base
    if kind == "lower":
        return base.lower()
    if kind == "upper":
        return base.upper()
    if kind == "sep":
        return rng.choice(["_", "-", "."]).join(p if rng.random() < 0.6 else p.lower() for p in parts)
    if kind == "suffix":
        return base + rng.choice(vocab.HANDLE_SUFFIX)
    if kind == "prefix":
        return rng.choice(["The", "Real", "Mr", "Official_", "x"]) + base
    if kind == "leet":
        out = list(base)
        for i, ch in enumerate(out):
            if ch.lower() in vocab.LEET and rng.random() < 0.6:
                out[i] = vocab.LEET[ch.lower()]
        return "".join(out)
    if kind == "typo":
        return _typo(rng, base)
    raise ValueError(kind)


VARIANT_KINDS = ("same", "lower", "upper", "sep", "suffix", "prefix", "leet", "typo")


def _contact_set(rng: random.Random, parts: tuple[str, ...]) -> dict[str, str]:
    stem = "".join(parts).lower()
    tail = str(rng.randrange(10, 999))
    return {
        "telegram": "@" + rng.choice([stem, stem + "_bot", stem[:8] + tail, "_".join(p.lower() for p in parts)]),
        "wickr": rng.choice([stem + tail, stem[:6] + "." + tail, parts[0].lower() + "w" + tail]),
        "session": ids.session_id(rng),
        "email": f"{rng.choice([stem, stem[:7] + tail, parts[-1].lower() + tail])}@"
                 f"{rng.choice(['protonmail.com', 'cock.li', 'tutanota.com', 'onionmail.org', 'dnmx.org'])}",
        "threema": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8)),
    }


def _wallet(rng: random.Random) -> str:
    return btc.address(rng.choice(["p2pkh", "p2sh", "p2wpkh", "p2wpkh"]), rng.randbytes(20))


# ---------------------------------------------------------------- build


@functools.lru_cache(maxsize=4)
def build(seed: int = DEFAULT_SEED) -> World:
    """The whole world for `seed` (pure; cached because servers and the key ask for it often)."""
    from testbed import forumgen, listgen

    rng = sub(seed, "world")
    onion = ids.onion_v3(sub(seed, "onion"))
    actors: dict[str, Actor] = {}
    used_parts: set[tuple[str, ...]] = set()
    cats = list(CATEGORY_WEIGHTS)
    by_cat: dict[str, list[vocab.Product]] = {}
    for p in vocab.PRODUCTS:
        by_cat.setdefault(p.category, []).append(p)

    def new_actor(n: int, role: str, parts: tuple[str, ...] | None = None, avoid_cat: str | None = None) -> Actor:
        arng = sub(seed, "actor", n)
        while parts is None or parts in used_parts:
            parts = (arng.choice(vocab.HANDLE_PREFIX), arng.choice(vocab.HANDLE_NOUN))
            if parts[0] == parts[1]:
                parts = None
        used_parts.add(parts)
        country = arng.choice(vocab.COUNTRIES)
        products: list[vocab.Product | None] = []
        if role == "vendor":
            # the first few actors cover every category so that each label appears on every seed
            cat = cats[n % len(cats)] if n < len(cats) * 2 else arng.choices(cats, [CATEGORY_WEIGHTS[c] for c in cats])[0]
            if cat == avoid_cat:
                cat = cats[(cats.index(cat) + 3) % len(cats)]
            if cat == "not_drug":
                products = [None, None]
                products += arng.sample(by_cat["prescription"], 1) if arng.random() < 0.4 else []
            else:
                pool = by_cat[cat]
                products = list(arng.sample(pool, min(len(pool), arng.randrange(2, 5))))
                if arng.random() < 0.4:
                    other = by_cat[arng.choice([c for c in cats if c not in (cat, "not_drug")])]
                    products.append(arng.choice(other))
                if arng.random() < 0.05:
                    products.append(None)
        contacts = _contact_set(arng, parts)
        return Actor(
            actor_id=f"actor-{n:03d}", role=role, parts=parts, country=country, lang=country[2],
            style=texts.make_style(arng), products=products, key=ids.pgp_key(arng), wallet=_wallet(arng),
            contacts=contacts, price_level=arng.uniform(0.8, 1.25),
        )

    n_vendors = 100
    for n in range(n_vendors):
        a = new_actor(n, "vendor")
        actors[a.actor_id] = a
    # decoys: other people whose handle looks like a vendor's, selling other things from elsewhere
    targets = rng.sample(sorted(actors), 10)
    for i, target in enumerate(targets):
        t = actors[target]
        parts = _lookalike(sub(seed, "decoy", i), t.parts)
        main_cat = (t.products[0].category if t.products and t.products[0] else "not_drug")
        d = new_actor(n_vendors + i, "vendor", parts=parts, avoid_cat=main_cat)
        while d.country == t.country:
            d.country = sub(seed, "decoy-country", i, d.country).choice(vocab.COUNTRIES)
            d.lang = d.country[2]
        d.decoy_of = target
        actors[d.actor_id] = d

    accounts: dict[str, Account] = {}
    handles: dict[str, set[str]] = {s: set() for s in SITES}
    counters = dict.fromkeys(SITES, 0)

    def open_account(actor: Actor, site: str, first_day: int, variant_rng: random.Random,
                     first: Account | None, kind: str | None = None) -> Account:
        counters[site] += 1
        acc_id = f"{site.replace('market_', 'm')}-{counters[site]:04d}"
        arng = sub(seed, "account", acc_id)
        for attempt in range(50):
            k = kind if (kind and attempt == 0) else variant_rng.choice(VARIANT_KINDS)
            if first is None and attempt == 0 and kind is None:
                k = "same"
            handle = handle_variant(variant_rng, actor.parts, k)
            if handle.lower() not in handles[site]:
                break
        handles[site].add(handle.lower())
        links: list[str] = []
        if first is not None:
            links = arng.choices([["pgp"], ["wallet"], ["contact"], ["pgp", "contact"], []], [35, 10, 20, 10, 25])[0]
        own_contacts = _contact_set(arng, actor.parts if arng.random() < 0.5 else (arng.choice(vocab.HANDLE_NOUN), "x"))
        key: tuple[str, str] | None = actor.key if (first is None or "pgp" in links) else ids.pgp_key(arng)
        if first is None and arng.random() < 0.05:
            key = None
        contact_kinds = arng.sample(["telegram", "wickr", "session", "email", "threema"], arng.randrange(1, 4))
        contacts = {}
        for ck in contact_kinds:
            contacts[ck] = actor.contacts[ck] if first is None else own_contacts[ck]
        if "contact" in links and first is not None:
            shared = sorted(first.contacts)[0] if first.contacts else "wickr"
            contacts[shared] = actor.contacts[shared]
        wallets: list[str] = []
        if "wallet" in links:
            wallets = [actor.wallet]
        elif arng.random() < 0.35:
            wallets = [actor.wallet if first is None else _wallet(arng)]
        extra_terms = []
        if wallets:
            extra_terms.append(f"Direct deals for regulars: BTC {wallets[0]}")
        if arng.random() < 0.03:
            extra_terms.append(arng.choice(vocab.PAYLOADS))
        country = actor.country
        currency = {"US": "USD", "CA": "USD", "AU": "USD", "GB": "GBP", "IE": "EUR"}.get(country[1], "EUR")
        if site == "market_a" and arng.random() < 0.15:
            currency = "BTC"
        if site == "market_a" and arng.random() < 0.1:
            currency = "USD"
        if site == "market_b":
            currency = "XMR" if arng.random() < 0.7 else "BTC"
        if site == "market_c":
            currency = "BTC"
        since = day_date(first_day) - timedelta(days=arng.randrange(0, 900) if first_day == 1 else 0)
        pos = arng.randrange(0, 2500) if first_day == 1 else 0
        acc = Account(
            account_id=acc_id, actor_id=actor.actor_id, site=site, handle=handle, first_day=first_day,
            last_day=DAYS, key=key, show_fingerprint=arng.random() > 0.12, contacts=contacts, wallets=wallets,
            ships_from=country, terms=texts.terms(arng, actor.style, extra_terms), member_since=since.isoformat(),
            feedback=(pos, pos // arng.randrange(15, 60), pos // arng.randrange(40, 200)),
            feedback_rate=arng.randrange(0, 12), currency=currency, links=links,
        )
        accounts[acc_id] = acc
        actor.accounts.append(acc_id)
        return acc

    # market accounts: most actors on one market, many on two, some on all three
    for aid in sorted(actors):
        actor = actors[aid]
        arng = sub(seed, "sites", aid)
        k = arng.choices([1, 2, 3], [40, 40, 20])[0]
        sites = arng.sample(list(MARKETS), k)
        first: Account | None = None
        for s in sites:
            acc = open_account(actor, s, 1, sub(seed, "variant", aid, s), first)
            first = first or acc
    # vendor handles with payloads: a hostile site owner or a prankster registered these
    prank = sorted(accounts)[:: max(1, len(accounts) // 3)][:3]
    for i, acc_id in enumerate(prank):
        accounts[acc_id].handle = accounts[acc_id].handle + ["<b>", "\"><script>alert(1)</script>", "<i>x</i>"][i]

    moves: list[dict[str, object]] = []
    movers = [a for a in sorted(actors) if len(actors[a].accounts) == 1 and actors[a].decoy_of is None][:6]
    for i, aid in enumerate(movers):
        actor = actors[aid]
        old = accounts[actor.accounts[0]]
        day = MOVE_DAYS[i % len(MOVE_DAYS)]
        target_site = [s for s in MARKETS if s != old.site][i % 2]
        old.last_day = day - 1
        new = open_account(actor, target_site, day, sub(seed, "move", aid), old,
                           kind=["suffix", "sep", "lower"][i % 3])
        new.moved_from = old.account_id
        new.mentions.append(old.account_id)
        moves.append({"day": day, "actor_id": aid, "from_account": old.account_id, "to_account": new.account_id})
    # the day-2 move: the first re-crawl already has a vendor to notice on another site
    early = next(a for a in sorted(actors) if a not in movers and len(actors[a].accounts) == 1
                 and actors[a].decoy_of is None and actors[a].role == "vendor"
                 and accounts[actors[a].accounts[0]].site == "market_c")
    old = accounts[actors[early].accounts[0]]
    old.last_day = EARLY_MOVE_DAY - 1
    new = open_account(actors[early], "market_a", EARLY_MOVE_DAY, sub(seed, "move", early), old, kind="sep")
    new.moved_from = old.account_id
    new.mentions.append(old.account_id)
    moves.append({"day": EARLY_MOVE_DAY, "actor_id": early, "from_account": old.account_id,
                  "to_account": new.account_id})

    # profiles that name the same actor's account elsewhere ("also on Silk Lantern as ...")
    for aid in sorted(actors):
        accs = [accounts[x] for x in actors[aid].accounts]
        if len(accs) > 1 and sub(seed, "mention", aid).random() < 0.3:
            accs[0].mentions.append(accs[1].account_id)

    rates = day_rates(seed, DAYS)
    listings = listgen.generate(seed, actors, accounts, rates)
    forum = forumgen.generate(seed, actors, accounts, handles["forum"], open_account, listings)
    return World(seed=seed, days=DAYS, onion_host=onion, actors=actors, accounts=accounts, listings=listings,
                 rates=rates, forum=forum, moves=moves)


def _lookalike(rng: random.Random, parts: tuple[str, ...]) -> tuple[str, ...]:
    """A different person's handle that reads almost the same: 'GreenDoctor' -> 'GreenDoktor', 'GreenDoctors'."""
    first, last = parts[0], parts[-1]
    choice = rng.randrange(4)
    if choice == 0:
        swaps = [("c", "k"), ("o", "0"), ("i", "y"), ("s", "z"), ("e", "a"), ("r", "rr")]
        for a, b in rng.sample(swaps, len(swaps)):
            if a in last[1:]:
                return (first, last[0] + last[1:].replace(a, b, 1))
        return (first, last + "z")
    if choice == 1:
        return (first, last + "s")
    if choice == 2:
        return (first + last[0], last[1:].capitalize() or "X")
    return (first, last, rng.choice(["Co", "Inc", "HQ"]))
