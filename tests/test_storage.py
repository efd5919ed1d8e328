"""Storage on SQLite and PostgreSQL: migrations, idempotent upserts, snapshots, search."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from storage.db import SchemaNotMigrated, make_engine, require_schema
from storage.models import Listing, ListingSnapshot, ListingSubstance, Post, VendorAccount, VendorIdentifier
from storage.records import PostRecord, ThreadRecord, VendorRecord
from storage.search import ListingFilters, search_listings, search_posts
from storage.upsert import mark_vanished, upsert_listing, upsert_post, upsert_thread, upsert_vendor
from tests.storage_helpers import at, listing, new_run


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_unmigrated_database_is_refused_with_the_fix(db_url):
    engine = make_engine(db_url)
    with pytest.raises(SchemaNotMigrated, match="narcowatch db upgrade"):
        require_schema(engine)
    engine.dispose()


def test_migrated_database_passes_the_check(engine):
    require_schema(engine)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    from storage.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_same_listing_twice_is_one_row_and_one_snapshot(session):
    run1 = new_run(session, when=at(1))
    first = upsert_listing(session, run1.site_id, listing(), at(1), run1.id)
    run2 = new_run(session, when=at(2))
    second = upsert_listing(session, run2.site_id, listing(), at(2), run2.id)
    session.commit()
    assert first.created and not second.created and not second.changed
    assert first.listing_id == second.listing_id
    assert count(session, Listing) == 1
    assert count(session, ListingSnapshot) == 1
    row = session.get(Listing, first.listing_id)
    assert row.first_seen == at(1) and row.last_seen == at(2)
    assert row.price == Decimal("30.00") and row.ships_to == ["EU", "GB"]


def test_price_change_adds_a_snapshot(session):
    run1 = new_run(session, when=at(1))
    upsert_listing(session, run1.site_id, listing(price="30.00"), at(1), run1.id)
    run2 = new_run(session, when=at(2))
    write = upsert_listing(session, run2.site_id, listing(price="27.50"), at(2), run2.id)
    run3 = new_run(session, when=at(3))
    upsert_listing(session, run3.site_id, listing(price="27.50"), at(3), run3.id)
    session.commit()
    assert write.changed
    snaps = session.scalars(select(ListingSnapshot).order_by(ListingSnapshot.observed_at)).all()
    assert [s.price for s in snaps] == [Decimal("30.00"), Decimal("27.50")]
    assert snaps[1].crawl_run_id == run2.id


@pytest.mark.parametrize("change", [{"stock": 0}, {"ships_from": "DE"}, {"ships_to": ["WW"]}, {"currency": "USD"}])
def test_stock_and_shipping_changes_add_a_snapshot(session, change):
    run1 = new_run(session, when=at(1))
    upsert_listing(session, run1.site_id, listing(), at(1), run1.id)
    run2 = new_run(session, when=at(2))
    assert upsert_listing(session, run2.site_id, listing(**change), at(2), run2.id).changed
    session.commit()
    assert count(session, ListingSnapshot) == 2


def test_rewriting_in_the_same_run_keeps_one_snapshot(session):
    """A resumed run that stores a listing again must not duplicate its snapshot."""
    run = new_run(session)
    upsert_listing(session, run.site_id, listing(), at(1), run.id)
    upsert_listing(session, run.site_id, listing(price="31.00"), at(1), run.id)
    session.commit()
    assert count(session, ListingSnapshot) == 1
    assert session.scalars(select(ListingSnapshot)).one().price == Decimal("31.00")


def test_vanished_listings_become_inactive_with_a_snapshot(session):
    run1 = new_run(session, when=at(1))
    upsert_listing(session, run1.site_id, listing("L1"), at(1), run1.id)
    upsert_listing(session, run1.site_id, listing("L2"), at(1), run1.id)
    run2 = new_run(session, when=at(2))
    upsert_listing(session, run2.site_id, listing("L1"), at(2), run2.id)
    assert mark_vanished(session, run2.site_id, run2.id, at(2)) == 1
    session.commit()
    gone = session.scalars(select(Listing).where(Listing.external_id == "L2")).one()
    assert gone.active is False
    assert session.scalars(select(ListingSnapshot).where(ListingSnapshot.listing_id == gone.id)
                           .order_by(ListingSnapshot.id)).all()[-1].active is False
    # it comes back: active again, another snapshot
    run3 = new_run(session, when=at(3))
    assert upsert_listing(session, run3.site_id, listing("L2"), at(3), run3.id).changed
    session.commit()
    assert session.get(Listing, gone.id).active is True


def test_substances_table_follows_the_listing(session):
    run = new_run(session)
    write = upsert_listing(session, run.site_id, listing(substances=["cocaine", "mdma"]), at(1), run.id)
    upsert_listing(session, run.site_id, listing(substances=["mdma", "ketamine"]), at(1), run.id)
    session.commit()
    rows = session.scalars(select(ListingSubstance.substance).where(
        ListingSubstance.listing_id == write.listing_id).order_by(ListingSubstance.substance)).all()
    assert rows == ["ketamine", "mdma"]


def test_vendor_upsert_is_idempotent_and_keeps_identifiers(session):
    run = new_run(session)
    record = VendorRecord("DrGreen", "http://m/v/DrGreen", {"terms": "no refunds"},
                          [("pgp", "3A1F" * 10), ("telegram", "@drgreen")])
    a, created_a = upsert_vendor(session, run.site_id, record, at(1))
    b, created_b = upsert_vendor(session, run.site_id, record, at(2))
    session.commit()
    assert created_a and not created_b and a.id == b.id
    assert count(session, VendorAccount) == 1 and count(session, VendorIdentifier) == 2
    assert session.get(VendorAccount, a.id).last_seen == at(2)


def test_posts_are_idempotent(session):
    run = new_run(session, "forum")
    thread = upsert_thread(session, run.site_id, ThreadRecord("t1", "Best coke in Berlin?", "http://f/t/1", "DE"),
                           at(1))
    record = PostRecord("p1", "t1", "buyer42", "Got 2g from DrGreen, solid stealth", at(1), "en")
    _, created = upsert_post(session, run.site_id, thread.id, record, at(1))
    _, again = upsert_post(session, run.site_id, thread.id, record, at(2))
    session.commit()
    assert created and not again and count(session, Post) == 1


@pytest.fixture
def searchable(session):
    run = new_run(session)
    rows = [
        listing("A", title="Colombian cocaine 3.5g", substances=["cocaine"], ships_from="NL", ships_to=["EU"]),
        listing("B", title="MDMA crystals 5g Dutch", description="cristaux de MDMA", category="ecstasy",
                substances=["mdma"], ships_from="NL", ships_to=["WW"], price="40.00"),
        listing("C", title="Kush weed 28g", category="cannabis", substances=["cannabis"], ships_from="US",
                ships_to=["US"], price="200.00"),
        listing("D", title="Cocaïne pure 1g", substances=["cocaine"], ships_from="FR", ships_to=["FR"],
                price="80.00", quantity=1.0, price_per_unit=Decimal("80.00")),
    ]
    ids = {r.external_id: upsert_listing(session, run.site_id, r, at(1), run.id).listing_id for r in rows}
    thread = upsert_thread(session, run.site_id, ThreadRecord("t", "x", "http://f/t"), at(1))
    upsert_post(session, run.site_id, thread.id, PostRecord("p1", "t", "u", "where to buy ketamine in Lyon",
                                                            at(1)), at(1))
    upsert_post(session, run.site_id, thread.id, PostRecord("p2", "t", "u", "football tonight", at(1)), at(1))
    session.commit()
    return ids


def test_full_text_search_finds_words_prefixes_and_accents(session, searchable):
    assert set(search_listings(session, "cocaine").ids) >= {searchable["A"]}
    assert searchable["D"] in search_listings(session, "cocaine").ids  # diacritics folded on SQLite/simple
    assert search_listings(session, "crista").ids == [searchable["B"]]  # prefix
    assert search_listings(session, "weed kush").ids == [searchable["C"]]
    assert search_listings(session, "heroin").ids == []
    assert search_posts(session, "ketamine").total == 1


@pytest.mark.parametrize("query", ['"', "AND OR NOT", "*", "cocaine)(", "'; DROP TABLE listings; --",
                                   "<script>alert(1)</script>", "NEAR(a b)", "\x00", "ü" * 500])
def test_hostile_queries_neither_crash_nor_inject(session, searchable, query):
    search_listings(session, query)
    search_posts(session, query)
    assert count(session, Listing) == 4


def test_filters(session, searchable):
    def ids(**kw):
        return set(search_listings(session, filters=ListingFilters(**kw)).ids)

    assert ids(categories=["ecstasy"]) == {searchable["B"]}
    assert ids(substances=["cocaine"]) == {searchable["A"], searchable["D"]}
    assert ids(origins=["nl"]) == {searchable["A"], searchable["B"]}
    assert ids(destination="WW") == {searchable["B"]}
    assert ids(min_price_per_unit=Decimal("60")) == {searchable["D"]}
    page = search_listings(session, "cocaine", ListingFilters(origins=["FR"]))
    assert page.ids == [searchable["D"]] and page.total == 1


def test_batch_upsert_mixes_new_changed_and_repeated(session):
    from storage.upsert import ListingInput, upsert_listings

    run1 = new_run(session, when=at(1))
    upsert_listings(session, run1.site_id, [ListingInput(listing("A")), ListingInput(listing("B"))], at(1), run1.id)
    run2 = new_run(session, when=at(2))
    writes = upsert_listings(session, run2.site_id, [
        ListingInput(listing("A")),                 # unchanged
        ListingInput(listing("B", price="10.00")),  # changed
        ListingInput(listing("C")),                 # new
        ListingInput(listing("C", price="12.00")),  # same key again in the batch: last one wins
    ], at(2), run2.id)
    session.commit()
    assert [(w.created, w.changed) for w in writes] == [(False, False), (False, True), (True, False), (True, False)]
    assert writes[2].listing_id == writes[3].listing_id
    assert count(session, Listing) == 3
    c = session.scalars(select(Listing).where(Listing.external_id == "C")).one()
    assert c.price == Decimal("12.00")
    assert count(session, ListingSnapshot) == 4  # A, B first seen; B changed; C first seen


def test_models_and_migrations_agree(engine):
    """A model change without a migration (or the reverse) fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from storage.migrations_filter import include_object
    from storage.models import Base

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
