"""Small builders shared by storage tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from storage.models import CrawlRun
from storage.records import ListingRecord
from storage.upsert import get_or_create_site

T0 = datetime(2026, 9, 28, 12, 0, tzinfo=UTC)


def at(day: int) -> datetime:
    return T0 + timedelta(days=day - 1)


def new_run(session, slug: str = "market_a", when: datetime = T0) -> CrawlRun:
    site = get_or_create_site(session, slug, slug.replace("_", " ").title(), "market", f"http://{slug}.test/")
    run = CrawlRun(site_id=site.id, started_at=when)
    session.add(run)
    session.flush()
    return run


def listing(external_id: str = "L1", price: str = "30.00", **kw) -> ListingRecord:
    base = dict(external_id=external_id, url=f"http://market_a.test/listing/{external_id}",
                title="3.5g Colombian cocaine 90% pure", description="Stealth shipping, ships from NL",
                price=Decimal(price), currency="EUR", quantity=3.5, unit="g",
                price_per_unit=(Decimal(price) / Decimal("3.5")).quantize(Decimal("0.01")),
                ships_from="NL", ships_to=["EU", "GB"], stock=10, vendor_handle="DrGreen",
                category="stimulants", substances=["cocaine"])
    base.update(kw)
    return ListingRecord(**base)


def drop_audit_guard(session) -> None:
    """What an attacker with DDL rights does first: drop the triggers that make audit_log append-only
    (migration 0002), so that the hash chain is the remaining check (the tampering tests need this)."""
    from sqlalchemy import text

    if session.get_bind().dialect.name == "postgresql":
        statements = ["DROP TRIGGER audit_log_no_update_delete ON audit_log",
                      "DROP TRIGGER audit_log_no_truncate ON audit_log"]
    else:
        statements = ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"]
    for statement in statements:
        session.execute(text(statement))
    session.commit()
