"""Idempotent writes keyed on natural keys: re-running a crawl never duplicates a row.

A listing gets a snapshot when first seen and whenever price, currency, stock, shipping or availability
changes; otherwise only last_seen moves. Callers batch many upserts in one session/transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.evidence import WarcLocation
from storage.models import (
    CrawlRun,
    Listing,
    ListingSnapshot,
    ListingSubstance,
    Page,
    Post,
    Site,
    Thread,
    VendorAccount,
    VendorIdentifier,
)
from storage.records import ListingRecord, PostRecord, ThreadRecord, VendorRecord

TRACKED = ("price", "currency", "stock", "ships_from", "ships_to", "active")


def _insert(session: Session, model):
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(model)


def _insert_ignore(session: Session, model, values: dict, keys: list[str]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING: safe when several workers insert the same natural key.
    Returns whether this call inserted the row (False: another writer had, maybe a moment ago)."""
    pk = next(iter(model.__table__.primary_key.columns))
    stmt = _insert(session, model).values(**values).on_conflict_do_nothing(index_elements=keys).returning(pk)
    return session.execute(stmt).first() is not None  # (rowcount is not reliable with every driver)


def get_or_create_site(session: Session, slug: str, name: str, kind: str, base_url: str,
                       is_onion: bool = False) -> Site:
    _insert_ignore(session, Site, {"slug": slug, "name": name, "kind": kind, "base_url": base_url,
                                   "is_onion": is_onion}, ["slug"])
    site = session.scalars(select(Site).where(Site.slug == slug)).one()
    site.name, site.kind, site.base_url, site.is_onion = name, kind, base_url, is_onion
    return site


def record_page(session: Session, run: CrawlRun, url: str, fetched_at: datetime, status: int,
                content_type: str | None, sha256: str, size: int, location: WarcLocation,
                screenshot_sha256: str | None = None, fetch_mode: str = "http") -> Page:
    """The page fetched at `url` in `run`; a refetch in the same run (resume) replaces the pointer."""
    values = {"crawl_run_id": run.id, "site_id": run.site_id, "url": url, "fetched_at": fetched_at,
              "status": status, "content_type": content_type, "sha256": sha256, "size": size,
              "warc_path": location.path, "warc_offset": location.offset, "warc_length": location.length,
              "screenshot_sha256": screenshot_sha256, "fetch_mode": fetch_mode}
    stmt = _insert(session, Page).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=["crawl_run_id", "url"],
                                      set_={k: stmt.excluded[k] for k in values if k not in ("crawl_run_id", "url")})
    session.execute(stmt)
    return session.scalars(select(Page).where(Page.crawl_run_id == run.id, Page.url == url)).one()


def record_pages(session: Session, run: CrawlRun, pages: list[dict]) -> list[int]:
    """`record_page` for many pages (a crawl batch) in one statement; returns the Page ids in input order.

    Each dict holds record_page's arguments after `run` (url, fetched_at, status, content_type, sha256, size,
    location, and optionally screenshot_sha256, fetch_mode). A URL given twice keeps its last values, as two
    record_page calls in a row would.
    """
    if not pages:
        return []
    latest: dict[str, dict] = {}
    for page in pages:
        location: WarcLocation = page["location"]
        latest[page["url"]] = {
            "crawl_run_id": run.id, "site_id": run.site_id, "url": page["url"], "fetched_at": page["fetched_at"],
            "status": page["status"], "content_type": page["content_type"], "sha256": page["sha256"],
            "size": page["size"], "warc_path": location.path, "warc_offset": location.offset,
            "warc_length": location.length, "screenshot_sha256": page.get("screenshot_sha256"),
            "fetch_mode": page.get("fetch_mode", "http")}
    rows = list(latest.values())
    stmt = _insert(session, Page)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["crawl_run_id", "url"],
        set_={k: stmt.excluded[k] for k in rows[0] if k not in ("crawl_run_id", "url")}), rows)
    ids: dict[str, int] = {}
    urls = list(latest)
    for i in range(0, len(urls), 500):
        ids.update(session.execute(select(Page.url, Page.id).where(Page.crawl_run_id == run.id,
                                                                   Page.url.in_(urls[i:i + 500]))).all())
    return [ids[page["url"]] for page in pages]


