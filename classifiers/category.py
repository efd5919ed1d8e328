"""Public API of the listing category classifier (contract in docs/classifier.md).

    predict_categories(records) -> [{"category", "category_scores", "needs_review", "model_version",
                                     "listing_scores", "vendor_listings_read"}]
    recategorise(vendors, listing_scores) -> the same, for stored listing-alone scores of vendors' listings
    score_post(text, substances) -> {"trade_relevance", "category", "category_scores", "needs_review", ...}

The shipped model (classifiers/models/category.joblib) is loaded once and cached; it needs no network.
Low-confidence items are flagged `needs_review` instead of being silently guessed: the top calibrated
probability is below the model's review threshold, or the text has no content to read.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.category_model import MODEL_DIR, CategoryModel, with_substances
from classifiers.category_taxonomy import LABELS
from classifiers.post_relevance import post_context, trade_relevance

__all__ = ["LABELS", "predict_categories", "recategorise", "score_post", "trade_relevance", "load_model",
           "set_model"]

_lock = threading.Lock()
_model: CategoryModel | None = None


def load_model(directory: Path | None = None) -> CategoryModel:
    """The cached shipped model (or the one in `directory`, which then replaces the cache)."""
    global _model
    with _lock:
        if directory is not None:
            _model = CategoryModel.load(directory)
        elif _model is None:
            _model = CategoryModel.load(MODEL_DIR)
        return _model


def set_model(model: CategoryModel | None) -> None:
    """Use `model` for predictions (tests, or a freshly trained model); None resets to the shipped one."""
    global _model
    with _lock:
        _model = model


def _has_text(record: Mapping[str, Any]) -> bool:
    return any(str(record.get(k) or "").strip() for k in ("title", "description", "text"))


def predict_categories(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Category, calibrated scores for all 12 labels, review flag and model version per record.

    Each record has `title`, optional `description`/`text`, `substances` (the extractors' output, may be
    empty) and optional `vendor`. Records of one call that share a `vendor` are read together: each one's
    category also weighs the vendor's other listings in the call (classifiers.category_context);
    `listing_scores` are the listing-alone scores, `vendor_listings_read` how many other listings counted.
    Records without any text get `not_drug` with `needs_review` set. Records with `kind: "post"` (forum
    posts) also get `trade_relevance` (see score_post) and are never given a vendor context.
    """
    model = load_model()
    records = list(records)
    if not records:
        return []
    # rounded as stored, so that a vendor context applied later from stored scores gives the same answer
    alone = np.round(model.predict_proba(with_substances(records)), 6)
    vendors = [_vendor_key(r) for r in records]
    out = _decide(model, alone, vendors, [_has_text(r) for r in records])
    add_post_relevance(records, out)
    return out


def recategorise(vendors: Sequence[Any],
                 listing_scores: Sequence[Mapping[str, float]] | np.ndarray) -> list[dict[str, Any]]:
    """Category, scores and review flag of listings from their stored listing-alone scores (the
    `listing_scores` of predict_categories, as dicts or as rows in LABELS order) and their vendors (None:
    unknown); all listings of a vendor that should count must be in the call. Used after a crawl and at the
    end of `narcowatch analyze`, when a vendor's listings are all known."""
    model = load_model()
    if len(listing_scores) == 0:
        return []
    if isinstance(listing_scores, np.ndarray):
        alone = listing_scores.astype(np.float64)
    else:
        alone = np.array([[float(scores.get(label) or 0.0) for label in LABELS] for scores in listing_scores])
    return _decide(model, alone, list(vendors), [True] * len(alone))


def _vendor_key(record: Mapping[str, Any]) -> str | None:
    if record.get("kind") == "post":
        return None
    vendor = str(record.get("vendor") or "").strip().lower()
    return vendor or None


def _decide(model: CategoryModel, alone: np.ndarray, vendors: list[Any], has_text: list[bool]) -> list[dict[str, Any]]:
    probs, read = model.with_vendor_context(alone, vendors)
    threshold = model.review_threshold
    out = []
    for row, own, n, text in zip(probs, alone, read, has_text, strict=True):
        scores = _scores(row)
        best = max(scores, key=scores.__getitem__)
        out.append({"category": best, "category_scores": scores,
                    "needs_review": bool(scores[best] < threshold or not text), "model_version": model.version,
                    "listing_scores": _scores(own), "vendor_listings_read": int(n)})
    return out


def _scores(row: np.ndarray) -> dict[str, float]:
    return {label: round(float(p), 6) for label, p in zip(LABELS, row, strict=True)}


# --- forum posts: trade relevance (classifiers/post_relevance.py) plus the listing model's category ----------


def score_post(text: str, substances: Sequence[Mapping[str, Any]] | None = None,
               context: str = "") -> dict[str, Any]:
    """Drug-trade relevance in [0, 1] and a category for a forum post.

    `substances` is the extractors' output for the post (may be empty; None computes it when the
    extractors are installed); `context` the thread's title and the board's name (may be empty). The
    category comes from the listing model read on the post text.
    """
    text = text or ""
    subs = list(substances) if substances is not None else None
    record: dict[str, Any] = {"title": text[:300], "text": text[300:3000], "substances": subs}
    if subs is None:
        subs = with_substances([record])[0]["substances"]
        record["substances"] = subs
    relevance, named = trade_relevance(text, subs, context)
    result = predict_categories([record])[0]
    if not named and result["category"] != "not_drug":
        result["needs_review"] = True  # no drug named: a category guessed from style alone
    return {"trade_relevance": round(relevance, 6), **result}


def add_post_relevance(records: Sequence[Mapping[str, Any]], predictions: list[dict[str, Any]]) -> None:
    """For records of kind "post", add `trade_relevance` to their predictions (in place), as score_post does."""
    for record, prediction in zip(records, predictions, strict=True):
        if record.get("kind") != "post":
            continue
        text = " ".join(str(record.get(k) or "") for k in ("title", "description", "text")).strip()
        relevance, named = trade_relevance(text, record.get("substances"), post_context(record))
        prediction["trade_relevance"] = round(relevance, 6)
        if not named and prediction["category"] != "not_drug":
            prediction["needs_review"] = True
