"""Vendor context: a listing's category read together with the vendor's other listings.

A title alone is often not enough ("Matanuska Tundra", "Tesla 200mg", "custom order"), but the shop around
it is: a strain name among twenty cannabis listings is cannabis, the same words at a vendor of guides and
accounts are not. For each listing, V is the mean of the listing-alone probabilities of the vendor's *other*
listings (leave-one-out, so a listing never reads itself) and n how many there are; the new probabilities
are a product of experts,

    q_k  proportional to  exp((log(P_k + 1e-6) + beta(n) * log(V_k + eps)) / T),   beta(n) = b * n / (n + h)

with four numbers (b, h, eps, T) fitted by likelihood. It is monotone in the listing's own evidence, and
the context's pull between two classes, at most b * log((1 + eps) / eps) nats, is kept below MAX_PULL: a
listing the model is sure of keeps its class whatever the shop sells, and the context decides between the
classes the listing itself leaves open. A vendor's only listing, or one whose vendor is unknown, is read alone: its probabilities stay P.

A first version (2026-12-07) was a multinomial logistic regression over [log P, V, log P * V]: as accurate,
but not monotone - it turned a listing read alone as stimulants with probability 1.0 into not_drug at a
shop of doping products (testbed demo); this form replaced it the same day (docs/model-card.md).

It is fitted on the vendor-grouped out-of-fold probabilities of the training rows (the same ones the
temperature is fitted on), so it learns how far an unseen vendor's other listings are to be trusted. It
reads no labels of the vendor being predicted, only their text through the listing model. Pure functions
over arrays: the crawler's storage pipeline feeds it the stored listing-alone scores of a vendor account
after each crawl (crawler/vendor_context.py), `predict_categories` the records of one call that share a
`vendor`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

_FLOOR = 1e-6  # log P is taken of P + _FLOOR: scores are stored to 6 decimals, a stored 0 stays finite
# The most the vendor's listings may shift the log-odds between two classes (nats): a listing read alone
# with odds above e^9.2 = 10,000 : 1 keeps its class whatever its shop sells. A bound by construction,
# not a fitted number: on shops that sell one thing the likelihood alone would let the context overrule all.
MAX_PULL = 9.2


def leave_one_out_means(P: np.ndarray, vendors: Sequence[Hashable | None]) -> tuple[np.ndarray, np.ndarray]:
    """(V, n): for each row the mean of P over the other rows of its vendor, and how many rows that is.

    Rows whose vendor is None (unknown) get no context (n = 0, V = 0)."""
    rows: dict[Hashable, list[int]] = defaultdict(list)
    for i, vendor in enumerate(vendors):
        if vendor is not None:
            rows[vendor].append(i)
    V = np.zeros_like(P, dtype=np.float64)
    n = np.zeros(len(P), dtype=np.float64)
    for idx in rows.values():
        if len(idx) < 2:
            continue
        total = P[idx].sum(axis=0)
        others = len(idx) - 1
        V[idx] = (total - P[idx]) / others
        n[idx] = others
    return V, n


@dataclass
class VendorContext:
    """The fitted second stage; columns of P and of the output are `classes` (the listing model's order)."""

    classes: list[str]
    strength: float  # b: the weight of the vendor's listings when it has many
    half: float  # h: other listings at which the weight is half of b
    eps: float  # smoothing of V: bounds the pull of a class the shop does not sell
    temperature: float  # T

    @classmethod
    def fit(cls, P: np.ndarray, labels: Sequence[str], vendors: Sequence[Hashable | None], classes: Sequence[str],
            seed: int = 0) -> VendorContext:
        """Maximum likelihood on the rows that have other listings of their vendor (deterministic: a
        Nelder-Mead search from a fixed start; `seed` is accepted for the training config's sake)."""
        V, n = leave_one_out_means(P, vendors)
        some = n > 0
        y = np.array([list(classes).index(label) for label in labels])[some]
        P, V, n = P[some], V[some], n[some]

        def nll(x: np.ndarray) -> float:
            q = _combine(P, V, n, *_params(x))
            return float(-np.log(np.clip(q[np.arange(len(y)), y], 1e-12, None)).mean())

        x0 = np.array([0.0, np.log(5.0), -3.0, 0.0])  # half the largest strength, h = 5, eps ~ 0.05
        if len(y) == 0:
            return cls(list(classes), *_params(x0))
        res = minimize(nll, x0, method="Nelder-Mead", options={"maxiter": 2000, "xatol": 1e-4, "fatol": 1e-7})
        return cls(list(classes), *_params(res.x))

    def apply(self, P: np.ndarray, vendors: Sequence[Hashable | None]) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities with context, number of the vendor's other listings read) for rows P. A row with no
        other listing of its vendor (or no vendor) keeps P: there is no context to add."""
        V, n = leave_one_out_means(P, vendors)
        out = np.array(P, dtype=np.float64, copy=True)
        some = n > 0
        if some.any():
            out[some] = _combine(P[some], V[some], n[some], self.strength, self.half, self.eps, self.temperature)
        return out, n


def _params(x: np.ndarray) -> tuple[float, float, float, float]:
    """Search space -> (strength, half, eps, temperature): eps in (0.001, 1), and the strength below
    MAX_PULL / log((1 + eps) / eps), so that the context's pull never exceeds MAX_PULL."""
    eps = 0.001 + 0.999 / (1.0 + np.exp(-x[2]))
    strength = MAX_PULL / np.log((1 + eps) / eps) / (1.0 + np.exp(-x[0]))
    return float(strength), float(np.exp(x[1])), float(eps), float(np.exp(x[3]))


def _combine(P: np.ndarray, V: np.ndarray, n: np.ndarray, strength: float, half: float, eps: float,
             temperature: float) -> np.ndarray:
    beta = strength * n / (n + half)
    z = (np.log(P + _FLOOR) + beta[:, None] * np.log(V + eps)) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


__all__ = ["VendorContext", "leave_one_out_means", "MAX_PULL"]
