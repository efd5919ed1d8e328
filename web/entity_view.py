"""Listing, vendor account, cluster and thread pages: what each shows, as plain dicts (page and JSON)."""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import Session

from storage.models import (
    ClusterFeedback,
    ClusterLink,
    ClusterMember,
    CrawlRun,
    Listing,
    ListingSnapshot,
    Page,
    Post,
    Site,
    Thread,
    VendorAccount,
    VendorCluster,
    VendorIdentifier,
)
from web.chart import price_chart


def _page_dict(page: Page) -> dict:
    return {"id": page.id, "url": page.url, "fetched_at": page.fetched_at, "status": page.status,
            "content_type": page.content_type, "sha256": page.sha256, "size": page.size,
            "warc_path": page.warc_path, "warc_offset": page.warc_offset, "warc_length": page.warc_length,
            "screenshot_sha256": page.screenshot_sha256, "fetch_mode": page.fetch_mode,
            "crawl_run_id": page.crawl_run_id}


def _account_dict(account: VendorAccount, site: Site | None) -> dict:
    return {"id": account.id, "site": site.slug if site else None, "site_name": site.name if site else None,
            "handle": account.handle, "url": account.url, "first_seen": account.first_seen,
            "last_seen": account.last_seen}


def listing_detail(session: Session, listing_id: int) -> dict:
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise HTTPException(404, f"no listing {listing_id}; find listings with the search")
    site = session.get(Site, listing.site_id)
    vendor = session.get(VendorAccount, listing.vendor_account_id) if listing.vendor_account_id else None
    snapshots = list(session.scalars(select(ListingSnapshot).where(ListingSnapshot.listing_id == listing.id)
                                     .order_by(ListingSnapshot.observed_at, ListingSnapshot.id)))
    # the same pages the evidence bundle holds (storage.evidence_bundle.export_listing)
    page_ids = {p for p in [listing.page_id] if p} | {s.page_id for s in snapshots if s.page_id}
    pages = list(session.scalars(select(Page).where(
        or_(Page.id.in_(page_ids), (Page.site_id == listing.site_id) & (Page.url == listing.url)))
        .order_by(Page.fetched_at.desc(), Page.id.desc())))
    cluster_id = session.scalar(select(ClusterMember.cluster_id).where(ClusterMember.account_id == vendor.id)) \
        if vendor else None
    unit = f"{listing.currency or ''} per {listing.unit or 'unit'}".strip()
    use_ppu = any(s.price_per_unit is not None for s in snapshots)
    chart = price_chart([(s.observed_at, s.price_per_unit if use_ppu else s.price, s.active) for s in snapshots],
                        unit if use_ppu else (listing.currency or ""))
    return {
        "listing": {
            "id": listing.id, "site": site.slug, "site_name": site.name, "external_id": listing.external_id,
            "url": listing.url, "title": listing.title, "description": listing.description,
            "price": listing.price, "currency": listing.currency, "price_options": listing.price_options or [],
            "quantity": listing.quantity, "unit": listing.unit, "price_per_unit": listing.price_per_unit,
            "price_usd": listing.price_usd, "ships_from": listing.ships_from, "ships_to": listing.ships_to or [],
            "stock": listing.stock, "category": listing.category, "category_scores": listing.category_scores,
            "needs_review": listing.needs_review, "substances": listing.substances or [],
            "first_seen": listing.first_seen, "last_seen": listing.last_seen, "active": listing.active,
        },
        "vendor": _account_dict(vendor, site) if vendor else None,
        "cluster_id": cluster_id,
        "snapshots": [{"observed_at": s.observed_at, "price": s.price, "currency": s.currency,
                       "price_per_unit": s.price_per_unit, "stock": s.stock, "ships_from": s.ships_from,
                       "ships_to": s.ships_to or [], "active": s.active, "crawl_run_id": s.crawl_run_id,
                       "page_id": s.page_id} for s in snapshots],
        "chart": chart,
        "chart_basis": "price per unit" if use_ppu else "price",
        "pages": [_page_dict(p) for p in pages],
    }


