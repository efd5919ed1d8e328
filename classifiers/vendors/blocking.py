"""Candidate pairs without comparing every account with every other.

Every pair that could link shares at least one key of some block:
- strong identifiers: the same PGP key id, wallet or contact (exact; no loss below the frequency cap);
- handles: the normalised stem itself, its one-character deletions (any single insertion, deletion or
  substitution between two stems shares one: the symmetric-delete index), the first and the last
  `prefix_len` characters of stem and full form (affixes and extra words added at one end);
- listing titles: the same order-free title key;
- profile text: one of the `profile_sketch` smallest shingle hashes (a bottom-k sketch: near-duplicate
  profiles share their smallest shingles with high probability);
- claimed aliases: an account that names a handle as its own and the accounts with that handle.
Blocks larger than their cap are generic (a common name, a stock title) and yield no pairs; how many were
skipped is reported, and `bench` measures the recall this loses against all-pairs comparison.

Keys are hashed to int64 and grouped with numpy sorting, which keeps 1M accounts (about 15M keys) within a
few hundred MB.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from classifiers.vendors.config import ClusterConfig
from classifiers.vendors.features import Features, Frequencies
from classifiers.vendors.model import MENTION_SEP


def _deletions(stem: str) -> Iterable[str]:
    return {stem[:i] + stem[i + 1:] for i in range(len(stem))}


def _pairs_from_groups(keys: np.ndarray, idx: np.ndarray, cap: int, stats: dict, name: str) -> np.ndarray:
    """All pairs (encoded as i * 2**32 + j, i < j) of accounts sharing a key, for groups of 2..cap."""
    if keys.size == 0:
        return np.empty(0, dtype=np.int64)
    order = np.lexsort((idx, keys))
    keys, idx = keys[order], idx[order]
    # Drop repeats of one account under one key (e.g. two deletions giving the same string).
    keep = np.ones(keys.size, dtype=bool)
    keep[1:] = (keys[1:] != keys[:-1]) | (idx[1:] != idx[:-1])
    keys, idx = keys[keep], idx[keep]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, keys.size])
    stats[f"{name}_blocks_skipped"] = int(np.count_nonzero(sizes > cap))
    stats[f"{name}_accounts_in_skipped_blocks"] = int(sizes[sizes > cap].sum())
    out: list[np.ndarray] = []
    # Vectorised per block size: all blocks of size s give s*(s-1)/2 pairs from the same index pattern.
    for s in np.unique(sizes):
        if s < 2 or s > cap:
            continue
        st = starts[sizes == s]
        a, b = np.triu_indices(int(s), k=1)
        members = idx[st[:, None] + np.arange(s)[None, :]]  # (n_blocks, s), sorted within a block
        i = members[:, a].ravel().astype(np.int64)
        j = members[:, b].ravel().astype(np.int64)
        out.append((i << 32) | j)
    return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def _hashed(pairs: list[tuple[object, int]]) -> tuple[np.ndarray, np.ndarray]:
    if not pairs:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    keys = np.fromiter((hash(k) for k, _ in pairs), dtype=np.int64, count=len(pairs))
    idx = np.fromiter((i for _, i in pairs), dtype=np.int64, count=len(pairs))
    return keys, idx


def candidate_pairs(features: Sequence[Features], freq: Frequencies, cfg: ClusterConfig,
                    stats: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(pairs, handle_only): sorted unique candidate pairs as an (n, 2) int64 array of account indexes
    (i < j), and whether each pair shares nothing but a handle block. Such a pair can link only if its
    handles are similar, which the caller checks in bulk before scoring it one by one."""
    stats = stats if stats is not None else {}
    parts: list[np.ndarray] = []

    # Strong identifiers: frequency-capped exact keys.
    strong: list[tuple[object, int]] = []
    for i, f in enumerate(features):
        for k in f.pgp:
            if 2 <= freq.pgp[k] <= cfg.max_identifier_accounts:
                strong.append((("p", k), i))
        for k in f.wallets:
            if 2 <= freq.wallets[k] <= cfg.max_identifier_accounts:
                strong.append((("w", k), i))
        for k in f.contacts:
            if 2 <= freq.contacts[k] <= cfg.max_identifier_accounts:
                strong.append((("c", k), i))
    parts.append(_pairs_from_groups(*_hashed(strong), cfg.max_identifier_accounts + 1, stats, "identifier"))
    del strong

    # Handles: symmetric-delete neighbourhood of the stem plus prefix/suffix keys. Built as two flat lists
    # rather than tuples to keep 1M accounts' keys small.
    hkeys: list[int] = []
    hidx: list[int] = []
    p = cfg.prefix_len
    for i, f in enumerate(features):
        stem = f.stem
        ks = {stem}
        if len(stem) >= 4:
            ks.update(_deletions(stem))
        if len(stem) > p:
            ks.add("\x01" + stem[:p])
            ks.add("\x02" + stem[-p:])
        for other in (f.full, f.leet):
            if other != stem and len(other) > p:
                ks.add("\x01" + other[:p])
                ks.add("\x02" + other[-p:])
        if f.leet != stem:
            ks.add(f.leet)
        hkeys.extend(hash(k) for k in ks)
        hidx.extend([i] * len(ks))
    handle_pairs = _pairs_from_groups(np.array(hkeys, dtype=np.int64), np.array(hidx, dtype=np.int64),
                                      cfg.max_handle_block, stats, "handle")
    del hkeys, hidx

    # Titles and profile text.
    soft: list[tuple[object, int]] = []
    for i, f in enumerate(features):
        for k in f.titles:
            if 2 <= freq.titles[k] <= cfg.max_title_accounts:
                soft.append((("t", k), i))
    parts.append(_pairs_from_groups(*_hashed(soft), cfg.max_title_accounts + 1, stats, "title"))
    soft = []
    for i, f in enumerate(features):
        if f.shingles:
            for h in sorted(f.shingles)[: cfg.profile_sketch]:
                soft.append((("s", h), i))
    parts.append(_pairs_from_groups(*_hashed(soft), cfg.max_profile_block, stats, "profile"))
    del soft

    parts.append(_mention_pairs(features, cfg, stats))
    other = np.unique(np.concatenate(parts))
    handle_pairs = np.unique(handle_pairs)
    handle_only = np.setdiff1d(handle_pairs, other, assume_unique=True)
    encoded = np.concatenate([other, handle_only])
    flags = np.r_[np.zeros(other.size, dtype=bool), np.ones(handle_only.size, dtype=bool)]
    stats["candidate_pairs"] = int(encoded.size)
    stats["candidate_pairs_handle_only"] = int(handle_only.size)
    return np.stack([encoded >> 32, encoded & 0xFFFFFFFF], axis=1), flags


