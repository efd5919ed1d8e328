"""Records pass through the analysis pipeline (extractors, classifiers) before they are stored, when it
exists: `narcowatch.analysis.analyze(records) -> list[dict]`, one result per input, in order.

Fields the page shows (price, currency, ships_from/to, stock, title, description) stay as the page shows
them; analysis adds substances, category (+ scores, needs_review), the full output, and quantity/unit/
price_per_unit only where the page did not give them.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from storage.records import ListingRecord, PostRecord

logger = logging.getLogger(__name__)


@cache
def analyzer():
    """The analysis function, or None when narcowatch.analysis is not there (yet)."""
    try:
        from narcowatch.analysis import analyze
    except Exception as exc:  # missing, or broken mid-edit: records are still stored, without analysis
        logger.warning("analysis pipeline not available (%s): records are stored without it", exc)
        return None
    return analyze


def _input(record: Any) -> dict[str, Any]:
    if isinstance(record, ListingRecord):
        return {"kind": "listing", "title": record.title, "description": record.description or "",
                "price": str(record.price) if record.price is not None else None, "currency": record.currency,
                "price_options": record.price_options, "quantity": record.quantity, "unit": record.unit,
                "ships_from": record.ships_from, "ships_to": record.ships_to, "vendor": record.vendor_handle}
    return {"kind": "post", "text": record.text, "author": record.author, "lang": record.lang,
            "thread_title": record.thread_title, "board": record.board}


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


# Analysis (spaCy + the category model) is CPU-bound Python: in the crawl process it would hold the GIL
# against the reactor. With a worker process it runs on the other core while the crawl goes on; the writer
# thread just waits for the answer. `use_worker(True)` is set by the crawl (NARCOWATCH_ANALYSIS_WORKER).
_WORKER: dict[str, Any] = {"enabled": False, "pool": None, "start_method": None}


def use_worker(enabled: bool) -> None:
    """Analyse in a worker process (or not). Enabling starts the worker at once, and it loads the extractor
    pipeline and the category model while the crawl fetches its first pages: the first batch does not wait
    for them. The crawl calls this as the run opens, before it has any thread or connection, so the worker
    can be forked (see `_pool`). Either way the objects that exist by then are frozen out of the garbage
    collector (see below)."""
    _WORKER["enabled"] = enabled
    # What exists now (modules, spaCy's vocabulary, the classifier's code: some 270,000 objects) lives as
    # long as the process: moved out of the garbage collector's sight, it is not traversed again by every
    # full collection during the crawl (about 1.5 s of the reactor's CPU in a 1,200-page crawl), and a
    # forked worker does not copy the pages the collector would otherwise write to.
    gc.collect()
    gc.freeze()
    if enabled:
        try:
            _pool().submit(_warm_up)
        except Exception as exc:  # no worker: batches are analysed in this process (see _analyze)
            logger.warning("analysis worker could not start (%s)", exc)


def _warm_up() -> None:
    if analyzer() is not None:
        from narcowatch.analysis import warm_up

        warm_up()


def _run_in_worker(inputs: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """In the worker: the results, already converted to JSON values (`_jsonable`), which is pure-Python work
    the crawl process's writer would otherwise do under the GIL it shares with the reactor."""
    analyze = analyzer()
    return None if analyze is None else [_jsonable(result) for result in analyze(inputs)]


def _worker_init(parent: int) -> None:
    """In the worker: exit as soon as the crawl process is gone (killed with SIGKILL, say), as an orphaned
    worker would otherwise wait for work forever; leave Ctrl-C to the crawl process, which stops gracefully
    and still needs its worker for the batches in flight; forget signal handling inherited from the crawl
    process's event loop (a forked worker)."""
    import signal
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _pool():
    if _WORKER["pool"] is None:
        import multiprocessing
        import threading
        from concurrent.futures import ProcessPoolExecutor

        # Fork while this process has no other thread (a crawl run opening: no writer thread, connection or
        # browser yet): the worker then has the analysis code this module imported (see _preload) instead of
        # importing spaCy and scikit-learn again, about 2 s of CPU. With threads, spawn: a fork could copy a
        # lock some thread holds mid-operation. (The fork happens before the first request: the reactor has
        # no socket a forked copy could keep open.)
        method = "fork" if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods() \
            else "spawn"
        _WORKER["start_method"] = method
        _WORKER["pool"] = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(method),
                                              initializer=_worker_init, initargs=(os.getpid(),))
    return _WORKER["pool"]