def upsert_vendor(session: Session, site_id: int, record: VendorRecord, seen_at: datetime,
                  page_id: int | None = None) -> tuple[VendorAccount, bool]:
    """Returns (account, created)."""
    existing = session.scalars(select(VendorAccount).where(
        VendorAccount.site_id == site_id, VendorAccount.handle == record.handle)).one_or_none()
    created = existing is None
    if created:
        # a concurrent writer may insert the same account between the SELECT and this INSERT (PostgreSQL
        # then waits for it and skips ours): only a row we inserted is "created", else ours is an update
        created = _insert_ignore(session, VendorAccount, {"site_id": site_id, "handle": record.handle, "url": record.url,
                                                "first_seen": seen_at, "last_seen": seen_at, "page_id": page_id,
                                                "profile": record.profile}, ["site_id", "handle"])
    account = session.scalars(select(VendorAccount).where(
        VendorAccount.site_id == site_id, VendorAccount.handle == record.handle)).one()
    if not created:
        account.last_seen = max(account.last_seen, seen_at)
        if record.profile is not None:
            account.profile = record.profile
        if record.url:
            account.url = record.url
        if page_id is not None:
            account.page_id = page_id
    for kind, value in record.identifiers:
        _insert_ignore(session, VendorIdentifier, {"account_id": account.id, "kind": kind, "value": value,
                                                   "first_seen": seen_at, "page_id": page_id},
                       ["account_id", "kind", "value"])
    return account, created


def lock_vendors(session: Session, site_id: int, handles, seen_at: datetime) -> dict[str, int]:
    """Make sure the accounts named by `handles` exist (bare if new) and lock them, in handle order.

    A worker calls this at the start of a batch with every handle the batch names: two workers whose batches
    share vendors then take those row locks in the same order and cannot deadlock on them, whatever order
    their pages came in (PostgreSQL; SQLite serialises writers anyway). Returns handle -> account id.
    """
    ordered = sorted(set(handles))
    if not ordered:
        return {}
    session.execute(_insert(session, VendorAccount).on_conflict_do_nothing(index_elements=["site_id", "handle"]),
                    [{"site_id": site_id, "handle": h, "first_seen": seen_at, "last_seen": seen_at} for h in ordered])
    ids: dict[str, int] = {}
    for i in range(0, len(ordered), 500):
        ids.update(session.execute(select(VendorAccount.handle, VendorAccount.id)
                                   .where(VendorAccount.site_id == site_id,
                                          VendorAccount.handle.in_(ordered[i:i + 500]))
                                   .order_by(VendorAccount.handle).with_for_update()).all())
    return ids


def vendor_by_handle(session: Session, site_id: int, handle: str, seen_at: datetime) -> VendorAccount:
    """The account a listing names; created bare if its profile page was not seen (yet)."""
    account, _ = upsert_vendor(session, site_id, VendorRecord(handle=handle), seen_at)
    return account


@dataclass(frozen=True)
class ListingWrite:
    listing_id: int
    created: bool
    changed: bool


def _norm(value):
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def _listing_values(record: ListingRecord, seen_at: datetime, run_id: int | None, page_id: int | None,
                    vendor_account_id: int | None) -> dict:
    values = {
        "url": record.url, "title": record.title, "description": record.description, "price": record.price,
        "currency": record.currency, "price_options": record.price_options, "quantity": record.quantity,
        "unit": record.unit, "price_per_unit": record.price_per_unit, "ships_from": record.ships_from,
        "ships_to": record.ships_to, "stock": record.stock, "category": record.category,
        "category_scores": record.category_scores, "needs_review": record.needs_review,
        "substances": sorted(set(record.substances)), "analysis": record.analysis,
        "vendor_account_id": vendor_account_id, "last_seen": seen_at, "active": True,
        "last_crawl_run_id": run_id,
    }
    if page_id is not None:
        values["page_id"] = page_id
    return values


