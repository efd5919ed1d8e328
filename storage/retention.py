"""Retention: raw pages, forum posts and personal identifiers are kept for a set time, then purged, except
what a case hold protects.

Database rows go in one transaction; files (bodies, WARC files) are deleted only after it commits and only
when no remaining row names them, so a crash mid-purge can leave an unreferenced file behind but never a row
pointing at a missing file. A WARC file is deleted when none of its records is still referenced: a held page
keeps its whole WARC file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from storage.evidence import EvidenceStore
from storage.models import (
    CaseHold,
    Listing,
    ListingSnapshot,
    Page,
    Post,
    Thread,
    VendorAccount,
    VendorIdentifier,
    WarcFile,
)

# "signature": a forum member's profile signature carries contacts, wallets and fingerprints in free text
PERSONAL_PROFILE_KEYS = ("contacts", "pgp_key", "pgp_fingerprint", "email", "wallets", "signature")


@dataclass
class Rules:
    pages_days: int | None
    posts_days: int | None
    identifiers_days: int | None


@dataclass
class PurgePlan:
    page_ids: list[int] = field(default_factory=list)
    post_ids: list[int] = field(default_factory=list)
    identifier_ids: list[int] = field(default_factory=list)
    profile_account_ids: list[int] = field(default_factory=list)
    held_pages_kept: int = 0
    held_posts_kept: int = 0
    held_identifiers_kept: int = 0


@dataclass
class PurgeResult:
    plan: PurgePlan
    bodies_deleted: int = 0
    warc_files_deleted: int = 0


def _active_holds(session: Session) -> dict[str, set[int]]:
    held: dict[str, set[int]] = {"listing": set(), "vendor": set(), "post": set(), "site": set()}
    for hold in session.scalars(select(CaseHold).where(CaseHold.released_at.is_(None))):
        held.setdefault(hold.kind, set()).add(hold.target_id)
    return held


def _held_page_ids(session: Session, held: dict[str, set[int]]) -> set[int]:
    pages: set[int] = set()
    if held["site"]:
        pages |= set(session.scalars(select(Page.id).where(Page.site_id.in_(held["site"]))))
    listing_ids = set(held["listing"])
    if held["vendor"]:  # a held vendor holds its listings too
        listing_ids |= set(session.scalars(select(Listing.id).where(Listing.vendor_account_id.in_(held["vendor"]))))
        pages |= {p for p in session.scalars(select(VendorAccount.page_id).where(
            VendorAccount.id.in_(held["vendor"]))) if p}
    if listing_ids:
        listings = session.execute(select(Listing.id, Listing.site_id, Listing.url, Listing.page_id)
                                   .where(Listing.id.in_(listing_ids))).all()
        pages |= {row.page_id for row in listings if row.page_id}
        pages |= {p for p in session.scalars(select(ListingSnapshot.page_id).where(
            ListingSnapshot.listing_id.in_(listing_ids))) if p}
        for row in listings:
            pages |= set(session.scalars(select(Page.id).where(Page.site_id == row.site_id, Page.url == row.url)))
    if held["post"]:
        pages |= {p for p in session.scalars(select(Post.page_id).where(Post.id.in_(held["post"]))) if p}
    return pages


def plan(session: Session, rules: Rules, now: datetime) -> PurgePlan:
    held = _active_holds(session)
    result = PurgePlan()
    if rules.pages_days is not None:
        cutoff = now - timedelta(days=rules.pages_days)
        old = set(session.scalars(select(Page.id).where(Page.fetched_at < cutoff)))
        keep = old & _held_page_ids(session, held)
        result.page_ids, result.held_pages_kept = sorted(old - keep), len(keep)
    if rules.posts_days is not None:
        cutoff = now - timedelta(days=rules.posts_days)
        old = session.execute(select(Post.id, Post.site_id).where(
            or_(Post.posted_at < cutoff, (Post.posted_at.is_(None)) & (Post.first_seen < cutoff)))).all()
        kept = [r.id for r in old if r.id in held["post"] or r.site_id in held["site"]]
        result.post_ids, result.held_posts_kept = sorted({r.id for r in old} - set(kept)), len(kept)
    if rules.identifiers_days is not None:
        cutoff = now - timedelta(days=rules.identifiers_days)
        old = session.execute(select(VendorIdentifier.id, VendorIdentifier.account_id, VendorAccount.site_id)
                              .join(VendorAccount, VendorAccount.id == VendorIdentifier.account_id)
                              .where(VendorIdentifier.first_seen < cutoff)).all()
        protected = [r for r in old if r.account_id in held["vendor"] or r.site_id in held["site"]]
        result.identifier_ids = sorted({r.id for r in old} - {r.id for r in protected})
        result.held_identifiers_kept = len(protected)
        accounts = session.execute(select(VendorAccount.id, VendorAccount.site_id).where(
            VendorAccount.last_seen < cutoff, VendorAccount.profile.is_not(None))).all()
        result.profile_account_ids = sorted(a.id for a in accounts
                                            if a.id not in held["vendor"] and a.site_id not in held["site"])
    return result


def _chunks(ids: list[int], size: int = 500):
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def purge(session: Session, store: EvidenceStore, rules: Rules, now: datetime) -> PurgeResult:
    """Apply `plan` in the caller's transaction, commit, then delete files nothing references any more."""
    purge_plan = plan(session, rules, now)
    candidate_shas: set[str] = set()
    candidate_warcs: set[str] = set()
    for chunk in _chunks(purge_plan.page_ids):
        for sha, shot, warc in session.execute(select(Page.sha256, Page.screenshot_sha256, Page.warc_path)
                                               .where(Page.id.in_(chunk))):
            candidate_shas |= {s for s in (sha, shot) if s}
            candidate_warcs.add(warc)
        for model in (Listing, ListingSnapshot, VendorAccount, VendorIdentifier, Post, Thread):
            session.execute(update(model).where(model.page_id.in_(chunk)).values(page_id=None))
        session.execute(delete(Page).where(Page.id.in_(chunk)))
    for chunk in _chunks(purge_plan.post_ids):
        session.execute(delete(Post).where(Post.id.in_(chunk)))
    for chunk in _chunks(purge_plan.identifier_ids):
        session.execute(delete(VendorIdentifier).where(VendorIdentifier.id.in_(chunk)))
    for chunk in _chunks(purge_plan.profile_account_ids):
        for account in session.scalars(select(VendorAccount).where(VendorAccount.id.in_(chunk))):
            account.profile = {k: v for k, v in (account.profile or {}).items() if k not in PERSONAL_PROFILE_KEYS}
    still_used_shas = set()
    for chunk in _chunks(sorted(candidate_shas)):
        still_used_shas |= set(session.scalars(select(Page.sha256).where(Page.sha256.in_(chunk))))
        still_used_shas |= set(session.scalars(select(Page.screenshot_sha256).where(Page.screenshot_sha256.in_(chunk))))
    used_warcs = set(session.scalars(select(Page.warc_path).where(Page.warc_path.in_(sorted(candidate_warcs)))))
    dead_warcs = sorted(candidate_warcs - used_warcs)
    if dead_warcs:
        session.execute(delete(WarcFile).where(WarcFile.path.in_(dead_warcs)))
    session.commit()
    result = PurgeResult(purge_plan)
    for sha in sorted(candidate_shas - still_used_shas):
        path = store.body_path(sha)
        if path.exists():
            path.unlink()
            result.bodies_deleted += 1
    for warc in dead_warcs:
        path = store.root / warc
        if path.exists():
            path.unlink()
            result.warc_files_deleted += 1
    return result
