"""Storage write path: narcowatch's idempotent listing upsert (with snapshot and substance bookkeeping)
against a bare executemany INSERT of the same rows, both in one transaction on SQLite."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bench.timing import median_seconds
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import CrawlRun, Listing
from storage.records import ListingRecord
from storage.upsert import ListingInput, get_or_create_site, upsert_listings

N = 2000
NOW = datetime(2026, 10, 5, tzinfo=UTC)


def _records() -> list[ListingRecord]:
    return [ListingRecord(external_id=f"L{i}", url=f"http://m/l/{i}", title=f"{i % 28 + 1}g cocaine lot {i}",
                          price=Decimal(f"{20 + i % 50}.50"), currency="EUR", ships_from="NL", ships_to=["EU"],
                          stock=i % 9, substances=["cocaine"], category="stimulants") for i in range(N)]


def run() -> list[dict]:
    records = _records()
    with tempfile.TemporaryDirectory() as tmp:
        state = {"n": 0}

        def fresh():
            state["n"] += 1
            engine = make_engine(f"sqlite:///{Path(tmp)}/b{state['n']}.db")
            upgrade(engine)
            state["engine"] = engine
            with Session(engine) as s:
                site = get_or_create_site(s, "m", "M", "market", "http://m/")
                s.add(CrawlRun(site_id=site.id))
                s.commit()
                state["site"], state["run"] = site.id, 1

        def ours():
            with Session(state["engine"]) as s:
                for i in range(0, N, 200):  # the crawler's batch size
                    upsert_listings(s, state["site"], [ListingInput(r) for r in records[i:i + 200]], NOW,
                                    state["run"])
                s.commit()

        def bare():
            with Session(state["engine"]) as s:
                s.execute(insert(Listing), [{"site_id": state["site"], "external_id": r.external_id, "url": r.url,
                                             "title": r.title, "price": r.price, "currency": r.currency,
                                             "first_seen": NOW, "last_seen": NOW} for r in records])
                s.commit()

        t_ours = median_seconds(ours, repeat=3, setup=fresh)
        t_bare = median_seconds(bare, repeat=3, setup=fresh)
    return [{"name": "storage upsert (SQLite)", "metric": "listings/s", "value": N / t_ours,
             "baseline_name": "bare executemany INSERT", "baseline": N / t_bare, "ratio": t_bare / t_ours,
             "note": f"{N} new listings, batches of 200, one transaction, with snapshot + substance rows"}]


if __name__ == "__main__":
    for row in run():
        print(row)