def vendor_detail(session: Session, account_id: int) -> dict:
    account = session.get(VendorAccount, account_id)
    if account is None:
        raise HTTPException(404, f"no vendor account {account_id}")
    site = session.get(Site, account.site_id)
    identifiers = list(session.scalars(select(VendorIdentifier).where(VendorIdentifier.account_id == account.id)
                                       .order_by(VendorIdentifier.kind, VendorIdentifier.value)))
    shared = []
    if identifiers:
        keys = [(i.kind, i.value) for i in identifiers]
        rows = session.execute(
            select(VendorIdentifier.kind, VendorIdentifier.value, VendorAccount, Site)
            .join(VendorAccount, VendorAccount.id == VendorIdentifier.account_id)
            .join(Site, Site.id == VendorAccount.site_id)
            .where(tuple_(VendorIdentifier.kind, VendorIdentifier.value).in_(keys),
                   VendorIdentifier.account_id != account.id).limit(200)).all()
        shared = [{"kind": k, "value": v, "account": _account_dict(a, s)} for k, v, a, s in rows]
    listings = session.execute(
        select(Listing.id, Listing.title, Listing.category, Listing.price, Listing.currency, Listing.price_per_unit,
               Listing.quantity, Listing.unit, Listing.ships_from, Listing.last_seen, Listing.active)
        .where(Listing.vendor_account_id == account.id).order_by(Listing.last_seen.desc()).limit(200)).all()
    listing_total = session.scalar(select(func.count()).where(Listing.vendor_account_id == account.id))
    posts = session.execute(
        select(Post.id, Post.thread_id, Thread.title, Post.posted_at, Post.text)
        .join(Thread, Thread.id == Post.thread_id).where(Post.author_account_id == account.id)
        .order_by(Post.posted_at.desc()).limit(50)).all()
    cluster_id = session.scalar(select(ClusterMember.cluster_id).where(ClusterMember.account_id == account.id))
    profile = account.profile or {}
    return {
        "account": _account_dict(account, site),
        "profile": {str(k): v for k, v in profile.items()} if isinstance(profile, dict) else {"profile": profile},
        "identifiers": [{"kind": i.kind, "value": i.value, "first_seen": i.first_seen} for i in identifiers],
        "shared_identifiers": shared,
        "cluster_id": cluster_id,
        "listing_total": listing_total or 0,
        "listings": [dict(r._mapping) for r in listings],
        "posts": [{"id": r.id, "thread_id": r.thread_id, "thread": r.title, "posted_at": r.posted_at,
                   "text": r.text if len(r.text) <= 300 else r.text[:300] + "…"} for r in posts],
    }