@dataclass(frozen=True)
class ListingInput:
    record: ListingRecord
    page_id: int | None = None
    vendor_account_id: int | None = None


def upsert_listings(session: Session, site_id: int, items: list[ListingInput], seen_at: datetime,
                    run_id: int | None = None) -> list[ListingWrite]:
    """Batch upsert: a handful of statements per batch instead of several per listing.

    Results are in input order. If one external id appears twice in a batch, the last one wins (as two
    single upserts in a row would do). Rows are locked and written in external-id order, whatever the input
    order, so that two workers writing overlapping batches take their row locks in the same order and do not
    deadlock each other (PostgreSQL).
    """
    latest: dict[str, ListingInput] = {}
    for item in items:
        latest[item.record.external_id] = item
    latest = dict(sorted(latest.items()))
    existing: dict[str, Listing] = {}
    keys = list(latest)
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        for row in session.scalars(select(Listing).where(Listing.site_id == site_id,
                                                         Listing.external_id.in_(chunk))
                                  .order_by(Listing.external_id).with_for_update()):
            existing[row.external_id] = row
    new_rows = [{"site_id": site_id, "external_id": key, "first_seen": seen_at,
                 **_listing_values(item.record, seen_at, run_id, item.page_id, item.vendor_account_id)}
                for key, item in latest.items() if key not in existing]
    if new_rows:
        session.execute(_insert(session, Listing).on_conflict_do_nothing(index_elements=["site_id", "external_id"]),
                        new_rows)
        created_keys = [r["external_id"] for r in new_rows]
        for i in range(0, len(created_keys), 500):
            for row in session.scalars(select(Listing).where(Listing.site_id == site_id,
                                                             Listing.external_id.in_(created_keys[i:i + 500]))):
                existing[row.external_id] = row
    created = {r["external_id"] for r in new_rows}
    results: dict[str, ListingWrite] = {}
    snapshot_rows, substance_wanted = [], {}
    for key, item in latest.items():
        listing = existing[key]
        values = _listing_values(item.record, seen_at, run_id, item.page_id, item.vendor_account_id)
        if key in created:
            changed = True
        else:
            before = {f: _norm(getattr(listing, f)) for f in TRACKED}
            changed = before != {f: _norm(values[f]) for f in TRACKED}
            if listing.last_seen > seen_at:
                values["last_seen"] = listing.last_seen
            for name, value in values.items():
                setattr(listing, name, value)
        if changed:
            snapshot_rows.append(_snapshot_values(listing, run_id, seen_at, item.page_id))
        substance_wanted[listing.id] = set(values["substances"])
        results[key] = ListingWrite(listing.id, key in created, changed and key not in created)
    session.flush()
    if snapshot_rows:
        stmt = _insert(session, ListingSnapshot)
        session.execute(stmt.on_conflict_do_update(
            index_elements=["listing_id", "crawl_run_id"],
            set_={k: stmt.excluded[k] for k in snapshot_rows[0] if k not in ("listing_id", "crawl_run_id")}),
            snapshot_rows)
    _set_substances(session, substance_wanted)
    return [results[item.record.external_id] for item in items]


def upsert_listing(session: Session, site_id: int, record: ListingRecord, seen_at: datetime,
                   run_id: int | None = None, page_id: int | None = None,
                   vendor_account_id: int | None = None) -> ListingWrite:
    return upsert_listings(session, site_id, [ListingInput(record, page_id, vendor_account_id)], seen_at, run_id)[0]


def _snapshot_values(listing: Listing, run_id: int | None, at: datetime, page_id: int | None) -> dict:
    return {"listing_id": listing.id, "crawl_run_id": run_id, "observed_at": at, "price": listing.price,
            "currency": listing.currency, "price_per_unit": listing.price_per_unit, "stock": listing.stock,
            "ships_from": listing.ships_from, "ships_to": listing.ships_to, "active": listing.active,
            "page_id": page_id}


