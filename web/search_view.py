"""Search: parameters (shared by the page, its JSON twin and the CSV export) and result rows."""

from __future__ import annotations

import csv
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import HTTPException, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Listing, Post, Site, Thread, VendorAccount
from storage.search import ListingFilters, search_listings, search_posts

PAGE_SIZE = 50
# counting stops here ("1,000+ listings"): an exact count of a common word with filters costs a row lookup
# per match, and nobody pages through more than this; narrowing the search is the way on
COUNT_LIMIT = 1000
CATEGORIES = ("cannabis", "stimulants", "ecstasy", "psychedelics", "opioids", "benzodiazepines", "prescription",
              "dissociatives", "doping", "nps", "precursors", "not_drug")
CANONICAL_CSV = Path(__file__).resolve().parents[1] / "extractors" / "data" / "canonical.csv"
COUNTRY = re.compile(r"^[A-Za-z]{2,3}$")


@lru_cache(maxsize=1)
def substance_ids() -> tuple[str, ...]:
    """Canonical substance ids for the filter list (free text still works when the file is absent)."""
    try:
        with CANONICAL_CSV.open(encoding="utf-8", newline="") as fh:
            return tuple(sorted(row["id"] for row in csv.DictReader(fh) if row.get("id")))
    except (OSError, KeyError):
        return ()


@dataclass
class SearchParams:
    q: str = ""
    kind: str = "listings"
    site: list[str] = field(default_factory=list)
    category: list[str] = field(default_factory=list)
    substance: list[str] = field(default_factory=list)
    origin: list[str] = field(default_factory=list)
    destination: str | None = None
    seen_from: date | None = None
    seen_to: date | None = None
    min_ppu: Decimal | None = None
    max_ppu: Decimal | None = None
    active: bool = False
    sort: str = "newest"
    page: int = 1

    def filters(self) -> ListingFilters:
        return ListingFilters(
            sites=self.site, categories=self.category, substances=self.substance, origins=self.origin,
            destination=self.destination,
            seen_from=datetime.combine(self.seen_from, time.min, UTC) if self.seen_from else None,
            seen_to=datetime.combine(self.seen_to, time.max, UTC) if self.seen_to else None,
            min_price_per_unit=self.min_ppu, max_price_per_unit=self.max_ppu, active_only=self.active)

    def audit_detail(self) -> dict:
        detail = {k: v for k, v in asdict(self).items() if v not in (None, [], "", False)}
        return {k: str(v) if isinstance(v, (date, Decimal)) else v for k, v in detail.items()}


def _clean(values: list[str]) -> list[str]:
    # a repeated parameter or one comma-separated field ("cocaine, mdma") both work
    return [part.strip() for v in values for part in (v or "").split(",") if part.strip()]


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"filter `{name}`: {value!r} is not a date; use YYYY-MM-DD") from None


def _money(value: str | None, name: str) -> Decimal | None:
    if not value:
        return None
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        raise HTTPException(422, f"filter `{name}`: {value!r} is not a number; use e.g. 12.50") from None
    if not amount.is_finite() or amount < 0:
        raise HTTPException(422, f"filter `{name}`: {value!r} must be a positive number")
    return amount


def _country(value: str, name: str) -> str:
    if not COUNTRY.match(value):
        raise HTTPException(422, f"filter `{name}`: {value!r} is not a country code; use ISO codes such as NL, "
                                 "DE, GB or regions EU, WW")
    return value.upper()


