"""Plain records that cross from the crawler (and importers) into storage. Scrapy items are these
dataclasses; storage never sees HTML or Scrapy objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass
class ListingRecord:
    external_id: str
    url: str
    title: str
    description: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    price_options: list | None = None
    quantity: float | None = None
    unit: str | None = None
    price_per_unit: Decimal | None = None
    ships_from: str | None = None
    ships_to: list[str] | None = None
    stock: int | None = None
    vendor_handle: str | None = None
    category: str | None = None
    category_scores: dict | None = None
    needs_review: bool = False
    substances: list[str] = field(default_factory=list)
    analysis: dict | None = None


@dataclass
class VendorRecord:
    handle: str
    url: str | None = None
    profile: dict | None = None
    # (kind, value): pgp fingerprint, btc/xmr/eth wallet, telegram/wickr/session/... contact, email
    identifiers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ThreadRecord:
    external_id: str
    title: str
    url: str
    board: str | None = None


@dataclass
class PostRecord:
    external_id: str
    thread_external_id: str
    author: str
    text: str
    posted_at: datetime | None = None
    lang: str | None = None
    quotes: list | None = None
    signature: str | None = None
    # where the post stands, read by the trade-relevance score (the thread row stores them)
    thread_title: str | None = None
    board: str | None = None
    trade_relevance: float | None = None
    category: str | None = None
    substances: list[str] = field(default_factory=list)
    analysis: dict | None = None
