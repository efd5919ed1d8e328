"""Vendor accounts, their identifiers, listings and listing snapshots (price/stock/shipping history)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base

Money = Numeric(24, 8)


class VendorAccount(Base):
    __tablename__ = "vendor_accounts"
    __table_args__ = (UniqueConstraint("site_id", "handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    handle: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"))
    # what the profile page showed: pgp block, contacts, terms, feedback, ships_from ...
    profile: Mapped[dict | None]

    identifiers: Mapped[list[VendorIdentifier]] = relationship(back_populates="account")


class VendorIdentifier(Base):
    """A strong identifier seen on an account: pgp fingerprint, wallet, contact handle, e-mail."""

    __tablename__ = "vendor_identifiers"
    __table_args__ = (
        UniqueConstraint("account_id", "kind", "value"),
        Index("ix_vendor_identifiers_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("vendor_accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(500))
    first_seen: Mapped[datetime]
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"))

    account: Mapped[VendorAccount] = relationship(back_populates="identifiers")


class Listing(Base):
    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("site_id", "external_id"),
        Index("ix_listings_category_last_seen", "category", "last_seen"),
        # filter, then newest first, stopping after one page (search); id makes them covering on PostgreSQL
        Index("ix_listings_ships_from_last_seen", "ships_from", "last_seen", "id"),
        Index("ix_listings_site_id_last_seen", "site_id", "last_seen", "id"),
        Index("ix_listings_price_per_unit", "price_per_unit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(10))
    price_options: Mapped[list | None]  # tiers as shown: [{"label": "3.5g", "price": "30.00"}, ...]
    quantity: Mapped[float | None]  # normalised: grams, or units (pills, blotters)
    unit: Mapped[str | None] = mapped_column(String(20))  # g | unit | ml
    price_per_unit: Mapped[Decimal | None] = mapped_column(Money)  # in `currency` per gram/unit
    price_usd: Mapped[Decimal | None] = mapped_column(Money)
    ships_from: Mapped[str | None] = mapped_column(String(20))  # ISO 3166 alpha-2 or region (EU, WW)
    ships_to: Mapped[list | None]
    stock: Mapped[int | None]
    category: Mapped[str | None] = mapped_column(String(30))
    category_scores: Mapped[dict | None]
    needs_review: Mapped[bool] = mapped_column(default=False)
    substances: Mapped[list | None]  # canonical ids; also in listing_substances for filtering
    analysis: Mapped[dict | None]  # full extractor output (quantities, prices, identifiers)
    vendor_account_id: Mapped[int | None] = mapped_column(ForeignKey("vendor_accounts.id"), index=True)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime] = mapped_column(index=True)
    active: Mapped[bool] = mapped_column(default=True)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"))
    last_crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))

    snapshots: Mapped[list[ListingSnapshot]] = relationship(
        back_populates="listing", order_by="ListingSnapshot.observed_at"
    )


class ListingSubstance(Base):
    __tablename__ = "listing_substances"
    # covering for the search filter: a substance's listing ids without reading the table
    __table_args__ = (Index("ix_listing_substances_substance_listing_id", "substance", "listing_id"),)

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    substance: Mapped[str] = mapped_column(String(60), primary_key=True)


class ListingSnapshot(Base):
    """A listing's state when first seen and every time price, stock, shipping or availability changed."""

    __tablename__ = "listing_snapshots"
    __table_args__ = (UniqueConstraint("listing_id", "crawl_run_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    observed_at: Mapped[datetime]
    price: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(10))
    price_per_unit: Mapped[Decimal | None] = mapped_column(Money)
    stock: Mapped[int | None]
    ships_from: Mapped[str | None] = mapped_column(String(20))
    ships_to: Mapped[list | None]
    active: Mapped[bool] = mapped_column(default=True)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"))

    listing: Mapped[Listing] = relationship(back_populates="snapshots")