def _snapshot(session: Session, listing: Listing, run_id: int | None, at: datetime, page_id: int | None) -> None:
    values = _snapshot_values(listing, run_id, at, page_id)
    stmt = _insert(session, ListingSnapshot).values(**values)
    # one snapshot per listing per run: a resumed run rewriting the same listing keeps the latest state
    session.execute(stmt.on_conflict_do_update(
        index_elements=["listing_id", "crawl_run_id"],
        set_={k: stmt.excluded[k] for k in values if k not in ("listing_id", "crawl_run_id")}))


def _set_substances(session: Session, wanted: dict[int, set[str]]) -> None:
    if not wanted:
        return
    current: dict[int, set[str]] = {listing_id: set() for listing_id in wanted}
    ids = list(wanted)
    for i in range(0, len(ids), 500):
        for listing_id, substance in session.execute(select(ListingSubstance.listing_id, ListingSubstance.substance)
                                                     .where(ListingSubstance.listing_id.in_(ids[i:i + 500]))):
            current[listing_id].add(substance)
    for listing_id, substances in wanted.items():
        stale = current[listing_id] - substances
        if stale:
            session.execute(delete(ListingSubstance).where(ListingSubstance.listing_id == listing_id,
                                                           ListingSubstance.substance.in_(stale)))
    rows = [{"listing_id": lid, "substance": s} for lid, subs in wanted.items() for s in sorted(subs - current[lid])]
    if rows:
        session.execute(_insert(session, ListingSubstance).on_conflict_do_nothing(
            index_elements=["listing_id", "substance"]), rows)


def mark_vanished(session: Session, site_id: int, run_id: int, at: datetime) -> int:
    """Listings of the site still active but not seen in run `run_id` become inactive, with a snapshot."""
    gone = session.scalars(select(Listing).where(
        Listing.site_id == site_id, Listing.active.is_(True),
        (Listing.last_crawl_run_id != run_id) | Listing.last_crawl_run_id.is_(None))).all()
    for listing in gone:
        listing.active = False
        _snapshot(session, listing, run_id, at, None)
    return len(gone)


def upsert_thread(session: Session, site_id: int, record: ThreadRecord, seen_at: datetime,
                  page_id: int | None = None) -> Thread:
    _insert_ignore(session, Thread, {"site_id": site_id, "external_id": record.external_id, "board": record.board,
                                     "title": record.title, "url": record.url, "first_seen": seen_at,
                                     "last_seen": seen_at, "page_id": page_id}, ["site_id", "external_id"])
    thread = session.scalars(select(Thread).where(Thread.site_id == site_id,
                                                  Thread.external_id == record.external_id)).one()
    thread.last_seen = max(thread.last_seen, seen_at)
    thread.title, thread.board = record.title, record.board or thread.board
    return thread


def upsert_post(session: Session, site_id: int, thread_id: int, record: PostRecord, seen_at: datetime,
                page_id: int | None = None, author_account_id: int | None = None) -> tuple[Post, bool]:
    """`author_account_id`: the author's account on the forum (a VendorAccount of the forum site); None
    leaves a stored link as it is."""
    key = (Post.site_id == site_id, Post.external_id == record.external_id)
    values = {"thread_id": thread_id, "author": record.author, "posted_at": record.posted_at,
              "lang": record.lang, "text": record.text, "quotes": record.quotes, "signature": record.signature,
              "trade_relevance": record.trade_relevance, "category": record.category,
              "substances": sorted(set(record.substances)), "analysis": record.analysis}
    if author_account_id is not None:
        values["author_account_id"] = author_account_id
    post = session.scalars(select(Post).where(*key)).one_or_none()
    if post is None:
        inserted = _insert_ignore(session, Post, {"site_id": site_id, "external_id": record.external_id,
                                                  "first_seen": seen_at, "page_id": page_id, **values},
                                  ["site_id", "external_id"])
        post = session.scalars(select(Post).where(*key)).one()
        if inserted:
            return post, True
    for name, value in values.items():
        setattr(post, name, value)
    if page_id is not None:
        post.page_id = page_id
    return post, False


def finish_run(session: Session, run: CrawlRun, status: str, at: datetime, reason: str | None = None) -> None:
    session.execute(update(CrawlRun).where(CrawlRun.id == run.id).values(
        status=status, finished_at=at, reason=reason))
