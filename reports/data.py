"""Everything a weekly report needs, read from the database in a few queries (no HTML, no evidence files).

The window is the reported week and the eight before it: eight weeks of price trend (W-7..W), the
previous week for week-over-week changes, and W-8..W-1 as the baseline of emerging terms.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from reports.weeks import Week
from storage.models import (
    Alert,
    ClusterMember,
    CrawlRun,
    JobRun,
    Listing,
    ListingSnapshot,
    ListingSubstance,
    Post,
    Site,
    VendorAccount,
    VendorCluster,
)

WINDOW_WEEKS = 9  # W-8 .. W


@dataclass(frozen=True)
class SiteRow:
    id: int
    slug: str
    name: str
    kind: str


@dataclass(frozen=True)
class RunRow:
    id: int
    site_id: int
    started_at: datetime
    status: str
    reason: str | None
    items: int

    @property
    def ok(self) -> bool:
        """A run that stored what it saw: anything not failed, or a failed run that still stored items."""
        return self.status != "failed" or self.items > 0


@dataclass(frozen=True)
class State:
    """A listing's tracked fields at one moment (from a snapshot, or the listing row without one)."""
    observed_at: datetime
    run_id: int | None
    active: bool
    price: Decimal | None
    currency: str | None
    price_per_unit: Decimal | None
    ships_from: str | None
    ships_to: list | None


@dataclass
class ListingRow:
    id: int
    site_id: int
    external_id: str
    title: str
    category: str | None
    quantity: float | None
    unit: str | None
    vendor_account_id: int | None
    first_seen: datetime
    last_seen: datetime
    row_state: State
    substances: list[str] = field(default_factory=list)
    states: list[State] = field(default_factory=list)  # snapshots before the window's end, by time
    unknown_terms: list[str] = field(default_factory=list)  # extractor output, when it provides them

    def state_before(self, moment: datetime) -> State | None:
        """The last recorded state strictly before `moment`."""
        i = bisect_left([s.observed_at for s in self.states], moment)
        return self.states[i - 1] if i else None


@dataclass(frozen=True)
class PostRow:
    id: int
    site_id: int
    thread_id: int
    at: datetime  # posted_at, or first_seen when the page showed no date
    substances: tuple[str, ...]
    text: str
    unknown_terms: tuple[str, ...]


@dataclass(frozen=True)
class AccountRow:
    id: int
    site_id: int
    handle: str
    first_seen: datetime


@dataclass
class Dataset:
    week: Week
    sites: dict[int, SiteRow]
    runs: list[RunRow]  # runs started in the window, by time
    first_run_at: dict[int, datetime]  # site id -> first run ever
    listings: list[ListingRow]
    posts: list[PostRow]
    accounts: dict[int, AccountRow]  # every account the window's listings name, and accounts new in W-1..W
    clusters: dict[str, list[int]]  # cluster id -> member account ids (every cluster)
    cluster_confidence: dict[str, float]
    job_failures: list[dict]
    alerts: list[dict]

    @property
    def weeks(self) -> list[Week]:
        return [self.week.shift(-i) for i in range(WINDOW_WEEKS - 1, -1, -1)]


def _unknown_terms(analysis: dict | None) -> list[str]:
    terms = (analysis or {}).get("unknown_terms") or []
    return [str(t) for t in terms if isinstance(t, str | dict)] if isinstance(terms, list) else []


