"""Analysis of listing/post records: the extractors, then the category classifier when it is installed.

The crawl pipeline and `narcowatch analyze` both call `analyze()`, so a listing is read the same way
wherever it comes from.

    analyze(records) -> list of {"id", "category", "category_scores", "category_source", "needs_review",
                                 "substances", "quantities", "prices", "ships_from", "ships_to",
                                 "identifiers", ...}   (extractor keys as in docs/extractors.md)

The category here is read from each listing alone (`listing_scores` = `category_scores`): a vendor's listings
arrive in batches, and a category that changed with how a crawl happened to batch them would not be
repeatable. The vendor context (classifiers.category_context) is applied once all of a vendor's listings are
known: after each crawl (crawler/vendor_context.py) and at the end of `narcowatch analyze`.

`category_source` says where the category came from: "classifier" (classifiers.category.predict_categories)
or "substances" (the classifier is not importable: the category most of the extracted substances belong to,
None when no substance was found; `needs_review` is then True).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from extractors import analyze_records

Predictor = Callable[[Sequence[dict]], list[dict]]


def category_predictor() -> Predictor | None:
    """classifiers.category.predict_categories, or None when that module or function is missing."""
    try:
        from classifiers.category import predict_categories
    except (ImportError, AttributeError):
        return None
    return predict_categories


def category_source() -> str:
    return "classifier" if category_predictor() is not None else "substances"


def warm_up() -> None:
    """Load the extractor pipeline and the category model now (each is loaded once per process and cached),
    so that the first records analysed do not wait for them."""
    from extractors.pipeline import load_pipeline

    load_pipeline()
    try:
        from classifiers.category import load_model
    except (ImportError, AttributeError):
        return
    load_model()


def analyze(records: Iterable[dict], batch_size: int = 256) -> list[dict]:
    """Extract facts from each record (`id`, `title`, optional `description`, `text`) and categorise it."""
    records = list(records)
    results = list(analyze_records(records, batch_size=batch_size))
    predict = category_predictor()
    if predict is not None and results:
        inputs = [{**record, "vendor": None, "substances": result["substances"]}
                  for record, result in zip(records, results, strict=True)]
        try:
            predictions = predict(inputs)
        except Exception as exc:  # a broken model must not lose the extraction; say so loudly
            raise RuntimeError(f"category classifier failed ({exc}); extraction results are unaffected, "
                               "fix or retrain the model (narcowatch train)") from exc
        for result, prediction in zip(results, predictions, strict=True):
            result["category"] = prediction["category"]
            result["category_scores"] = prediction["category_scores"]
            result["needs_review"] = bool(prediction.get("needs_review", False))
            for key in ("model_version", "listing_scores"):
                if key in prediction:
                    result[key] = prediction[key]
            if "trade_relevance" in prediction:  # forum posts (kind "post"): drug-trade relevance
                result["trade_relevance"] = prediction["trade_relevance"]
            result["category_source"] = "classifier"
    else:
        for result in results:
            result["needs_review"] = result["category"] is None
            result["category_source"] = "substances"
    return results


def metadata(source: str, count: int, **extra: Any) -> dict:
    from extractors.lexicon import load_entries

    return {
        "category_source": source,
        "category_note": ("category from the category classifier" if source == "classifier" else
                          "category derived from the substances found (classifier not installed)"),
        "records": count,
        "lexicon_entries": len(load_entries()),
        **extra,
    }
