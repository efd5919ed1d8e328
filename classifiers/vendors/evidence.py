"""Scoring one pair of accounts: log-odds from each piece of evidence, and the sentence that says why.

`pair_score` is the hot path (millions of candidate pairs at 1M accounts) and builds nothing;
`explain_pair` recomputes the same parts for the few pairs that link and writes the evidence dict and
the investigator's sentence. Both go through `_parts`, so the score and its explanation cannot disagree.
"""

from __future__ import annotations

import math
from typing import Any

from rapidfuzz import fuzz

from classifiers.vendors.config import ClusterConfig
from classifiers.vendors.features import Features, Frequencies
from classifiers.vendors.model import Account
from classifiers.vendors.normalise import contact_key, pgp_display, pgp_key, wallet_key


def handle_similarity(fa: Features, fb: Features) -> float:
    """0..1: the best rapidfuzz ratio of the stems, the full forms and the all-letters readings."""
    return max(fuzz.ratio(fa.stem, fb.stem), fuzz.ratio(fa.full, fb.full), fuzz.ratio(fa.leet, fb.leet)) / 100.0


def probability(log_odds: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, log_odds))))


def _usable(keys: frozenset, counts, cap: int) -> frozenset:
    return frozenset(k for k in keys if counts[k] <= cap)


def _parts(fa: Features, fb: Features, hsim: float, freq: Frequencies, cfg: ClusterConfig,
           detail: dict | None) -> float:
    """Sum of log-odds parts; when `detail` is a dict, each part's facts are recorded in it."""
    total = cfg.prior
    cap = cfg.max_identifier_accounts
    n_strong = 0
    if fa.pgp and fb.pgp:
        shared = fa.pgp & fb.pgp
        shared_ok = [k for k in shared if freq.pgp[k] <= cap]
        if shared_ok:
            n_strong += len(shared_ok)
            total += cfg.shared_pgp
            if detail is not None:
                detail["pgp"] = sorted(shared_ok)
        elif not shared:
            total += cfg.conflicting_pgp
            if detail is not None:
                detail["pgp_conflict"] = [sorted(fa.pgp), sorted(fb.pgp)]
    if fa.wallets and fb.wallets:
        shared = [k for k in fa.wallets & fb.wallets if freq.wallets[k] <= cap]
        if shared:
            total += cfg.shared_wallet if not n_strong else cfg.extra_shared_identifier
            total += cfg.extra_shared_identifier * (len(shared) - 1)
            n_strong += len(shared)
            if detail is not None:
                detail["wallets"] = sorted(shared)
    if fa.contacts and fb.contacts:
        shared = [k for k in fa.contacts & fb.contacts if freq.contacts[k] <= cap]
        if shared:
            total += cfg.shared_contact if not n_strong else cfg.extra_shared_identifier
            total += cfg.extra_shared_identifier * (len(shared) - 1)
            n_strong += len(shared)
            if detail is not None:
                detail["contacts"] = sorted(shared)

    if fa.claims(fb) or fb.claims(fa):
        total += cfg.claimed_alias
        if detail is not None:
            detail["claimed_alias"] = True

    if hsim >= cfg.handle_floor:
        w = cfg.handle_weight * (hsim - cfg.handle_floor) / (1.0 - cfg.handle_floor)
        weak = min(len(fa.stem), len(fb.stem)) < cfg.short_stem or max(
            freq.stems[fa.stem], freq.stems[fb.stem]) > cfg.common_stem_accounts
        if weak:
            w *= 0.5
        total += w
        if detail is not None:
            detail["handle_similarity"] = round(hsim, 3)
            if weak:
                detail["handle_common_or_short"] = True

    if fa.titles and fb.titles:
        shared = fa.titles & fb.titles
        if shared:
            w = 0.0
            for k in shared:
                df = freq.titles[k]
                if df <= cfg.max_title_accounts:
                    w += cfg.title_weight * min(1.0, cfg.generic_title / df)
            if w:
                frac = len(shared) / min(fa.n_titles, fb.n_titles)
                total += min(cfg.title_cap, w) * (0.5 + 0.5 * frac)
                if detail is not None:
                    detail["titles_shared"] = len(shared)
                    detail["titles_compared"] = min(fa.n_titles, fb.n_titles)

    if fa.shingles and fb.shingles:
        inter = len(fa.shingles & fb.shingles)
        if inter:
            jac = inter / (len(fa.shingles) + len(fb.shingles) - inter)
            if jac >= cfg.profile_floor:
                total += cfg.profile_base + cfg.profile_weight * (jac - cfg.profile_floor) / (
                    1.0 - cfg.profile_floor)
                if detail is not None:
                    detail["profile_similarity"] = round(jac, 3)

    total += _context(fa, fb, cfg, detail)
    if detail is not None:
        detail["strong_identifiers"] = n_strong
        detail["log_odds"] = round(total, 3)
    return total


