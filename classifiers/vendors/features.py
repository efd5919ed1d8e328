"""Per-account comparable features and dataset-wide frequencies.

Frequencies matter for precision: a wallet listed by 40 accounts is a market's escrow or a tumbler, not a
vendor's own; a listing title used by 200 accounts ("1g cocaine 90% pure") is generic. Identifiers and
titles seen in more accounts than the configured caps are kept out of blocking and count as no evidence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from classifiers.vendors.model import MENTION_SEP, Account
from classifiers.vendors.normalise import (
    contact_key,
    country_key,
    handle_forms,
    pgp_key,
    product_words,
    profile_shingles,
    title_key,
    title_words,
    wallet_key,
)

_EMPTY: frozenset = frozenset()


def _keys(values: Sequence[str], fn) -> frozenset:
    if not values:
        return _EMPTY
    out = {k for k in map(fn, values) if k}
    return frozenset(out) if out else _EMPTY


@dataclass(slots=True)
class Features:
    full: str
    stem: str
    leet: str
    pgp: frozenset[str]
    wallets: frozenset[str]
    contacts: frozenset[str]
    origins: frozenset[str]
    titles: frozenset[str]
    n_titles: int
    products: frozenset[str]
    products_given: bool  # from the extractors (`products`), not words of titles: compare like with like
    shingles: frozenset[int]
    mentions: frozenset[str]  # normalised full handles, "site" + MENTION_SEP + full when site-scoped
    site: str = ""

    def claims(self, other: Features) -> bool:
        """This account names the other's handle (on the other's site, when it says which) as its own."""
        return bool(self.mentions) and (other.full in self.mentions
                                        or f"{other.site}{MENTION_SEP}{other.full}" in self.mentions)


def account_features(account: Account, cache: dict | None = None) -> Features:
    """Comparable features of one account. `cache` (one dict per clustering run) remembers titles
    already parsed: one vendor's titles recur on each of its accounts, stock titles everywhere."""
    forms = handle_forms(account.handle)
    titles: frozenset = _EMPTY
    products: frozenset = _EMPTY
    if account.titles:
        cache = {} if cache is None else cache
        keys: set[str] = set()
        words: set[str] = set()
        for t in account.titles:
            parsed = cache.get(t)
            if parsed is None:
                tw = title_words(t)
                parsed = cache[t] = (title_key(t, tw), frozenset(product_words(t, tw)))
            if parsed[0]:
                keys.add(parsed[0])
            words |= parsed[1]
        titles = frozenset(keys) if keys else _EMPTY
        products = frozenset(words) if words else _EMPTY
    if account.products:
        products = frozenset(p.strip().lower() for p in account.products if p.strip())
    shingles = profile_shingles(account.profile) if account.profile else _EMPTY
    return Features(
        full=forms.full,
        stem=forms.stem,
        leet=forms.leet,
        pgp=_keys(account.pgp_fingerprints, pgp_key),
        wallets=_keys(account.wallets, wallet_key),
        contacts=_keys(account.contacts, contact_key),
        origins=_keys(account.ships_from, country_key),
        titles=titles,
        n_titles=len(titles),
        products=products,
        products_given=bool(account.products),
        shingles=shingles or _EMPTY,
        mentions=_keys(account.mentions, _mention_key),
        site=account.site,
    )


def _mention_key(mention: str) -> str | None:
    site, sep, handle = mention.rpartition(MENTION_SEP)
    full = handle_forms(handle).full
    if len(full) < 3:
        return None
    return f"{site}{sep}{full}"


def all_features(accounts: Sequence[Account]) -> list[Features]:
    cache: dict = {}
    return [account_features(a, cache) for a in accounts]


@dataclass(slots=True)
class Frequencies:
    """In how many accounts each key occurs (document frequency)."""

    pgp: Counter
    wallets: Counter
    contacts: Counter
    titles: Counter
    stems: Counter


def frequencies(features: Sequence[Features], boilerplate: int = 16) -> Frequencies:
    """Document frequencies; also drops from each profile the 3-grams found in more than `boilerplate`
    accounts (a market's template, a stock greeting) so that only a vendor's own wording compares."""
    shingles: Counter = Counter()
    for f in features:
        if f.shingles:
            shingles.update(f.shingles)
    common = {h for h, n in shingles.items() if n > boilerplate}
    del shingles
    if common:
        for f in features:
            if f.shingles and not common.isdisjoint(f.shingles):
                f.shingles = f.shingles - common
    pgp: Counter = Counter()
    wallets: Counter = Counter()
    contacts: Counter = Counter()
    titles: Counter = Counter()
    stems: Counter = Counter()
    for f in features:
        if f.pgp:
            pgp.update(f.pgp)
        if f.wallets:
            wallets.update(f.wallets)
        if f.contacts:
            contacts.update(f.contacts)
        if f.titles:
            titles.update(f.titles)
        stems[f.stem] += 1
    return Frequencies(pgp=pgp, wallets=wallets, contacts=contacts, titles=titles, stems=stems)
