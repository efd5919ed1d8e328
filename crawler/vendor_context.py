"""After a crawl: the categories of the vendor accounts it saw, re-read with each vendor's other listings.

During the crawl each listing is categorised alone (narcowatch/analysis.py), because its vendor's other
listings arrive in later batches. Once the run's records are stored, every listing of each vendor account the
run touched (all of them, on this market, active or not) is re-read by the category model's vendor-context
stage (classifiers.category_context) from the listing-alone scores kept in `analysis["listing_scores"]`
(rows stored before that key existed kept them as `category_scores`). Only rows whose category, scores or
review flag change are written, in one transaction: a failure leaves the listing-alone categories, which are
valid, and is reported in the run's stats; the next crawl of the site applies it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from storage.models import Listing

log = logging.getLogger(__name__)
ACCOUNTS_PER_QUERY = 500


def _recategoriser() -> Callable[[Sequence[Any], Sequence[dict]], list[dict]] | None:
    try:
        from classifiers.category import recategorise
    except (ImportError, AttributeError):
        return None
    return recategorise


def listing_scores(analysis: dict | None) -> dict | None:
    analysis = analysis or {}
    scores = analysis.get("listing_scores") or analysis.get("category_scores")
    return scores if isinstance(scores, dict) and scores else None


def apply_after_run(engine: Engine, run_id: int) -> dict[str, Any]:
    """Re-read the listings of the vendor accounts run `run_id` stored listings for; returns
    {"accounts", "listings" read, "changed" (rows rewritten: category, scores or review flag), "category_changed"}
    or {"error": ...} (nothing written then)."""
    recategorise = _recategoriser()
    if recategorise is None:
        return {"skipped": "category classifier not installed"}
    try:
        with Session(engine) as s:
            accounts = sorted(s.scalars(select(Listing.vendor_account_id).distinct().where(
                Listing.last_crawl_run_id == run_id, Listing.vendor_account_id.is_not(None))).all())
            read = changed = recategorised = 0
            for start in range(0, len(accounts), ACCOUNTS_PER_QUERY):
                chunk = accounts[start:start + ACCOUNTS_PER_QUERY]
                rows, scores = [], []
                for row in s.execute(select(Listing.id, Listing.vendor_account_id, Listing.analysis,
                                            Listing.category, Listing.category_scores, Listing.needs_review)
                                     .where(Listing.vendor_account_id.in_(chunk)).order_by(Listing.id)):
                    alone = listing_scores(row.analysis)
                    if alone is not None:
                        rows.append(row)
                        scores.append(alone)
                results = recategorise([row.vendor_account_id for row in rows], scores)
                read += len(rows)
                for row, result in zip(rows, results, strict=True):
                    if (row.category, row.category_scores, row.needs_review) == (
                            result["category"], result["category_scores"], result["needs_review"]):
                        continue
                    s.execute(update(Listing).where(Listing.id == row.id).values(
                        category=result["category"], category_scores=result["category_scores"],
                        needs_review=result["needs_review"]))
                    changed += 1
                    recategorised += row.category != result["category"]
            s.commit()
    except Exception as exc:  # the listing-alone categories stay; the crawl's result must not be lost over this
        log.error("vendor context after run %s failed (%s); listing-alone categories kept", run_id, exc)
        return {"error": f"{type(exc).__name__}: {exc}"}
    log.info("vendor context after run %s: %d accounts, %d listings read, %d rewritten, %d of them with another "
             "category", run_id, len(accounts), read, changed, recategorised)
    return {"accounts": len(accounts), "listings": read, "changed": changed, "category_changed": recategorised}


__all__ = ["apply_after_run", "listing_scores"]
