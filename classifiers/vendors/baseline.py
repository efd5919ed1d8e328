"""The baseline investigators would build first: link accounts whose handles are within a small edit
distance (normalised Levenshtein similarity of the lower-cased handles), then take connected components.
Evaluation reports it next to `cluster_accounts` so that the gain of the evidence model is visible.
Quadratic (chunked `cdist`): for evaluation sets, not for production.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein


def handle_baseline(accounts: Sequence, threshold: float = 0.8, chunk: int = 2000,
                    workers: int = 2) -> dict[str, str]:
    """account_id -> cluster label (the smallest account id of its component)."""
    ids = [a.account_id for a in accounts]
    handles = [a.handle.lower() for a in accounts]
    parent = list(range(len(ids)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for start in range(0, len(ids), chunk):
        block = process.cdist(handles[start:start + chunk], handles, scorer=Levenshtein.normalized_similarity,
                              score_cutoff=threshold, dtype=np.float32, workers=workers)
        for i, j in zip(*np.nonzero(block >= threshold), strict=True):
            ri, rj = find(int(i) + start), find(int(j))
            if ri != rj:
                parent[ri] = rj
    groups: dict[int, list[int]] = {}
    for x in range(len(ids)):
        groups.setdefault(find(x), []).append(x)
    return {ids[m]: min(ids[k] for k in members) for members in groups.values() for m in members}
