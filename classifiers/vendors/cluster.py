"""Clustering accounts into traffickers: `cluster_accounts(accounts, feedback) -> ClusterResult`.

1. Features and frequencies per account; candidate pairs from blocking; a log-odds score per pair.
2. Investigator feedback becomes constraints: confirmations and merges are must-links, rejections and
   splits cannot-links (the latest decision on a pair wins).
3. Must-links are joined first, then links from the strongest down (a maximum spanning forest, as in
   single-linkage), except that a link is refused ("blocked") when it would
   - put two cannot-linked accounts in one cluster, even through others;
   - join clusters holding different PGP keys when the link, with the penalty for different keys, would
     fall below the threshold (the penalty applies once: a pair that already paid it is not charged again);
   - be "soft" (no shared strong identifier) and join clusters in which some cross pair contradicts
     (different origins, or different origins and products), or grow a cluster past `max_soft_cluster`:
     soft links must not chain strangers together.
4. A cluster's confidence is its weakest joining link: the link whose loss would split it.

Cluster ids are "vc-" + 12 hex digits of the SHA-1 of the smallest member account id, so an id survives
re-runs and new accounts joining, and changes only when the cluster's smallest member does.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from rapidfuzz import fuzz, process

from classifiers.vendors.blocking import candidate_pairs, exhaustive_pairs
from classifiers.vendors.config import DEFAULT_CONFIG, ClusterConfig
from classifiers.vendors.evidence import contradiction, explain_pair, pair_score, probability
from classifiers.vendors.features import all_features, frequencies
from classifiers.vendors.model import Account, Cluster, ClusterResult, Feedback, Link, RecordError

log = logging.getLogger(__name__)


def cluster_id_for(members: Sequence[str]) -> str:
    return "vc-" + hashlib.sha1(min(members).encode("utf-8")).hexdigest()[:12]


def _constraints(feedback: Sequence[Feedback], index: dict[str, int], warnings: list[str]
                 ) -> tuple[list[tuple[int, int, Feedback]], dict[tuple[int, int], Feedback]]:
    """(must-links in time order, cannot-links) from feedback; the latest decision on a pair wins."""
    decided: dict[tuple[int, int], tuple[bool, Feedback]] = {}

    def ids(names: Sequence[str], fb: Feedback) -> list[int]:
        out = []
        for name in names:
            if name in index:
                out.append(index[name])
            else:
                warnings.append(f"feedback by {fb.who} at {fb.when.isoformat()} ({fb.kind}) names account "
                                f"{name!r}, which is not among the accounts clustered: ignored for it")
        return out

    for fb in sorted(feedback, key=lambda f: f.when):
        if fb.kind in ("confirm", "reject"):
            pair = ids([fb.account_a or "", fb.account_b or ""], fb)
            pairs = [(pair[0], pair[1])] if len(pair) == 2 else []
            must = fb.kind == "confirm"
        elif fb.kind == "merge":
            members = ids(fb.members, fb)
            pairs = list(zip(members, members[1:], strict=False))
            must = True
        else:  # split
            side_a, side_b = ids(fb.members, fb), ids(fb.others, fb)
            pairs = [(x, y) for x in side_a for y in side_b]
            must = False
        for x, y in pairs:
            if x != y:
                decided[(min(x, y), max(x, y))] = (must, fb)
    must_links = sorted(((x, y, fb) for (x, y), (m, fb) in decided.items() if m),
                        key=lambda t: (t[2].when, t[0], t[1]))
    cannot = {pair: fb for pair, (m, fb) in decided.items() if not m}
    return must_links, cannot


class _Forest:
    """Union-find that also keeps, per root, members, PGP keys and cannot-link partners."""

    def __init__(self, n: int, pgp: list[frozenset]) -> None:
        self.parent = list(range(n))
        self.members: dict[int, list[int]] = {}
        self.pgp = pgp  # per-account; per-root sets are built on first union
        self.root_pgp: dict[int, frozenset] = {}
        self.cannot: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def members_of(self, root: int) -> list[int]:
        return self.members.get(root, [root])

    def keys_of(self, root: int) -> frozenset:
        return self.root_pgp.get(root, self.pgp[root])

    def cannot_conflict(self, ra: int, rb: int) -> bool:
        ca, cb = self.cannot.get(ra), self.cannot.get(rb)
        if not ca and not cb:
            return False
        if ca and (cb is None or len(ca) <= len(cb)):
            return any(self.find(y) == rb for y in ca)
        return any(self.find(y) == ra for y in cb or ())

    def union(self, ra: int, rb: int) -> int:
        ma, mb = self.members_of(ra), self.members_of(rb)
        if len(ma) < len(mb):
            ra, rb, ma, mb = rb, ra, mb, ma
        self.parent[rb] = ra
        self.members[ra] = ma + mb
        self.members.pop(rb, None)
        self.root_pgp[ra] = self.keys_of(ra) | self.keys_of(rb)
        self.root_pgp.pop(rb, None)
        cb = self.cannot.pop(rb, None)
        if cb:
            self.cannot.setdefault(ra, set()).update(cb)
        return ra


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while one clustering runs, then restored.

    A run builds millions of long-lived objects (features, candidate pairs, links) and every full collection
    walks all of them again: at 300k accounts the collector took 32 s of a 98 s run, and its share grows
    with the population. Nothing here builds reference cycles, so reference counting still frees every
    temporary object at once; anything cyclic is collected once the collector is back on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def cluster_accounts(accounts: Sequence[Account], feedback: Sequence[Feedback] = (),
                     config: ClusterConfig = DEFAULT_CONFIG, workers: int = 2,
                     exhaustive: bool = False) -> ClusterResult:
    """Cluster vendor accounts into traffickers; see the module docstring and docs/clustering.md.

    `workers`: threads for rapidfuzz. `exhaustive=True` compares all pairs instead of blocking: only to
    measure what blocking loses, on samples of ~20k accounts.
    """
    with _cyclic_gc_paused():
        return _cluster_accounts(accounts, feedback, config, workers, exhaustive)


def _cluster_accounts(accounts: Sequence[Account], feedback: Sequence[Feedback], config: ClusterConfig,
                      workers: int, exhaustive: bool) -> ClusterResult:
    t0 = time.perf_counter()
    cfg = config
    accounts = sorted(accounts, key=lambda a: a.account_id)  # results must not depend on input order
    ids = [a.account_id for a in accounts]
    dupes = {ids[i] for i in range(1, len(ids)) if ids[i] == ids[i - 1]}
    if dupes:
        raise RecordError(f"account_id must be unique; repeated: {', '.join(sorted(dupes)[:5])}")
    index = {a: i for i, a in enumerate(ids)}
    warnings: list[str] = []
    stats: dict = {"accounts": len(accounts)}

    feats = all_features(accounts)
    freq = frequencies(feats, cfg.boilerplate_accounts)
    stats["t_features_s"] = round(time.perf_counter() - t0, 2)

    pairs, handle_only = (exhaustive_pairs(feats, freq, cfg, stats, workers=workers) if exhaustive
                          else candidate_pairs(feats, freq, cfg, stats))
    stats["t_blocking_s"] = round(time.perf_counter() - t0, 2)

    # Handle similarity per chunk of candidates in rapidfuzz (C++), then the Python scorer; chunks keep
    # the per-pair lists small at 1M accounts.
    stems = [f.stem for f in feats]
    fulls = [f.full for f in feats]
    leets = [f.leet for f in feats]
    kept: list[tuple[float, int, int, float]] = []
    review = cfg.review_threshold
    scored = 0
    for start in range(0, len(pairs), 500_000):
        chunk, only = pairs[start:start + 500_000], handle_only[start:start + 500_000]
        left, right = chunk[:, 0].tolist(), chunk[:, 1].tolist()
        sim = np.zeros(len(left), dtype=np.float32)
        for forms in (stems, fulls, leets):
            np.maximum(sim, process.cpdist([forms[i] for i in left], [forms[j] for j in right],
                                           scorer=fuzz.ratio, workers=workers, dtype=np.float32), out=sim)
        sim /= 100.0
        # Pairs that share only a handle block and whose handles are not alike cannot reach the review
        # threshold: skip them before the per-pair Python scorer.
        keep = ~only | (sim >= cfg.handle_floor - 1e-6)
        chunk, sim = chunk[keep], sim[keep]
        left, right, hs = chunk[:, 0].tolist(), chunk[:, 1].tolist(), sim.tolist()
        scored += len(left)
        for k in range(len(left)):
            i, j = left[k], right[k]
            s = pair_score(feats[i], feats[j], hs[k], freq, cfg)
            if s >= review:
                kept.append((s, i, j, hs[k]))
    del pairs, handle_only, stems, fulls, leets
    stats["pairs_scored"] = scored
    stats["t_scoring_s"] = round(time.perf_counter() - t0, 2)

    must_links, cannot = _constraints(feedback, index, warnings)
    forest = _Forest(len(accounts), [f.pgp for f in feats])
    for (x, y), _fb in cannot.items():
        forest.cannot.setdefault(x, set()).add(y)
        forest.cannot.setdefault(y, set()).add(x)
    weakest: dict[int, float] = {}  # root -> weakest joining link's probability
    links: list[Link] = []

    def join(ra: int, rb: int, p: float) -> None:
        w = min(weakest.pop(ra, 1.0), weakest.pop(rb, 1.0), p)
        weakest[forest.union(ra, rb)] = w

    for x, y, fb in must_links:
        rx, ry = forest.find(x), forest.find(y)
        if rx != ry and forest.cannot_conflict(rx, ry):
            warnings.append(f"confirmation of {ids[x]} ~ {ids[y]} by {fb.who} at {fb.when.isoformat()} "
                            "contradicts an investigator's rejection or split: the rejection is kept")
            continue
        if rx != ry:
            join(rx, ry, 1.0)
        links.append(Link(ids[x], ids[y], 1.0,
                          {"investigator": fb.who, "when": fb.when.isoformat(), "decision": fb.kind,
                           "note": fb.note},
                          f"{fb.kind}ed by {fb.who} on {fb.when.date().isoformat()}"
                          + (f": {fb.note}" if fb.note else ""), status="confirmed"))
    confirmed = {(min(index[lk.a], index[lk.b]), max(index[lk.a], index[lk.b])) for lk in links}

    kept.sort(key=lambda t: (-t[0], ids[t[1]], ids[t[2]]))
    for s, i, j, h in kept:
        if (i, j) in confirmed:
            continue
        score, evidence, sentence = explain_pair(accounts[i], accounts[j], feats[i], feats[j], h, freq, cfg)
        p = probability(score)
        if s < cfg.link_threshold:
            links.append(Link(ids[i], ids[j], p, evidence, sentence, status="review"))
            continue
        status, reason = "joined", ""
        fb = cannot.get((i, j))
        ri, rj = forest.find(i), forest.find(j)
        if fb is not None:
            status, reason = "rejected", f"rejected by {fb.who} on {fb.when.date().isoformat()}"
            if fb.note:
                reason += f": {fb.note}"
        elif ri != rj:
            reason = _refusal(forest, ri, rj, s, evidence, feats, cfg)
            if reason:
                status = "blocked"
            else:
                join(ri, rj, p)
        if reason:
            evidence = {**evidence, "not_joined_because": reason}
            sentence = f"{sentence} — not joined: {reason}"
        links.append(Link(ids[i], ids[j], p, evidence, sentence, status=status))
    stats["t_clustering_s"] = round(time.perf_counter() - t0, 2)

    clusters: list[Cluster] = []
    seen: set[int] = set()
    for x in range(len(accounts)):
        r = forest.find(x)
        if r in seen:
            continue
        seen.add(r)
        members = tuple(sorted(ids[m] for m in forest.members_of(r)))
        clusters.append(Cluster(cluster_id_for(members), members, round(weakest.get(r, 1.0), 4)))
    stats["clusters"] = len(clusters)
    stats["links_joined"] = sum(1 for lk in links if lk.status == "joined")
    stats["links_blocked"] = sum(1 for lk in links if lk.status == "blocked")
    stats["links_review"] = sum(1 for lk in links if lk.status == "review")
    stats["t_total_s"] = round(time.perf_counter() - t0, 2)
    log.info("clustered %d accounts into %d clusters in %.1fs", len(accounts), len(clusters),
             stats["t_total_s"])
    return ClusterResult(clusters=clusters, links=links, warnings=warnings, stats=stats)


def _refusal(forest: _Forest, ra: int, rb: int, score: float, evidence: dict, feats: list,
             cfg: ClusterConfig) -> str:
    """Why joining clusters ra and rb through this link would be unsafe ("" when it is not)."""
    if forest.cannot_conflict(ra, rb):
        return "an investigator rejected a link between accounts of these two clusters"
    ka, kb = forest.keys_of(ra), forest.keys_of(rb)
    # Different keys held elsewhere in the two clusters count against this link as they would between
    # the two accounts themselves: no chaining A(key 1) ~ B(no key) ~ C(key 2) on evidence A~C would fail.
    if ka and kb and not (ka & kb) and "pgp_conflict" not in evidence \
            and score + cfg.conflicting_pgp < cfg.link_threshold:
        return "the clusters hold different PGP keys, which outweighs this link"
    if evidence.get("strong_identifiers", 0):
        return ""
    ma, mb = forest.members_of(ra), forest.members_of(rb)
    if len(ma) + len(mb) > cfg.max_soft_cluster:
        return f"a link without shared identifiers may not grow a cluster past {cfg.max_soft_cluster} accounts"
    if len(ma) > 1 or len(mb) > 1:
        for x in ma:
            for y in mb:
                if contradiction(feats[x], feats[y], cfg) <= cfg.soft_conflict:
                    return "other accounts of these clusters ship from different countries or sell other products"
    return ""