def _mention_pairs(features: Sequence[Features], cfg: ClusterConfig, stats: dict) -> np.ndarray:
    """Pairs of an account that names a handle as its own ("also on", a forum shop line) and the accounts
    with that handle (on the named site, when it says which), however unlike the two handles are."""
    wanted: set[str] = set()
    for f in features:
        if f.mentions:
            wanted.update(f.mentions)
    if not wanted:
        return np.empty(0, dtype=np.int64)
    keyed: list[tuple[object, int]] = []
    for i, f in enumerate(features):
        for k in f.mentions:
            keyed.append((("m", k), i))
        for k in (f.full, f"{f.site}{MENTION_SEP}{f.full}"):
            if k in wanted:
                keyed.append((("m", k), i))
    return _pairs_from_groups(*_hashed(keyed), cfg.max_handle_block, stats, "mention")


def exhaustive_pairs(features: Sequence[Features], freq: Frequencies, cfg: ClusterConfig,
                     stats: dict | None = None, chunk: int = 2000, workers: int = 2
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Every pair that could reach the link threshold, found without blocking (for measuring blocking).

    A pair links only if the prior is overcome, which origin and products alone cannot do: it needs a
    shared strong identifier, a shared title, profile texts from `profile_floor` up, or handles from
    `handle_floor` up. This finds all of those by brute force: rapidfuzz `cdist` over all handle pairs
    in row chunks, and sparse products for shared shingles. Quadratic: meant for samples of ~20k.
    """
    from rapidfuzz import fuzz, process
    from scipy import sparse

    stats = stats if stats is not None else {}
    n = len(features)
    parts: list[np.ndarray] = []

    def encode(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        lo, hi = np.minimum(i, j).astype(np.int64), np.maximum(i, j).astype(np.int64)
        keep = lo != hi
        return (lo[keep] << 32) | hi[keep]

    # Any shared key (identifier, title, shingle), by sparse co-occurrence; caps as in scoring.
    rows: list[int] = []
    cols: list[int] = []
    vocab: dict[object, int] = {}
    for i, f in enumerate(features):
        keys = [("p", k) for k in f.pgp if freq.pgp[k] <= cfg.max_identifier_accounts]
        keys += [("w", k) for k in f.wallets if freq.wallets[k] <= cfg.max_identifier_accounts]
        keys += [("c", k) for k in f.contacts if freq.contacts[k] <= cfg.max_identifier_accounts]
        keys += [("t", k) for k in f.titles if freq.titles[k] <= cfg.max_title_accounts]
        for k in keys:
            rows.append(i)
            cols.append(vocab.setdefault(k, len(vocab)))
    if rows:
        m = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n, len(vocab)))
        co = sparse.triu(m @ m.T, k=1).tocoo()
        parts.append(encode(co.row, co.col))
    rows, cols, vocab = [], [], {}
    sizes = np.zeros(n, dtype=np.int32)
    for i, f in enumerate(features):
        sizes[i] = len(f.shingles)
        for h in f.shingles:
            rows.append(i)
            cols.append(vocab.setdefault(h, len(vocab)))
    if rows:
        m = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n, len(vocab)))
        co = sparse.triu(m @ m.T, k=1).tocoo()
        jac = co.data / (sizes[co.row] + sizes[co.col] - co.data)
        keep = jac >= cfg.profile_floor - 1e-9
        parts.append(encode(co.row[keep], co.col[keep]))

    # Handles: all pairs, chunked so that memory stays at chunk x n bytes.
    cutoff = int(cfg.handle_floor * 100) - 1  # uint8 results are rounded: keep a margin
    for forms in ([f.stem for f in features], [f.full for f in features], [f.leet for f in features]):
        for start in range(0, n, chunk):
            block = process.cdist(forms[start:start + chunk], forms, scorer=fuzz.ratio, dtype=np.uint8,
                                  score_cutoff=cutoff, workers=workers)
            i, j = np.nonzero(block >= cutoff)
            parts.append(encode(i + start, j))
    parts.append(_mention_pairs(features, cfg, stats))
    encoded = np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)
    stats["candidate_pairs"] = int(encoded.size)
    return np.stack([encoded >> 32, encoded & 0xFFFFFFFF], axis=1), np.zeros(encoded.size, dtype=bool)
