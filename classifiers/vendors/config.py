"""Every knob of vendor clustering in one place, with why it has the value it has.

Scores are log-odds: each piece of evidence adds or subtracts, the prior says how unlikely it is that two
accounts picked at random are one trafficker, and the sum maps to a probability with the logistic function.
Strong identifiers are worth more than the prior on their own; a handle alone is not, so a look-alike
handle needs corroboration (origin, products, copied titles or profile text) before it links.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    # ---- evidence weights (log-odds) ----
    prior: float = -5.0
    shared_pgp: float = 10.0
    shared_wallet: float = 8.0
    shared_contact: float = 7.0
    extra_shared_identifier: float = 1.0  # each further shared strong identifier
    # Both list PGP keys and none is shared. Many vendors keep one key everywhere (buyers verify them by
    # it), but some publish one key per market, so a different key counts against a link without vetoing
    # it: an impersonator with a look-alike name must still write, sell and ship like the vendor to link.
    conflicting_pgp: float = -3.0
    # The account names the other's handle as its own shop or alias ("Shop: DrGreen on Cobalt").
    claimed_alias: float = 5.0
    # Handle similarity (rapidfuzz ratio of normalised handles, 0..1) counts from `handle_floor` up,
    # linearly to `handle_weight` at identity; stems shorter than `short_stem` or shared by many accounts
    # count half (short or common names are reused by strangers).
    handle_floor: float = 0.8
    handle_weight: float = 4.5
    short_stem: int = 5
    common_stem_accounts: int = 8
    # Copied listing titles: each shared title adds `title_weight`, scaled down by generic_title/df when
    # more than `generic_title` accounts use it (one vendor's own accounts stay under that), the sum
    # capped at `title_cap` and scaled by the share of the smaller catalogue that is copied.
    title_weight: float = 1.5
    generic_title: int = 8
    title_cap: float = 6.0
    # Copied profile text: word 3-gram Jaccard from `profile_floor` up adds `profile_base`..+`profile_weight`.
    profile_floor: float = 0.3
    profile_base: float = 2.0
    profile_weight: float = 5.0
    boilerplate_accounts: int = 16  # profile 3-grams in more accounts are templates, not a vendor's words
    # Origin and product mix, weighed by how often they agree for one vendor's accounts against how often
    # for two vendors with look-alike names: same origin ~0.9 vs ~0.2 (a handful of countries ship most),
    # a product line overlapping ~0.7 vs ~0.1, no product in common ~0.1 vs ~0.6.
    same_origin: float = 1.5
    different_origin: float = -2.0
    product_weight: float = 2.0  # times the Jaccard overlap of products
    no_common_product: float = -1.5
    # ---- decisions ----
    link_threshold: float = 2.0  # log-odds; 2.0 = probability 0.88
    review_threshold: float = 0.0  # weaker candidates still written to --explain for review (p >= 0.5)
    # ---- blocking and scale ----
    max_identifier_accounts: int = 20  # an identifier in more accounts is a service's, not a vendor's
    max_title_accounts: int = 30
    max_handle_block: int = 40  # larger handle blocks are generic names: pairs there are skipped
    max_profile_block: int = 40
    prefix_len: int = 6
    profile_sketch: int = 4  # bottom-k profile shingles indexed per account
    # ---- clustering ----
    # A link without a strong identifier ("soft") may not join clusters that contain a pair with
    # contradicting evidence (different origins, or origins and product lines), nor grow a cluster past this.
    max_soft_cluster: int = 30
    soft_conflict: float = -2.0


DEFAULT_CONFIG = ClusterConfig()
