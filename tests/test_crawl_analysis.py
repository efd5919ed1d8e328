"""The crawl's analysis step (crawler.analysis): a worker process gives the very results in-process analysis
gives, starts forked when the process has no other thread, and a dead worker costs no record its analysis."""

from __future__ import annotations

import os
import signal
import threading
from decimal import Decimal

import pytest

from crawler import analysis
from storage.records import ListingRecord, PostRecord


def _records() -> list:
    return [
        ListingRecord(external_id="L1", url="http://m/l/1", title="3.5g Colombian cocaine 90% pure",
                      description="Ships from NL, stealth vacuum sealed. 3.5 g for 180 EUR.",
                      price=Decimal("180.00"), currency="EUR", ships_from="NL", ships_to=["EU"]),
        ListingRecord(external_id="L2", url="http://m/l/2", title="100x Xanax 2mg bars",
                      description="Pfizer bars, 100 units, domestic only", price=Decimal("120"), currency="USD"),
        ListingRecord(external_id="L3", url="http://m/l/3", title="Netflix account lifetime", description=""),
        PostRecord(external_id="P1", thread_external_id="T1", author="bob", posted_at=None, lang="en",
                   text="selling 10 tabs of LSD, 5$ each, PM me"),
    ]


def _fields(records: list) -> list[tuple]:
    out = []
    for r in records:
        row = (r.substances, r.category, r.analysis)
        if isinstance(r, ListingRecord):
            row += (r.category_scores, r.needs_review, r.quantity, r.unit, r.price_per_unit)
        else:
            row += (r.trade_relevance,)
        out.append(row)
    return out


@pytest.fixture
def worker():
    yield
    analysis.shutdown_worker()
    analysis.use_worker(False)


@pytest.mark.timeout(120)
def test_worker_results_equal_in_process_results(worker):
    here = _records()
    assert analysis.annotate(here) == 4
    assert here[0].substances == ["cocaine"] and here[0].category is not None

    threads = threading.active_count()
    analysis.use_worker(True)
    assert analysis._WORKER["start_method"] == ("fork" if threads == 1 else "spawn")
    there = _records()
    assert analysis.submit(there)() == 4
    assert _fields(there) == _fields(here)
    # the records the page gave are kept as the page gave them
    assert there[0].price == Decimal("180.00") and there[0].ships_from == "NL"


@pytest.mark.timeout(120)
def test_spawned_worker_when_threads_run(worker):
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        analysis.use_worker(True)
        assert analysis._WORKER["start_method"] == "spawn"
        records = _records()
        assert analysis.submit(records)() == 4
        assert records[0].substances == ["cocaine"]
    finally:
        stop.set()


@pytest.mark.timeout(120)
def test_killed_worker_falls_back_to_in_process_analysis(worker):
    analysis.use_worker(True)
    first = _records()
    assert analysis.submit(first)() == 4
    pool = analysis._WORKER["pool"]
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    records = _records()
    assert analysis.submit(records)() == 4  # analysed here instead, nothing lost
    assert _fields(records) == _fields(first)
    assert analysis._WORKER["enabled"] is False
