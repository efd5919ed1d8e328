"""Vendor context: a listing's category read together with the vendor's other listings.

A title alone is often not enough ("Matanuska Tundra", "Tesla 200mg", "custom order"), but the shop around
it is: a strain name among twenty cannabis listings is cannabis, the same words at a vendor of guides and
accounts are not. This second stage takes the listing-alone probabilities of the category model (P, one
row per listing) and, for each listing, the mean of the listing-alone probabilities of the vendor's *other*
listings (V, leave-one-out, so a listing never reads itself), and gives new probabilities from a
multinomial logistic regression over [log P, w V, log P * w V, w], where w = n / (n + 2) shrinks the
context of a vendor with few other listings (n of them) towards nothing. A vendor's only listing, or one
whose vendor is unknown, is read alone: its probabilities stay P.

It is trained on the vendor-grouped out-of-fold probabilities of the training rows (the same ones the
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
from sklearn.linear_model import LogisticRegression

SHRINK = 2.0  # other listings at which the context counts half (w = n / (n + SHRINK))
_FLOOR = 1e-4  # log P is taken of P + _FLOOR: a 0 from a class the model never trained on stays finite


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


def features(P: np.ndarray, V: np.ndarray, n: np.ndarray) -> np.ndarray:
    w = (n / (n + SHRINK))[:, None]
    logp = np.log(P + _FLOOR)
    return np.hstack([logp, w * V, logp * w * V, w])


@dataclass
class VendorContext:
    """The fitted second stage; columns of P and of the output are `classes` (the listing model's order)."""

    classes: list[str]
    clf: LogisticRegression

    @classmethod
    def fit(cls, P: np.ndarray, labels: Sequence[str], vendors: Sequence[Hashable | None], classes: Sequence[str],
            seed: int = 0) -> VendorContext:
        V, n = leave_one_out_means(P, vendors)
        clf = LogisticRegression(C=1.0, max_iter=3000, random_state=seed)
        clf.fit(features(P, V, n), np.asarray(labels))
        return cls(list(classes), clf)

    def proba(self, P: np.ndarray, V: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Probabilities in `classes` order (a class the second stage never saw gets 0)."""
        if len(P) == 0:
            return np.zeros((0, len(self.classes)))
        q = self.clf.predict_proba(features(P, V, n))
        out = np.zeros((len(P), len(self.classes)))
        for j, label in enumerate(self.clf.classes_):
            out[:, self.classes.index(label)] = q[:, j]
        return out

    def apply(self, P: np.ndarray, vendors: Sequence[Hashable | None]) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities with context, number of the vendor's other listings read) for rows P. A row with no
        other listing of its vendor (or no vendor) keeps P: there is no context to add."""
        V, n = leave_one_out_means(P, vendors)
        out = np.array(P, dtype=np.float64, copy=True)
        some = n > 0
        if some.any():
            out[some] = self.proba(P[some], V[some], n[some])
        return out, n


__all__ = ["VendorContext", "leave_one_out_means", "features", "SHRINK"]
