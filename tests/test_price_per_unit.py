"""Price per gram / ml / unit: computed from the price and quantity a listing page shows and stored for every
listing that has both. Checked on a crawl of testbed market A against the answer key's price and quantity
(the figure is not in the key: it is computed here from the key's fields, with the testbed's own units)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_crawl_support import PROFILE, SITES, engine_for, run_cli, site_id

from crawler import normalise as nz

# the testbed's units (docs/testbed.md): mass per gram, volume per ml, everything else is counted
KEY_UNITS = {"g": Decimal(1), "kg": Decimal(1000), "ml": Decimal(1), "L": Decimal(1000)}


def expected_ppu(row: dict, number=Decimal) -> Decimal:
    amount = number(row["quantity"]) * KEY_UNITS.get(row["unit"], Decimal(1))
    return (Decimal(row["price_value"]) / amount).quantize(Decimal("0.00000001"), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize(("price", "quantity", "unit", "want"), [
    ("45.00", 3.5, "g", "12.85714286"),
    ("900", 1, "kg", "0.9"),
    ("0.000762", 3.5, "g", "0.00021771"),
    ("120", 10, "pills", "12"),
    ("30", 250, "ml", "0.12"),
    ("80", 1, "L", "0.08"),
    ("15", 2, "Seeds", "7.5"),
])
def test_price_per_unit_of_shown_fields(price, quantity, unit, want):
    assert nz.price_per_unit(Decimal(price), quantity, unit) == Decimal(want)


@pytest.mark.parametrize(("price", "quantity", "unit"), [
    (None, 3.5, "g"), ("10", None, "g"), ("10", 0, "g"), ("10", -1, "g"), ("10", 2, None),
    ("10", 2, "crates"), ("10", float("nan"), "g"), ("10", float("inf"), "g"),
])
def test_no_price_per_unit_without_price_quantity_or_known_unit(price, quantity, unit):
    assert nz.price_per_unit(Decimal(price) if price else None, quantity, unit) is None


def test_listing_page_object_fills_price_per_unit():
    from crawler.pages import parse_page
    from crawler.profile import load_profile

    profile = load_profile(SITES / "testbed_market_a.yaml")
    html = """<html><body><article class="listing" data-id="x1"><h1 class="listing-title">Amnesia Haze 3.5g</h1>
    <table><tr><td class="price" data-currency="EUR">€39.90</td></tr>
    <tr><td class="quantity"><span class="qty">3.5</span> <span class="unit">g</span></td></tr></table>
    </article></body></html>"""
    records = parse_page(profile, "listing", "http://127.0.0.1/listing/x1", html).records
    listing = next(r for r in records if hasattr(r, "price_per_unit"))
    assert listing.price == Decimal("39.90") and listing.quantity == 3.5
    assert listing.price_per_unit == Decimal("11.4")


@pytest.mark.slow  # a whole market A crawl: ~60 s
@pytest.mark.timeout(900)
def test_market_a_crawl_stores_price_per_unit_for_every_listing(tmp_path):
    """Every market A listing of day 1 has a price and a quantity in the key: every stored row must carry
    price / quantity (in g, ml or units), and a listing snapshot the same figure."""
    from storage.models import Listing, ListingSnapshot
    from testbed.answerkey import answer_key
    from testbed.server import Testbed

    key = answer_key(day=1)
    rows = {r["external_id"]: r for r in key["listings"] if r["site"] == "market_a"}
    assert rows and all(r["price_value"] and r["quantity"] for r in rows.values())
    home = tmp_path / "home"
    run_cli(home, "db", "upgrade")
    with Testbed(day=1) as tb:
        run_cli(home, "crawl", PROFILE["market_a"], "--base-url", tb.url("market_a") + "/")
    engine = engine_for(home)
    try:
        with Session(engine) as s:
            sid = site_id(s, "testbed_market_a")
            stored = {li.external_id: li for li in s.scalars(select(Listing).where(Listing.site_id == sid))}
            snapshots = dict(s.execute(select(ListingSnapshot.listing_id, ListingSnapshot.price_per_unit)).all())
    finally:
        engine.dispose()
    assert set(stored) == set(rows)
    problems = []
    for ext, row in sorted(rows.items()):
        li, want = stored[ext], expected_ppu(row)
        if li.price_per_unit is None or li.price_per_unit != want:
            problems.append(f"{ext} ({row['price']} for {row['quantity']} {row['unit']}): stored "
                            f"{li.price_per_unit}, expected {want}")
        elif snapshots.get(li.id) != want:
            problems.append(f"{ext}: snapshot has {snapshots.get(li.id)}, expected {want}")
    assert problems == [], f"{len(problems)} of {len(rows)} listings:\n" + "\n".join(problems[:20])
