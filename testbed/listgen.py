"""Listings for every market account: products, tiers, prices, stock and their changes over the days."""

from __future__ import annotations

from decimal import Decimal

from testbed import texts, vocab
from testbed.pricing import FIAT_PER_USD, nice_fiat, q
from testbed.world import DAYS, Account, Actor, Listing, sub

DISCOUNT = (1.0, 0.92, 0.85, 0.78, 0.72, 0.66)
PER_SITE = {"market_a": (9, 24), "market_b": (7, 19), "market_c": (6, 16)}


def _price(usd: float, currency: str, rates: dict[str, Decimal]) -> Decimal:
    if currency in FIAT_PER_USD:
        return nice_fiat(usd * float(FIAT_PER_USD[currency]))
    return q(usd / float(rates[currency]), currency)


def generate(seed: int, actors: dict[str, Actor], accounts: dict[str, Account],
             rates: dict[int, dict[str, Decimal]]) -> list[Listing]:
    out: list[Listing] = []
    used_ids: dict[str, set[str]] = {}
    for acc_id in sorted(accounts):
        acc = accounts[acc_id]
        if not acc.site.startswith("market_"):
            continue
        actor = actors[acc.actor_id]
        rng = sub(seed, "listings", acc_id)
        lo, hi = PER_SITE[acc.site]
        default_ship = rng.randrange(len(vocab.SHIPS_TO))
        for i in range(rng.randrange(lo, hi + 1)):
            lrng = sub(seed, "listing", acc_id, i)
            out.append(_listing(seed, lrng, acc, actor, default_ship, rates[1], used_ids.setdefault(acc.site, set())))
    return out


def _external_id(rng, site: str, used: set[str]) -> str:
    while True:
        if site == "market_a":
            ext = rng.randbytes(4).hex()
        elif site == "market_b":
            ext = str(rng.randrange(10000, 99999))
        else:
            ext = str(rng.randrange(1000, 9999))
        if ext not in used:
            used.add(ext)
            return ext


def _listing(seed: int, rng, acc: Account, actor: Actor, default_ship: int, rates1: dict[str, Decimal],
             used: set[str]) -> Listing:
    product = rng.choice(actor.products)
    lang = actor.lang if actor.lang != "en" and rng.random() < 0.45 else "en"
    style = actor.style
    if product is None:
        title_text, group, unit, usd = rng.choice(vocab.NOT_DRUG)
        tiers: tuple[float, ...] = (1,) if rng.random() < 0.6 else (1, 2, 5)
        category, substances, name = "not_drug", (), title_text
        title = texts.apply_caps(title_text, style.caps)
        if style.emoji:
            title = f"{style.emoji} {title} {style.emoji}"
        unit_usd = usd * actor.price_level
    else:
        group, unit = product.group, product.unit
        start = rng.randrange(len(product.tiers))
        count = 1 if rng.random() < 0.3 else rng.randrange(1, len(product.tiers) - start + 1)
        tiers = product.tiers[start:start + count]
        category, substances = product.category, product.substances
        title, name = texts.title(rng, style, product, tiers[0], lang)
        bundle = [p for p in actor.products if p is not None and p is not product and p.category == category]
        if bundle and rng.random() < 0.06:
            other = rng.choice(bundle)
            title = f"{title} + {rng.choice(other.names)} bundle"
            substances = tuple(dict.fromkeys(substances + other.substances))
        unit_usd = product.usd * actor.price_level * rng.uniform(0.85, 1.2)
    prices = tuple(_price(t * unit_usd * DISCOUNT[min(i, len(DISCOUNT) - 1)], acc.currency, rates1)
                   for i, t in enumerate(tiers))
    contact_line = None
    if acc.contacts and rng.random() < 0.2:
        kind = sorted(acc.contacts)[0]
        contact_line = f"Questions? {kind.capitalize()}: {acc.contacts[kind]}"
    description = texts.description(rng, style, product, lang, name, contact_line)
    if rng.random() < 0.015:
        title = f"{title} {rng.choice(vocab.PAYLOADS)}"
    if rng.random() < 0.03:
        description = f"{description} {rng.choice(vocab.PAYLOADS)}"
    first_day = 1 if rng.random() < 0.88 else rng.randrange(2, DAYS + 1)
    first_day = max(first_day, acc.first_day)
    last_day = DAYS
    if rng.random() < 0.12:
        last_day = max(first_day, rng.randrange(2, DAYS + 1) - 1)
    steps: dict[int, float] = {}
    for _ in range(rng.choices([0, 1, 2], [70, 25, 5])[0]):
        steps[rng.randrange(2, DAYS + 1)] = round(rng.choice([rng.uniform(0.8, 0.95), rng.uniform(1.05, 1.2)]), 3)
    stock = [0]
    level = rng.randrange(3, 250)
    for _day in range(1, DAYS + 1):
        stock.append(level)
        r = rng.random()
        if r < 0.18:
            level = max(0, level - rng.randrange(1, 7))
        elif r < 0.21:
            level += rng.randrange(20, 120)
    ship = default_ship if rng.random() < 0.8 else rng.randrange(len(vocab.SHIPS_TO))
    change = (rng.randrange(2, DAYS + 1), (ship + 1) % len(vocab.SHIPS_TO)) if rng.random() < 0.05 else None
    ships_from = acc.ships_from if rng.random() < 0.93 else rng.choice(vocab.COUNTRIES)
    escrow = {"market_a": rng.random() < 0.85, "market_b": True, "market_c": rng.random() < 0.5}[acc.site]
    return Listing(
        site=acc.site, external_id=_external_id(rng, acc.site, used), account_id=acc.account_id,
        title=" ".join(title.split()), description=description, category=category, substances=tuple(substances),
        group=group, unit=unit, quantities=tuple(tiers), prices=prices, currency=acc.currency,
        ships_from=ships_from, ships_to=ship, first_day=first_day, last_day=last_day, price_steps=steps,
        stock=tuple(stock), ships_to_change=change, escrow=escrow, lang=lang, product_name=name,
    )
