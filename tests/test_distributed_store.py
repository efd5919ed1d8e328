"""Concurrent writers on one database, as several crawl workers are: idempotent upserts, no duplicate, no
lost row, whatever the interleaving (SQLite and, with NARCOWATCH_TEST_DATABASE_URL, PostgreSQL)."""

from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from storage_helpers import T0, listing, new_run

from crawler.distributed_store import retryable, with_retries
from storage.models import Listing, ListingSnapshot, VendorAccount
from storage.records import VendorRecord
from storage.upsert import ListingInput, lock_vendors, upsert_listings, upsert_vendor


@pytest.mark.timeout(120)
def test_concurrent_overlapping_batches_store_each_row_once(engine):
    with Session(engine, expire_on_commit=False) as s:
        run = new_run(s)
        s.commit()
    handles = [f"vendor{i}" for i in range(12)]
    ids = [f"L{i:03d}" for i in range(60)]
    errors: list[BaseException] = []
    retried = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(2):  # several batches per writer, each over every key, in its own order
            order_v, order_l = rng.sample(handles, len(handles)), rng.sample(ids, len(ids))

            def batch(order_v: list[str] = order_v, order_l: list[str] = order_l) -> None:
                with Session(engine, expire_on_commit=False) as s:
                    lock_vendors(s, run.site_id, order_v, T0)  # as a worker's batch does (RunStore._write_batch)
                    vendor_ids = {h: upsert_vendor(s, run.site_id, VendorRecord(handle=h), T0)[0].id for h in order_v}
                    upsert_listings(s, run.site_id, [ListingInput(listing(i, vendor_handle=handles[k % 12]),
                                                                  None, vendor_ids[handles[k % 12]])
                                                     for k, i in enumerate(order_l)], T0, run.id)
                    s.commit()

            try:
                with_retries(batch, lambda: retried.append(seed))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(100)
    assert errors == []
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Listing)) == len(ids)
        assert s.scalar(select(func.count()).select_from(VendorAccount)) == len(handles)
        # one snapshot per listing per run, however many writers saw it
        assert s.scalar(select(func.count()).select_from(ListingSnapshot)) == len(ids)


def test_retryable_knows_races_from_real_errors(engine):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError) as caught, Session(engine) as s:
        s.execute(text("SELECT * FROM no_such_table"))
    assert not retryable(caught.value)
    assert not retryable(ValueError("x"))
    calls = []

    def fails_once() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise DBAPIError("stmt", {}, type("E", (Exception,), {"sqlstate": "40P01"})("deadlock detected"))
        return "ok"

    assert with_retries(fails_once) == "ok" and len(calls) == 2


@pytest.mark.timeout(60)
def test_vendor_page_written_while_a_listing_inserts_the_bare_account(engine):
    """Worker A stores a vendor's page while worker B, from a listing, inserts the bare account: A's INSERT
    waits for B's, finds the row, and must still write the profile (not take B's row for its own)."""
    import time

    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        pytest.skip("the race needs concurrent writers; SQLite serialises them")
    with Session(engine, expire_on_commit=False) as s:
        run = new_run(s)
        s.commit()
    bare = Session(engine)
    upsert_vendor(bare, run.site_id, VendorRecord(handle="DrGreen"), T0)  # inserted, not committed yet
    failures: list[BaseException] = []

    def vendor_page() -> None:
        try:
            with Session(engine) as s:
                upsert_vendor(s, run.site_id, VendorRecord(handle="DrGreen", url="http://m.test/v/DrGreen",
                                                           profile={"terms": "Escrow only"}), T0)
                s.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    writer = threading.Thread(target=vendor_page)
    writer.start()
    with Session(engine) as watch:  # the page writer is blocked on the bare row's insert
        deadline = time.monotonic() + 20
        while not watch.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")):
            assert time.monotonic() < deadline and writer.is_alive(), "the writer never waited for the insert"
            time.sleep(0.05)
            watch.rollback()
    bare.commit()
    bare.close()
    writer.join(30)
    assert failures == []
    with Session(engine) as s:
        account = s.scalars(select(VendorAccount)).one()
        assert account.profile == {"terms": "Escrow only"} and account.url == "http://m.test/v/DrGreen"