def _context(fa: Features, fb: Features, cfg: ClusterConfig, detail: dict | None) -> float:
    """Origin and product mix: weak on their own, they corroborate or contradict."""
    total = 0.0
    if fa.origins and fb.origins:
        common = fa.origins & fb.origins
        if common:
            total += cfg.same_origin
            if detail is not None:
                detail["origins_shared"] = sorted(common)
        else:
            total += cfg.different_origin
            if detail is not None:
                detail["origins_differ"] = [sorted(fa.origins), sorted(fb.origins)]
    if fa.products and fb.products and fa.products_given == fb.products_given:
        inter = len(fa.products & fb.products)
        if inter:
            jac = inter / (len(fa.products) + len(fb.products) - inter)
            total += cfg.product_weight * jac
            if detail is not None:
                detail["product_overlap"] = round(jac, 3)
                detail["products_shared"] = sorted(fa.products & fb.products)[:5]
        else:
            total += cfg.no_common_product
            if detail is not None:
                detail["product_overlap"] = 0.0
    return total


def pair_score(fa: Features, fb: Features, hsim: float, freq: Frequencies, cfg: ClusterConfig) -> float:
    return _parts(fa, fb, hsim, freq, cfg, None)


def contradiction(fa: Features, fb: Features, cfg: ClusterConfig) -> float:
    """Negative context evidence between two accounts: origins and product lines (0 when nothing
    contradicts). Different PGP keys are weighed separately, per cluster."""
    total = 0.0
    if fa.origins and fb.origins and not (fa.origins & fb.origins):
        total += cfg.different_origin
    if fa.products and fb.products and fa.products_given == fb.products_given \
            and not (fa.products & fb.products):
        total += cfg.no_common_product
    return total


def _original(values: tuple[str, ...], key: str, keyfn) -> str:
    for v in values:
        if keyfn(v) == key:
            return v
    return key


def _short(text: str, n: int = 12) -> str:
    return text if len(text) <= n else text[:n] + "…"


def explain_pair(acc_a: Account, acc_b: Account, fa: Features, fb: Features, hsim: float,
                 freq: Frequencies, cfg: ClusterConfig) -> tuple[float, dict[str, Any], str]:
    """(log-odds, evidence dict, sentence) for one pair."""
    d: dict[str, Any] = {}
    score = _parts(fa, fb, hsim, freq, cfg, d)
    phrases: list[str] = []
    evidence: dict[str, Any] = {"log_odds": d["log_odds"], "strong_identifiers": d["strong_identifiers"]}
    if "pgp" in d:
        shown = [_original(acc_a.pgp_fingerprints, k, pgp_key) for k in d["pgp"]]
        evidence["pgp_fingerprints"] = shown
        phrases.append("same PGP fingerprint " + ", ".join(pgp_display(s) for s in shown))
    if "wallets" in d:
        shown = [_original(acc_a.wallets, k, wallet_key) for k in d["wallets"]]
        evidence["wallets"] = shown
        phrases.append(("same wallet " if len(shown) == 1 else f"{len(shown)} same wallets ")
                       + ", ".join(_short(s) for s in shown))
    if "contacts" in d:
        shown = [_original(acc_a.contacts, k, contact_key) for k in d["contacts"]]
        evidence["contacts"] = shown
        phrases.append("same contact " + ", ".join(shown))
    if "pgp_conflict" in d:
        evidence["pgp_conflict"] = [list(acc_a.pgp_fingerprints), list(acc_b.pgp_fingerprints)]
        phrases.append(f"different PGP keys ({pgp_display(acc_a.pgp_fingerprints[0])} vs "
                       f"{pgp_display(acc_b.pgp_fingerprints[0])})")
    if "claimed_alias" in d:
        evidence["claimed_alias"] = True
        who, other = (acc_a, acc_b) if fa.claims(fb) else (acc_b, acc_a)
        phrases.append(f"{who.account_id} names {other.handle!r} as its own elsewhere")
    if "handle_similarity" in d:
        evidence["handle_similarity"] = d["handle_similarity"]
        evidence["handles"] = [acc_a.handle, acc_b.handle]
        note = " (short or common name)" if d.get("handle_common_or_short") else ""
        phrases.append(f"handles {round(100 * hsim)}% similar ({acc_a.handle} ~ {acc_b.handle}){note}")
    if "titles_shared" in d:
        evidence["titles_shared"] = d["titles_shared"]
        evidence["titles_compared"] = d["titles_compared"]
        phrases.append(f"{d['titles_shared']} of {d['titles_compared']} listing titles the same")
    if "profile_similarity" in d:
        evidence["profile_similarity"] = d["profile_similarity"]
        phrases.append(f"profile texts {round(100 * d['profile_similarity'])}% alike")
    if "origins_shared" in d:
        evidence["origins_shared"] = d["origins_shared"]
        phrases.append("both ship from " + ", ".join(d["origins_shared"]))
    if "origins_differ" in d:
        evidence["origins_differ"] = d["origins_differ"]
        a, b = d["origins_differ"]
        phrases.append(f"ship from different countries ({', '.join(a)} vs {', '.join(b)})")
    if "product_overlap" in d:
        evidence["product_overlap"] = d["product_overlap"]
        if d["product_overlap"]:
            evidence["products_shared"] = d["products_shared"]
            what = "products" if fa.products_given else "product words in titles"
            phrases.append(f"{what} {round(100 * d['product_overlap'])}% the same "
                           f"({', '.join(d['products_shared'][:3])})")
        else:
            phrases.append("no product in common")
    if not phrases:
        phrases.append("no evidence")
    return score, evidence, "; ".join(phrases)
