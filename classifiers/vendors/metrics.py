"""Clustering quality against a truth labelling: pairwise precision/recall/F1 and B-cubed.

Both take `pred` and `truth` as dicts account_id -> label over the same accounts. Pairwise counts the
pairs of accounts put together; B-cubed averages, per account, how much of its predicted cluster is truly
its actor (precision) and how much of its actor its cluster holds (recall), so large clusters do not
dominate the way they do in pair counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping


def _c2(n: int) -> int:
    return n * (n - 1) // 2


def _prf(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def pairwise(pred: Mapping[str, Hashable], truth: Mapping[str, Hashable]) -> dict[str, float]:
    keys = truth.keys() & pred.keys()
    both = Counter((pred[k], truth[k]) for k in keys)
    tp = sum(_c2(n) for n in both.values())
    pred_pairs = sum(_c2(n) for n in Counter(pred[k] for k in keys).values())
    true_pairs = sum(_c2(n) for n in Counter(truth[k] for k in keys).values())
    p = tp / pred_pairs if pred_pairs else 1.0
    r = tp / true_pairs if true_pairs else 1.0
    return {"precision": p, "recall": r, "f1": _prf(p, r), "true_pairs": true_pairs,
            "predicted_pairs": pred_pairs, "correct_pairs": tp}


def bcubed(pred: Mapping[str, Hashable], truth: Mapping[str, Hashable]) -> dict[str, float]:
    keys = truth.keys() & pred.keys()
    both = Counter((pred[k], truth[k]) for k in keys)
    psize = Counter(pred[k] for k in keys)
    tsize = Counter(truth[k] for k in keys)
    n = len(keys) or 1
    # For each account, |its cluster ∩ its actor| is the count of its (pred, truth) cell.
    p = sum(c * c / psize[pl] for (pl, _), c in both.items()) / n
    r = sum(c * c / tsize[tl] for (_, tl), c in both.items()) / n
    return {"precision": p, "recall": r, "f1": _prf(p, r)}


def cross_group_pairs(pred: Mapping[str, Hashable], truth: Mapping[str, Hashable],
                      group: Mapping[str, Hashable]) -> dict[str, float]:
    """Pairwise precision/recall over pairs whose accounts lie in different groups only (group: account ->
    "forum" | "market", say): how well the clustering links a forum author to the same actor's market
    accounts, without the market-market pairs that dominate plain pair counts."""
    keys = truth.keys() & pred.keys() & group.keys()

    def cross(cells: Counter) -> int:
        by_label: dict[Hashable, Counter] = {}
        for (label, g), n in cells.items():
            by_label.setdefault(label, Counter())[g] = n
        total = 0
        for counts in by_label.values():
            size = sum(counts.values())
            total += (size * size - sum(n * n for n in counts.values())) // 2
        return total

    tp = cross(Counter(((pred[k], truth[k]), group[k]) for k in keys))
    pred_pairs = cross(Counter((pred[k], group[k]) for k in keys))
    true_pairs = cross(Counter((truth[k], group[k]) for k in keys))
    p = tp / pred_pairs if pred_pairs else 1.0
    r = tp / true_pairs if true_pairs else 1.0
    return {"precision": p, "recall": r, "f1": _prf(p, r), "true_pairs": true_pairs,
            "predicted_pairs": pred_pairs, "correct_pairs": tp}