def cluster_list(session: Session, page: int = 1, size: int = 50, min_size: int = 2) -> dict:
    """Clusters of at least `min_size` accounts (default: the ones linking accounts; single accounts are
    most clusters and rarely what an investigator looks for), largest and least certain first."""
    everything = session.scalar(select(func.count()).select_from(VendorCluster)) or 0
    total = session.scalar(select(func.count()).select_from(VendorCluster)
                           .where(VendorCluster.size >= min_size)) or 0
    clusters = list(session.scalars(select(VendorCluster).where(VendorCluster.size >= min_size)
                                    .order_by(VendorCluster.size.desc(), VendorCluster.confidence, VendorCluster.id)
                                    .limit(size).offset((page - 1) * size)))
    ids = [c.id for c in clusters]
    members: dict[str, list[dict]] = {i: [] for i in ids}
    if ids:
        for cid, handle, slug in session.execute(
                select(ClusterMember.cluster_id, VendorAccount.handle, Site.slug)
                .join(VendorAccount, VendorAccount.id == ClusterMember.account_id)
                .join(Site, Site.id == VendorAccount.site_id).where(ClusterMember.cluster_id.in_(ids))
                .order_by(Site.slug, VendorAccount.handle)):
            members[cid].append({"handle": handle, "site": slug})
    undecided = {}
    if ids:
        a_member = select(ClusterMember.cluster_id, ClusterMember.account_id).subquery()
        for cid, n in session.execute(
                select(a_member.c.cluster_id, func.count()).join(ClusterLink, ClusterLink.account_a_id ==
                                                                 a_member.c.account_id)
                .where(a_member.c.cluster_id.in_(ids), ClusterLink.decision.is_(None))
                .group_by(a_member.c.cluster_id)):
            undecided[cid] = n
    return {"total": total, "all_clusters": everything, "min_size": min_size, "page": page,
            "pages": max(1, -(-total // size)), "clusters": [
        {"id": c.id, "size": c.size, "confidence": c.confidence, "updated_at": c.updated_at,
         "members": members[c.id], "undecided_links": undecided.get(c.id, 0)} for c in clusters]}


def _link_dict(link: ClusterLink, accounts: dict[int, dict], member_ids: set[int]) -> dict:
    return {"id": link.id, "a": accounts[link.account_a_id], "b": accounts[link.account_b_id],
            "score": link.score, "evidence": link.evidence or {}, "sentence": link.sentence,
            "decision": link.decision, "decided_by": link.decided_by, "decided_at": link.decided_at,
            "internal": link.account_a_id in member_ids and link.account_b_id in member_ids}


def cluster_detail(session: Session, cluster_id: str) -> dict:
    cluster = session.get(VendorCluster, cluster_id)
    if cluster is None:
        raise HTTPException(404, f"no vendor cluster {cluster_id!r}; the cluster list shows current ids")
    member_ids = set(session.scalars(select(ClusterMember.account_id).where(ClusterMember.cluster_id == cluster.id)))
    links = list(session.scalars(select(ClusterLink).where(
        or_(ClusterLink.account_a_id.in_(member_ids), ClusterLink.account_b_id.in_(member_ids)))
        .order_by(ClusterLink.score.desc(), ClusterLink.id)))
    account_ids = member_ids | {link.account_a_id for link in links} | {link.account_b_id for link in links}
    accounts = {}
    for account, site in session.execute(select(VendorAccount, Site).join(Site, Site.id == VendorAccount.site_id)
                                         .where(VendorAccount.id.in_(account_ids))):
        accounts[account.id] = _account_dict(account, site)
    counts = dict(session.execute(select(Listing.vendor_account_id, func.count())
                                  .where(Listing.vendor_account_id.in_(member_ids))
                                  .group_by(Listing.vendor_account_id)).all())
    identifiers: dict[int, list[dict]] = {i: [] for i in member_ids}
    for ident in session.scalars(select(VendorIdentifier).where(VendorIdentifier.account_id.in_(member_ids))
                                 .order_by(VendorIdentifier.kind, VendorIdentifier.value)):
        identifiers[ident.account_id].append({"kind": ident.kind, "value": ident.value})
    members = sorted(({**accounts[i], "listings": counts.get(i, 0), "identifiers": identifiers[i]}
                      for i in member_ids if i in accounts), key=lambda m: (m["site"], m["handle"].lower()))
    feedback = list(session.scalars(select(ClusterFeedback).where(or_(
        ClusterFeedback.account_a_id.in_(member_ids), ClusterFeedback.account_b_id.in_(member_ids)))
        .order_by(ClusterFeedback.at.desc(), ClusterFeedback.id.desc()).limit(100)))
    link_dicts = [_link_dict(link, accounts, member_ids) for link in links]
    return {
        "cluster": {"id": cluster.id, "size": cluster.size, "confidence": cluster.confidence,
                    "updated_at": cluster.updated_at},
        "members": members,
        "sites": sorted({m["site"] for m in members}),
        "links": [d for d in link_dicts if d["internal"]],
        "outside_links": [d for d in link_dicts if not d["internal"]],
        "feedback": [{"kind": f.kind, "a": accounts.get(f.account_a_id, {"id": f.account_a_id}),
                      "b": accounts.get(f.account_b_id, {"id": f.account_b_id}), "who": f.who, "at": f.at,
                      "note": f.note} for f in feedback],
    }


def thread_detail(session: Session, thread_id: int) -> dict:
    thread = session.get(Thread, thread_id)
    if thread is None:
        raise HTTPException(404, f"no thread {thread_id}")
    site = session.get(Site, thread.site_id)
    posts = list(session.scalars(select(Post).where(Post.thread_id == thread.id)
                                 .order_by(Post.posted_at, Post.id).limit(500)))
    return {"thread": {"id": thread.id, "site": site.slug, "board": thread.board, "title": thread.title,
                       "url": thread.url, "first_seen": thread.first_seen, "last_seen": thread.last_seen},
            "posts": [{"id": p.id, "author": p.author, "author_account_id": p.author_account_id,
                       "posted_at": p.posted_at, "text": p.text, "signature": p.signature, "lang": p.lang,
                       "category": p.category, "substances": p.substances or [],
                       "trade_relevance": p.trade_relevance} for p in posts]}


def run_of_page(session: Session, page_id: int) -> tuple[Page, CrawlRun | None]:
    page = session.get(Page, page_id)
    if page is None:
        raise HTTPException(404, f"no stored page {page_id}")
    return page, session.get(CrawlRun, page.crawl_run_id)