def load(session: Session, week: Week) -> Dataset:
    start, end = week.shift(-(WINDOW_WEEKS - 1)).start, week.end
    sites = {s.id: SiteRow(s.id, s.slug, s.name, s.kind) for s in session.scalars(select(Site).order_by(Site.id))}
    runs = [RunRow(r.id, r.site_id, r.started_at, r.status, r.reason, r.items or 0)
            for r in session.scalars(select(CrawlRun).where(CrawlRun.started_at >= start, CrawlRun.started_at < end)
                                     .order_by(CrawlRun.started_at, CrawlRun.id))]
    first_run_at = dict(session.execute(select(CrawlRun.site_id, func.min(CrawlRun.started_at))
                                        .group_by(CrawlRun.site_id)).all())

    in_window = (Listing.first_seen < end, Listing.last_seen >= start)
    listings: dict[int, ListingRow] = {}
    for li in session.execute(select(
            Listing.id, Listing.site_id, Listing.external_id, Listing.title, Listing.category, Listing.quantity,
            Listing.unit, Listing.vendor_account_id, Listing.first_seen, Listing.last_seen, Listing.active,
            Listing.price, Listing.currency, Listing.price_per_unit, Listing.ships_from, Listing.ships_to)
            .where(*in_window).order_by(Listing.id)):
        state = State(li.last_seen, None, li.active, li.price, li.currency, li.price_per_unit, li.ships_from,
                      li.ships_to)
        listings[li.id] = ListingRow(li.id, li.site_id, li.external_id, li.title, li.category, li.quantity,
                                     li.unit, li.vendor_account_id, li.first_seen, li.last_seen, state)
    for listing_id, substance in session.execute(
            select(ListingSubstance.listing_id, ListingSubstance.substance).join(Listing)
            .where(*in_window).order_by(ListingSubstance.listing_id, ListingSubstance.substance)):
        listings[listing_id].substances.append(substance)
    for s in session.execute(
            select(ListingSnapshot.listing_id, ListingSnapshot.crawl_run_id, ListingSnapshot.observed_at,
                   ListingSnapshot.active, ListingSnapshot.price, ListingSnapshot.currency,
                   ListingSnapshot.price_per_unit, ListingSnapshot.ships_from, ListingSnapshot.ships_to)
            .join(Listing).where(*in_window, ListingSnapshot.observed_at < end)
            .order_by(ListingSnapshot.listing_id, ListingSnapshot.observed_at, ListingSnapshot.id)):
        listings[s.listing_id].states.append(State(s.observed_at, s.crawl_run_id, s.active, s.price, s.currency,
                                                   s.price_per_unit, s.ships_from, s.ships_to))
    # the extractor's unknown terms, only for listings new in the window (the emerging-terms input)
    for listing_id, analysis in session.execute(select(Listing.id, Listing.analysis).where(
            Listing.first_seen >= start, Listing.first_seen < end, Listing.analysis.is_not(None))):
        if listing_id in listings:
            listings[listing_id].unknown_terms = _unknown_terms(analysis)

    post_at = func.coalesce(Post.posted_at, Post.first_seen)
    posts = [PostRow(p.id, p.site_id, p.thread_id, p.posted_at or p.first_seen, tuple(sorted(set(p.substances or []))),
                     p.text or "", tuple(_unknown_terms(p.analysis)))
             for p in session.scalars(select(Post).where(post_at >= start, post_at < end).order_by(Post.id))]

    account_rows = session.scalars(select(VendorAccount).where(or_(
        VendorAccount.id.in_(select(Listing.vendor_account_id).where(*in_window)),
        (VendorAccount.first_seen >= week.shift(-1).start) & (VendorAccount.first_seen < end))))
    accounts = {a.id: AccountRow(a.id, a.site_id, a.handle, a.first_seen) for a in account_rows}

    clusters: dict[str, list[int]] = defaultdict(list)
    confidence: dict[str, float] = {}
    for c in session.scalars(select(VendorCluster).order_by(VendorCluster.id)):
        clusters.setdefault(c.id, [])
        confidence[c.id] = c.confidence
    for account_id, cluster_id in session.execute(select(ClusterMember.account_id, ClusterMember.cluster_id)
                                                  .order_by(ClusterMember.cluster_id, ClusterMember.account_id)):
        clusters[cluster_id].append(account_id)
    member_ids = {a for members in clusters.values() for a in members} - set(accounts)
    if member_ids:
        for a in session.scalars(select(VendorAccount).where(VendorAccount.id.in_(sorted(member_ids)))):
            accounts[a.id] = AccountRow(a.id, a.site_id, a.handle, a.first_seen)

    job_failures = [{"name": j.name, "site_id": j.site_id, "started_at": j.started_at, "status": j.status,
                     "reason": j.reason}
                    for j in session.scalars(select(JobRun).where(
                        JobRun.started_at >= week.start, JobRun.started_at < end,
                        JobRun.status.in_(("failed", "timeout"))).order_by(JobRun.started_at, JobRun.id))]
    alerts = [{"kind": a.kind, "site_id": a.site_id, "created_at": a.created_at, "message": a.message}
              for a in session.scalars(select(Alert).where(Alert.created_at >= week.start, Alert.created_at < end)
                                       .order_by(Alert.created_at, Alert.id))]
    return Dataset(week, sites, runs, first_run_at, list(listings.values()), posts, accounts, dict(clusters),
                   confidence, job_failures, alerts)