def shutdown_worker() -> None:
    pool, _WORKER["pool"] = _WORKER["pool"], None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def _analyze(inputs: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    if _WORKER["enabled"]:
        try:
            return _pool().submit(_run_in_worker, inputs).result()
        except Exception as exc:  # a dead worker (killed, out of memory): analyse here instead
            logger.warning("analysis worker failed (%s); analysing in the crawl process", exc)
            shutdown_worker()
            _WORKER["enabled"] = False
    analyze = analyzer()
    return None if analyze is None else analyze(inputs)


def submit(records: list[Any]) -> Callable[[], int]:
    """Starts analysing `records` now (in the worker process when enabled) and returns the function that
    waits for the results and adds them to the records: the writer analyses batch N+1 while it stores N."""
    targets = [r for r in records if isinstance(r, ListingRecord | PostRecord)]
    if not targets:
        return lambda: 0
    inputs = [{"id": str(i), **_input(r)} for i, r in enumerate(targets)]
    if _WORKER["enabled"]:
        try:
            future = _pool().submit(_run_in_worker, inputs)
        except Exception as exc:  # pool broken: analyse in this process when the batch is written
            logger.warning("analysis worker unavailable (%s)", exc)
        else:
            def wait() -> int:
                try:
                    results = future.result()
                except Exception as exc:
                    logger.warning("analysis worker failed (%s); analysing in the crawl process", exc)
                    shutdown_worker()
                    _WORKER["enabled"] = False
                    return annotate(targets)
                return _apply(targets, results, converted=True)
            return wait
    return lambda: annotate(targets)


def annotate(records: list[Any]) -> int:
    """Adds analysis to listing and post records in place; returns how many were analysed."""
    targets = [r for r in records if isinstance(r, ListingRecord | PostRecord)]
    if not targets:
        return 0
    try:
        results = _analyze([{"id": str(i), **_input(r)} for i, r in enumerate(targets)])
    except Exception as exc:  # analysis must never cost us the crawl: store the records, say so
        logger.error("analysis failed on a batch of %d records (%s); stored without analysis", len(targets), exc)
        return 0
    return _apply(targets, results)


def _apply(targets: list[Any], results: list[dict[str, Any]] | None, converted: bool = False) -> int:
    """Adds `results` to `targets`; `converted`: the results are JSON values already (from the worker)."""
    if results is None:
        return 0
    for record, result in zip(targets, results, strict=True):
        result = result or {}
        if not converted:
            result = _jsonable(result)
        record.substances = sorted({_substance_id(s) for s in result.get("substances") or []} - {None})
        record.category = result.get("category")
        record.analysis = result
        if isinstance(record, ListingRecord):
            scores = result.get("category_scores")
            record.category_scores = dict(scores) if isinstance(scores, dict) else scores
            record.needs_review = bool(result.get("needs_review", False))
            quantity = result.get("quantity")
            if record.quantity is None and isinstance(quantity, dict):
                for key, unit in (("grams", "g"), ("units", "unit"), ("ml", "ml")):
                    if quantity.get(key) is not None:
                        record.quantity, record.unit = float(quantity[key]), record.unit or unit
                        break
            ppu = result.get("price_per_unit")
            if record.price_per_unit is None and isinstance(ppu, dict) and (
                    record.currency is None or ppu.get("currency") == record.currency):
                record.price_per_unit = _decimal(ppu.get("amount"))
        elif result.get("trade_relevance") is not None:
            record.trade_relevance = float(result["trade_relevance"])
    return len(targets)


def _substance_id(item: Any) -> str | None:
    if isinstance(item, dict):
        return item.get("canonical") or item.get("id")
    return str(item) if item else None


def _preload() -> None:
    """Import the analysis code (extractors, category classifier) with the crawler, before a crawl starts:
    a worker forked from this process then shares it (imported once per crawl, not once per process)."""
    if analyzer() is None:
        return
    try:
        from narcowatch.analysis import category_predictor

        category_predictor()
    except Exception as exc:  # analysis itself reports a broken classifier when it runs
        logger.debug("category classifier not preloaded (%s)", exc)


_preload()