def search_params(
    q: Annotated[str, Query(max_length=500, description="Words; each matches as a prefix, accents ignored.")] = "",
    kind: Annotated[str, Query(pattern="^(listings|posts)$", description="listings or forum posts")] = "listings",
    site: Annotated[list[str] | None, Query(description="Site slug (repeatable)")] = None,
    category: Annotated[list[str] | None, Query(description="Category label (repeatable)")] = None,
    substance: Annotated[list[str] | None, Query(description="Canonical substance id, e.g. cocaine (repeatable)")] = None,
    origin: Annotated[list[str] | None, Query(description="Ships from: ISO country code or region (repeatable)")] = None,
    destination: Annotated[str | None, Query(description="Ships to: ISO country code or region")] = None,
    seen_from: Annotated[str | None, Query(alias="from", description="Seen on or after, YYYY-MM-DD")] = None,
    seen_to: Annotated[str | None, Query(alias="to", description="Seen on or before, YYYY-MM-DD")] = None,
    min_ppu: Annotated[str | None, Query(description="Minimum price per gram/unit, in the listing's currency")] = None,
    max_ppu: Annotated[str | None, Query(description="Maximum price per gram/unit, in the listing's currency")] = None,
    active: Annotated[bool, Query(description="Only listings still online")] = False,
    sort: Annotated[str, Query(pattern="^(newest|relevance)$",
                               description="newest (first seen, fastest) or relevance (best match first)")] = "newest",
    page: Annotated[int, Query(ge=1, le=2000, description="Result page (50 per page)")] = 1,
) -> SearchParams:
    site, category, substance, origin = site or [], category or [], substance or [], origin or []
    unknown = [c for c in _clean(category) if c not in CATEGORIES]
    if unknown:
        raise HTTPException(422, f"filter `category`: unknown {', '.join(unknown)}; use one of "
                                 f"{', '.join(CATEGORIES)}")
    return SearchParams(
        q=q.strip(), kind=kind, site=_clean(site), category=_clean(category),
        substance=[s.lower() for s in _clean(substance)], origin=[_country(o, "origin") for o in _clean(origin)],
        destination=_country(destination.strip(), "destination") if destination and destination.strip() else None,
        seen_from=_date(seen_from, "from"), seen_to=_date(seen_to, "to"), min_ppu=_money(min_ppu, "min_ppu"),
        max_ppu=_money(max_ppu, "max_ppu"), active=active, sort=sort, page=page)


def listing_rows(session: Session, ids: list[int]) -> list[dict]:
    if not ids:
        return []
    rows = session.execute(
        select(Listing, Site.slug, VendorAccount.handle).join(Site, Site.id == Listing.site_id)
        .outerjoin(VendorAccount, VendorAccount.id == Listing.vendor_account_id).where(Listing.id.in_(ids))).all()
    by_id = {listing.id: (listing, slug, handle) for listing, slug, handle in rows}
    out = []
    for i in ids:
        if i not in by_id:
            continue
        li, slug, handle = by_id[i]
        out.append({
            "id": li.id, "site": slug, "title": li.title, "url": li.url, "vendor_account_id": li.vendor_account_id,
            "vendor": handle, "category": li.category, "substances": li.substances or [], "price": li.price,
            "currency": li.currency, "quantity": li.quantity, "unit": li.unit, "price_per_unit": li.price_per_unit,
            "ships_from": li.ships_from, "ships_to": li.ships_to or [], "first_seen": li.first_seen,
            "last_seen": li.last_seen, "active": li.active,
        })
    return out


def post_rows(session: Session, ids: list[int]) -> list[dict]:
    if not ids:
        return []
    rows = session.execute(
        select(Post, Site.slug, Thread.title).join(Site, Site.id == Post.site_id)
        .join(Thread, Thread.id == Post.thread_id).where(Post.id.in_(ids))).all()
    by_id = {post.id: (post, slug, title) for post, slug, title in rows}
    out = []
    for i in ids:
        if i not in by_id:
            continue
        post, slug, title = by_id[i]
        text = post.text or ""
        out.append({
            "id": post.id, "site": slug, "thread_id": post.thread_id, "thread": title, "author": post.author,
            "author_account_id": post.author_account_id, "posted_at": post.posted_at,
            "text": text if len(text) <= 400 else text[:400] + "…", "category": post.category,
            "substances": post.substances or [],
        })
    return out


def run_search(session: Session, params: SearchParams, limit: int = PAGE_SIZE, offset: int | None = None,
               count_limit: int = COUNT_LIMIT) -> dict:
    offset = (params.page - 1) * PAGE_SIZE if offset is None else offset
    if params.kind == "posts":
        found = search_posts(session, params.q, params.site, limit=limit, offset=offset)
        rows = post_rows(session, found.ids)
    else:
        found = search_listings(session, params.q, params.filters(), limit=limit, offset=offset, order=params.sort,
                                count_limit=count_limit)
        rows = listing_rows(session, found.ids)
    exact = getattr(found, "exact", True)
    # beyond the count limit the page count is unknown: offer "next" while pages come back full
    pages = max(1, -(-found.total // PAGE_SIZE)) if exact else params.page + (len(rows) == limit)
    return {"kind": params.kind, "total": found.total, "total_exact": exact, "page": params.page, "pages": pages,
            "page_size": PAGE_SIZE, "results": rows}


def site_slugs(session: Session) -> list[str]:
    return list(session.scalars(select(Site.slug).order_by(Site.slug)))
