"""A synthetic population of vendor accounts with known actors, for tests, evaluation and the scale bench.

Not a model of any one market: it exercises each kind of evidence and each trap the clustering must
survive. Actors re-register under handle variants (case, separators, affixes, leetspeak, typos, numbers,
sometimes a new name altogether), reuse their PGP key, wallets and contacts on some accounts only, copy
listing titles and profile text; names are built from a limited vocabulary, so unrelated actors share
look-alike names; impersonator decoys copy a known vendor's handle (and sometimes a listing) but keep
their own PGP key; a market escrow wallet appears in many unrelated accounts; some vendors rotate keys.

`generate(n_actors, seed)` -> (accounts, truth) where truth maps account_id -> actor id.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from classifiers.vendors.model import Account


def _words(text: str) -> list[str]:
    return text.split()


WORDS = _words("""green dragon ice king queen lord doctor snow white blue red black gold silver dutch swiss
cali farm garden kush haze lemon cherry berry candy sugar honey magic mystic cosmic lunar solar star moon
sun sky cloud rain storm thunder lightning fire flame smoke ghost shadow dark night dream happy lucky
crazy wild royal prime alpha omega delta nova neo zen chill dank loud fresh pure clean direct express
rapid quick fast turbo rocket jet pilot captain chef baker farmer hunter ranger wizard witch monk pirate
ninja samurai tiger lion wolf fox bear eagle hawk falcon raven cobra viper panda koala shark whale
octopus mango banana apple grape peach melon coconut pepper mint ginger cookie muffin donut waffle pizza
taco burrito noodle dumpling bamboo lotus orchid rose tulip daisy ivy oak pine maple cedar willow birch
river ocean lake island coast valley mountain canyon desert forest jungle arctic tropic urban street
city metro central north south east west atlas titan apollo zeus hermes athena phoenix hydra kraken
golem goblin troll elf dwarf giant bishop knight rook pawn joker ace jack diamond ruby emerald jade
onyx pearl amber crystal quartz cobalt neon laser pixel byte cyber matrix vector vortex nexus pulse
echo sonic radio disco funk jazz blues reggae punk metal rock hiphop bass drum piano violin guitar
rebel outlaw bandit rogue nomad gypsy hippie yogi guru sensei master boss chief major general colonel
sergeant agent spy secret hidden silent quiet loud heavy light mega ultra hyper super grand little big
tiny giant old young baby papa mama uncle auntie brother sister amigo compadre hombre senor mister
""")
PREFIXES = ["dr", "mr", "mrs", "the", "captain", "uncle", "big", "lil", "el", "don"]
AFFIX_VARIANTS = ["uk", "UK", "official", "Official", "shop", "store", "nl", "de", "eu", "us", "the", "real"]
SITES = ["agora", "alphabay", "dream", "hydra", "empire", "versus", "torrez", "abacus", "asap", "bohemia",
         "dread", "incognito", "kingdom", "archetyp"]
COUNTRIES = ["GB", "NL", "DE", "US", "FR", "ES", "CA", "AU", "BE", "PL", "CZ", "IT", "SE", "CH"]
COUNTRY_WEIGHTS = [14, 12, 12, 20, 6, 6, 6, 5, 4, 4, 3, 3, 2, 3]
COUNTRY_NAMES = {"GB": ["United Kingdom", "UK", "GB"], "NL": ["Netherlands", "NL", "Holland"],
                 "DE": ["Germany", "DE"], "US": ["United States", "USA", "US"]}
SUBSTANCES = ["cocaine", "mdma", "ketamine", "lsd", "heroin", "cannabis", "hash", "amphetamine",
              "methamphetamine", "xanax", "valium", "oxycodone", "fentanyl", "psilocybin", "dmt", "2cb",
              "ghb", "testosterone", "tramadol", "adderall", "mephedrone", "crack", "morphine", "codeine"]
QUALIFIERS = ["peruvian", "colombian", "bolivian", "dutch", "crystal", "pharma", "lab", "organic", "afghan",
              "moroccan", "champagne", "fishscale", "uncut", "blotter", "golden", "indoor", "outdoor"]
UNITS = ["g", "gr", "mg", "pills", "tabs", "oz", "kg"]
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


@dataclass
class _Actor:
    actor_id: str
    base: list[str]
    country: str
    products: list[str]
    keys: list[str]
    wallets: list[str]
    contact: str
    titles: list[str]
    bio: str


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789ABCDEF") for _ in range(n))


def _wallet(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "bc1q" + "".join(rng.choice("023456789acdefghjklmnpqrstuvwxyz") for _ in range(38))
    return "4" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(94))  # Monero-like


def _base_handle(rng: random.Random) -> list[str]:
    words = [rng.choice(WORDS)]
    if rng.random() < 0.75:
        words.append(rng.choice(WORDS))
    if rng.random() < 0.25:
        words.insert(0, rng.choice(PREFIXES))
    if rng.random() < 0.2:
        words.append(str(rng.choice([420, 710, 1, 2, 7, 69, 88, 99, 247, 666, 2020, 1337])))
    return words


def _title(rng: random.Random, products: list[str], brand: str) -> str:
    sub = rng.choice(products)
    qty = rng.choice([1, 2, 3.5, 5, 7, 10, 14, 28, 50, 100, 250, 500])
    parts = [f"{qty}{rng.choice(UNITS)}", rng.choice(QUALIFIERS), sub]
    if rng.random() < 0.7:
        parts.append(f"{rng.randint(60, 99)}%")
    parts.append(brand)
    if rng.random() < 0.5:
        parts.append(rng.choice(["stealth", "FE", "free shipping", "bulk", "sample", "express"]))
    rng.shuffle(parts[:3])
    return " ".join(parts)


def _bio(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS + SUBSTANCES + QUALIFIERS) for _ in range(n))


def _variant(rng: random.Random, base: list[str]) -> str:
    words = list(base)
    if rng.random() < 0.3:
        words = [w if not w.isalpha() else "".join(LEET.get(c, c) if rng.random() < 0.5 else c for c in w)
                 for w in words]
    case = rng.random()
    if case < 0.3:
        words = [w.lower() for w in words]
    elif case < 0.6:
        words = [w.capitalize() for w in words]
    elif case < 0.7:
        words = [w.upper() for w in words]
    if rng.random() < 0.3:
        affix = rng.choice(AFFIX_VARIANTS)
        words = [affix, *words] if affix.lower() in ("the", "real", "official") and rng.random() < 0.5 \
            else [*words, affix]
    if rng.random() < 0.15:
        words.append(str(rng.randint(1, 999)))
    sep = rng.choice(["", "", "_", "-", ".", ""])
    handle = sep.join(words)
    if rng.random() < 0.15 and len(handle) > 5:  # one typo
        pos = rng.randrange(len(handle))
        op = rng.random()
        c = rng.choice(string.ascii_lowercase)
        if op < 0.4:
            handle = handle[:pos] + c + handle[pos + 1:]  # substitution
        elif op < 0.7:
            handle = handle[:pos] + handle[pos + 1:]  # deletion
        else:
            handle = handle[:pos] + c + handle[pos:]  # insertion
    return handle


def _new_actor(rng: random.Random, actor_id: str, rich: bool, base: list[str] | None = None) -> _Actor:
    products = rng.sample(SUBSTANCES, rng.choice([1, 1, 2, 2, 3, 4]))
    brand = rng.choice(WORDS) + rng.choice(["", "", "x", "z", str(rng.randint(1, 99))])
    n_titles = rng.randint(3, 10) if rich else rng.randint(2, 5)
    keys = [_hex(rng, 40)] if rng.random() < 0.9 else []
    if keys and rng.random() < 0.05:
        keys.append(_hex(rng, 40))  # rotated key
    return _Actor(
        actor_id=actor_id,
        base=base or _base_handle(rng),
        country=rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0],
        products=products,
        keys=keys,
        wallets=[_wallet(rng) for _ in range(rng.randint(1, 2))],
        contact=rng.choice(["wickr:", "telegram:@", "session:", ""]) + rng.choice(WORDS) + _hex(rng, 4).lower(),
        titles=[_title(rng, products, brand) for _ in range(n_titles)],
        bio=_bio(rng, rng.randint(12, 40)) if rich else _bio(rng, rng.randint(10, 16)),
    )


def _account(rng: random.Random, actor: _Actor, account_id: str, site: str, escrow: str,
             handle: str | None = None, copy_strong: bool = True) -> Account:
    if handle is None:
        handle = _variant(rng, rng.choice([actor.base] * 9 + [_base_handle(rng)]))  # 10%: a new name
    pgp: list[str] = []
    if actor.keys and rng.random() < (0.65 if copy_strong else 1.0):
        key = actor.keys[-1] if len(actor.keys) > 1 and rng.random() < 0.5 else actor.keys[0]
        pgp = [key if rng.random() < 0.7 else " ".join(key[i:i + 4] for i in range(0, 40, 4))]
    wallets = [rng.choice(actor.wallets)] if copy_strong and rng.random() < 0.3 else (
        [_wallet(rng)] if rng.random() < 0.4 else [])
    if rng.random() < 0.02:
        wallets.append(escrow)
    contacts = [actor.contact] if copy_strong and rng.random() < 0.35 else []
    country = actor.country
    ships = [] if rng.random() < 0.1 else [rng.choice(COUNTRY_NAMES.get(country, [country]))]
    k = rng.randint(min(2, len(actor.titles)), len(actor.titles))
    titles = [t if rng.random() < 0.8 else t.lower() for t in rng.sample(actor.titles, k)]
    if rng.random() < 0.3:  # a stock title many vendors use
        titles.append(f"1g {rng.choice(actor.products)} high quality")
    profile = ""
    if rng.random() < 0.6:
        words = actor.bio.split()
        if rng.random() < 0.5 and len(words) > 6:
            del words[rng.randrange(len(words))]
        profile = " ".join(words)
    return Account(account_id=account_id, site=site, handle=handle, pgp_fingerprints=tuple(pgp),
                   wallets=tuple(wallets), contacts=tuple(contacts), ships_from=tuple(ships),
                   titles=tuple(titles), profile=profile)


def generate(n_actors: int, seed: int = 0, rich: bool = True, decoy_rate: float = 0.1
             ) -> tuple[list[Account], dict[str, str]]:
    """(accounts, truth: account_id -> actor_id) for `n_actors` actors plus decoys."""
    rng = random.Random(seed)
    escrow = _wallet(rng)
    accounts: list[Account] = []
    truth: dict[str, str] = {}
    counter = 0

    def add(actor: _Actor, n: int, handles: list[str] | None = None, copy_strong: bool = True) -> None:
        nonlocal counter
        for k, site in enumerate(rng.sample(SITES, n)):
            counter += 1
            aid = f"{site}:{counter:08d}"
            handle = handles[k] if handles else None
            accounts.append(_account(rng, actor, aid, site, escrow, handle, copy_strong))
            truth[aid] = actor.actor_id

    for a in range(n_actors):
        actor = _new_actor(rng, f"actor{a:07d}", rich)
        n = rng.choices([1, 2, 3, 4, 5, 6], [40, 27, 15, 10, 5, 3])[0]
        add(actor, n)
        if rng.random() < decoy_rate:
            # An impersonator: the victim's name in a look-alike variant, their own key, sometimes the
            # same country and products, sometimes a copied listing title.
            decoy = _new_actor(rng, f"decoy{a:07d}", rich, base=list(actor.base))
            if not decoy.keys:
                decoy.keys = [_hex(rng, 40)]
            if rng.random() < 0.5:
                decoy.country = actor.country
            if rng.random() < 0.5:
                decoy.products = list(actor.products)
            if rng.random() < 0.3:
                decoy.titles.append(rng.choice(actor.titles))
            m = rng.choice([1, 1, 2])
            add(decoy, m, [_variant(rng, actor.base) for _ in range(m)], copy_strong=False)
    return accounts, truth


def generate_accounts(n_accounts: int, seed: int = 0, rich: bool = False
                      ) -> tuple[list[Account], dict[str, str]]:
    """About `n_accounts` accounts (whole actors, the last one may be cut) for scale runs."""
    accounts, truth = generate(int(n_accounts / 2.3) + 10, seed=seed, rich=rich)
    accounts = accounts[:n_accounts]
    return accounts, {a.account_id: truth[a.account_id] for a in accounts}
