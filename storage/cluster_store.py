"""Vendor clustering over the database: stored accounts in, clusters and explained links out.

The clustering itself (`classifiers.vendors.cluster_accounts`) is a pure function over records; this module
is the only place that moves records between it and SQL:

1. `load_accounts` reads every VendorAccount with its VendorIdentifier rows, the titles, substances and
   ships-from of its listings, its profile (terms, ships_from, "also on" handles) and, for forum accounts
   linked to posts, the signatures and identifiers found in those posts and the titles of the threads
   they opened. Clustering ids are the natural
   key "site_slug:handle", so cluster ids do not depend on database row ids.
2. `load_feedback` replays the append-only ClusterFeedback table (what the web app writes on confirm and
   reject, and what `add_feedback` writes for merge and split) as clustering constraints, with who and when.
3. `write_result` stores VendorCluster / ClusterMember / ClusterLink rows idempotently: a second run over
   the same data changes nothing; links are upserted on their ordered account pair, so an investigator's
   decision on a link (decision, decided_by, decided_at) is never lost; links that no clustering run
   proposes any more are deleted only when nobody decided on them.

`recluster(session)` does the three in one transaction (the caller's session).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from classifiers.vendors import Account, ClusterResult, Feedback, RecordError, cluster_accounts
from storage.models import (
    ClusterFeedback,
    ClusterLink,
    ClusterMember,
    Listing,
    Post,
    Site,
    Thread,
    VendorAccount,
    VendorCluster,
    VendorIdentifier,
    utcnow,
)

log = logging.getLogger(__name__)

PGP_KINDS = frozenset({"pgp", "pgp_fingerprint", "fingerprint"})
WALLET_KINDS = frozenset({"btc", "xmr", "eth", "ltc", "wallet", "bitcoin", "monero"})
# Everything else (email, telegram, session, threema, wickr, jabber, signal, ...) is a contact handle.
_BATCH = 5000


@dataclass(slots=True)
class StoreSummary:
    """What one `recluster` run did, for the CLI and the logs."""

    accounts: int = 0
    clusters: int = 0
    multi_account_clusters: int = 0
    links: int = 0
    links_inserted: int = 0
    links_updated: int = 0
    links_deleted: int = 0
    clusters_inserted: int = 0
    clusters_updated: int = 0
    clusters_deleted: int = 0
    members_changed: int = 0
    feedback: int = 0
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


def account_key(site_slug: str, handle: str) -> str:
    return f"{site_slug}:{handle}"


def load_accounts(session: Session) -> tuple[list[Account], dict[str, int]]:
    """(clustering input, natural key -> VendorAccount.id) for every stored vendor account."""
    rows = session.execute(select(VendorAccount.id, VendorAccount.handle, VendorAccount.profile, Site.slug)
                           .join(Site, Site.id == VendorAccount.site_id).order_by(VendorAccount.id)).all()
    pgp: dict[int, set[str]] = defaultdict(set)
    wallets: dict[int, set[str]] = defaultdict(set)
    contacts: dict[int, set[str]] = defaultdict(set)
    for account_id, kind, value in session.execute(
            select(VendorIdentifier.account_id, VendorIdentifier.kind, VendorIdentifier.value)):
        _add_identifier(account_id, kind, value, pgp, wallets, contacts)
    titles: dict[int, list[str]] = defaultdict(list)
    products: dict[int, set[str]] = defaultdict(set)
    origins: dict[int, set[str]] = defaultdict(set)
    for account_id, title, substances, ships_from in session.execute(
            select(Listing.vendor_account_id, Listing.title, Listing.substances, Listing.ships_from)
            .where(Listing.vendor_account_id.is_not(None)).order_by(Listing.id)):
        if title:
            titles[account_id].append(title)
        for substance in substances or ():
            if isinstance(substance, str) and substance:
                products[account_id].add(substance)
        if ships_from:
            origins[account_id].add(ships_from)
    # a forum account's "titles" are those of the threads it opened (the author of a thread's first post),
    # as a market account's are its listings': an advert thread is titled like the listing, and two members
    # who open threads about different products get "no product in common"
    opener: dict[int, int | None] = {}
    for thread_id, account_id in session.execute(
            select(Post.thread_id, Post.author_account_id).where(Post.author_account_id.is_not(None))
            .order_by(Post.thread_id, Post.posted_at.is_(None), Post.posted_at, Post.id)):
        opener.setdefault(thread_id, account_id)
    if opener:
        for thread_id, title in session.execute(select(Thread.id, Thread.title).order_by(Thread.id)):
            account_id = opener.get(thread_id)
            if account_id is not None and title:
                titles[account_id].append(title)
    signatures: dict[int, list[str]] = defaultdict(list)
    for account_id, signature, analysis in session.execute(
            select(Post.author_account_id, Post.signature, Post.analysis)
            .where(Post.author_account_id.is_not(None)).order_by(Post.id)):
        if signature and signature not in signatures[account_id]:
            signatures[account_id].append(signature)
        for item in (analysis or {}).get("identifiers") or ():
            if isinstance(item, dict) and item.get("kind") and item.get("value"):
                _add_identifier(account_id, str(item["kind"]), str(item["value"]), pgp, wallets, contacts)

    accounts: list[Account] = []
    ids: dict[str, int] = {}
    for db_id, handle, profile, slug in rows:
        key = account_key(slug, handle)
        profile = profile if isinstance(profile, dict) else {}
        ships = set(origins.get(db_id, ()))
        if isinstance(profile.get("ships_from"), str) and profile["ships_from"].strip():
            ships.add(profile["ships_from"].strip())
        text = " ".join(x for x in [_text(profile.get("terms")), *signatures.get(db_id, [])] if x)
        mentions = profile.get("mentions") or profile.get("also_on") or []
        try:
            accounts.append(Account.from_dict({
                "account_id": key, "site": slug, "handle": handle,
                "pgp_fingerprints": sorted(pgp.get(db_id, ())), "wallets": sorted(wallets.get(db_id, ())),
                "contacts": sorted(contacts.get(db_id, ())), "ships_from": sorted(ships),
                "titles": titles.get(db_id, []), "profile": text, "products": sorted(products.get(db_id, ())),
                "mentions": _mention_handles(mentions)}))
        except RecordError as exc:  # a stored row the clustering cannot read: say which one
            raise RecordError(f"vendor account {db_id} ({key}): {exc}") from exc
        ids[key] = db_id
    return accounts, ids


def _add_identifier(account_id: int, kind: str, value: str, pgp: dict, wallets: dict, contacts: dict) -> None:
    kind = kind.strip().lower()
    value = value.strip()
    if not value:
        return
    if kind in PGP_KINDS:
        pgp[account_id].add(value)
    elif kind in WALLET_KINDS:
        wallets[account_id].add(value)
    else:
        contacts[account_id].add(f"{kind}:{value}")


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _mention_handles(value: Any) -> list[str | dict]:
    """A profile's "also on" field: handles, or {"site", "handle"} objects (scoped to that site)."""
    if isinstance(value, str):
        return [value]
    out: list[str | dict] = []
    for item in value if isinstance(value, list) else ():
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("handle"), str) and item["handle"].strip():
            site = item.get("site")
            out.append({"site": site, "handle": item["handle"]} if isinstance(site, str) and site
                       else item["handle"])
    return out


def load_feedback(session: Session, ids: dict[str, int]) -> list[Feedback]:
    """Every stored decision as clustering feedback (oldest first; the latest on a pair wins).

    `members` of a merge is a list of VendorAccount ids; of a split, two lists (one per side)."""
    key_of = {db_id: key for key, db_id in ids.items()}

    def name(db_id: Any) -> str:
        # An account that no longer exists keeps a name the clustering reports as unknown.
        return key_of.get(db_id, f"#missing-account-{db_id}") if db_id is not None else ""

    out: list[Feedback] = []
    for fb in session.scalars(select(ClusterFeedback).order_by(ClusterFeedback.at, ClusterFeedback.id)):
        members: list = fb.members or []
        kw: dict[str, Any] = {}
        if fb.kind in ("confirm", "reject"):
            kw = {"account_a": name(fb.account_a_id), "account_b": name(fb.account_b_id)}
        elif fb.kind == "merge":
            kw = {"members": tuple(name(m) for m in members)}
        elif fb.kind == "split":
            sides = members if len(members) == 2 and all(isinstance(s, list) for s in members) else None
            if sides is None and fb.account_a_id is not None and fb.account_b_id is not None:
                sides = [[fb.account_a_id], [fb.account_b_id]]
            if sides is None:
                raise RecordError(f"cluster feedback {fb.id} (split by {fb.who}): 'members' must be two "
                                  "lists of account ids, one per side")
            kw = {"members": tuple(name(m) for m in sides[0]), "others": tuple(name(m) for m in sides[1])}
        try:
            out.append(Feedback(kind=fb.kind, who=fb.who, when=fb.at, note=fb.note or "", **kw))
        except RecordError as exc:
            raise RecordError(f"cluster feedback {fb.id}: {exc}") from exc
    return out


def add_feedback(session: Session, kind: str, who: str, *, account_a: int | None = None,
                 account_b: int | None = None, members: Sequence[int] = (), others: Sequence[int] = (),
                 note: str = "", at: datetime | None = None) -> ClusterFeedback:
    """Record one decision the way re-clustering reads it back (confirm/reject as the web app does;
    merge with `members`; split with `members` and `others`). Validated before it is stored."""
    Feedback(kind=kind, who=who, when=at or utcnow(),
             account_a=None if account_a is None else str(account_a),
             account_b=None if account_b is None else str(account_b),
             members=tuple(str(m) for m in members), others=tuple(str(m) for m in others), note=note)
    stored: list | None = None
    if kind == "merge":
        stored = [int(m) for m in members]
    elif kind == "split":
        stored = [[int(m) for m in members], [int(m) for m in others]]
    if at is not None:  # the same decision imported twice is recorded once
        for same in session.scalars(select(ClusterFeedback).where(
                ClusterFeedback.kind == kind, ClusterFeedback.who == who, ClusterFeedback.at == at,
                ClusterFeedback.account_a_id.is_(None) if account_a is None else ClusterFeedback.account_a_id == account_a,
                ClusterFeedback.account_b_id.is_(None) if account_b is None else ClusterFeedback.account_b_id == account_b)):
            if (same.members or None) == stored:
                return same
    row = ClusterFeedback(kind=kind, who=who, at=at or utcnow(), note=note or None, members=stored,
                          account_a_id=account_a, account_b_id=account_b)
    session.add(row)
    if kind in ("confirm", "reject") and account_a is not None and account_b is not None:
        a, b = min(account_a, account_b), max(account_a, account_b)
        session.execute(update(ClusterLink).where(ClusterLink.account_a_id == a, ClusterLink.account_b_id == b)
                        .values(decision="confirmed" if kind == "confirm" else "rejected", decided_by=who,
                                decided_at=row.at))
    session.flush()
    return row


def write_result(session: Session, result: ClusterResult, ids: dict[str, int], feedback: Sequence[Feedback],
                 summary: StoreSummary) -> None:
    """Store clusters, memberships and links; idempotent, and decisions on links are kept."""
    now = utcnow()
    # ---- clusters ----
    existing = {cid: (conf, size) for cid, conf, size in session.execute(
        select(VendorCluster.id, VendorCluster.confidence, VendorCluster.size))}
    wanted = {c.cluster_id: c for c in result.clusters}
    new_rows = [{"id": c.cluster_id, "confidence": c.confidence, "size": len(c.members), "updated_at": now}
                for cid, c in wanted.items() if cid not in existing]
    changed = [{"id": cid, "confidence": c.confidence, "size": len(c.members), "updated_at": now}
               for cid, c in wanted.items() if cid in existing
               and (abs(existing[cid][0] - c.confidence) > 1e-9 or existing[cid][1] != len(c.members))]
    for start in range(0, len(new_rows), _BATCH):
        session.execute(insert(VendorCluster), new_rows[start:start + _BATCH])
    if changed:
        session.execute(update(VendorCluster), changed)
    summary.clusters_inserted, summary.clusters_updated = len(new_rows), len(changed)

    # ---- members ----
    current = dict(session.execute(select(ClusterMember.account_id, ClusterMember.cluster_id)).all())
    target = {ids[m]: c.cluster_id for c in result.clusters for m in c.members}
    add = [{"account_id": a, "cluster_id": c} for a, c in target.items() if a not in current]
    move = [{"account_id": a, "cluster_id": c} for a, c in target.items() if a in current and current[a] != c]
    gone = [a for a in current if a not in target]
    for start in range(0, len(add), _BATCH):
        session.execute(insert(ClusterMember), add[start:start + _BATCH])
    if move:
        session.execute(update(ClusterMember), move)
    for start in range(0, len(gone), _BATCH):
        session.execute(delete(ClusterMember).where(ClusterMember.account_id.in_(gone[start:start + _BATCH])))
    summary.members_changed = len(add) + len(move) + len(gone)
    stale = [cid for cid in existing if cid not in wanted]
    for start in range(0, len(stale), _BATCH):
        session.execute(delete(VendorCluster).where(VendorCluster.id.in_(stale[start:start + _BATCH])))
    summary.clusters_deleted = len(stale)

    # ---- links ----
    decided = _latest_decisions(feedback, ids)
    stored = {(a, b): (lid, score, sentence, decision) for lid, a, b, score, sentence, decision in session.execute(
        select(ClusterLink.id, ClusterLink.account_a_id, ClusterLink.account_b_id, ClusterLink.score,
               ClusterLink.sentence, ClusterLink.decision))}
    fresh, refresh = [], []
    seen: set[tuple[int, int]] = set()
    for link in result.links:
        x, y = ids[link.a], ids[link.b]
        pair = (min(x, y), max(x, y))
        if pair in seen:
            continue
        seen.add(pair)
        evidence = {**link.evidence, "status": link.status}
        values: dict[str, Any] = {"score": round(link.score, 6), "evidence": evidence, "sentence": link.sentence}
        fb = decided.get(pair)
        if fb is not None:
            values.update(decision="confirmed" if fb.kind in ("confirm", "merge") else "rejected",
                          decided_by=fb.who, decided_at=fb.when)
        old = stored.get(pair)
        if old is None:
            fresh.append({"account_a_id": pair[0], "account_b_id": pair[1], "updated_at": now, **values})
        elif (abs(old[1] - values["score"]) > 1e-9 or old[2] != link.sentence
              or ("decision" in values and old[3] != values["decision"])):
            refresh.append({"id": old[0], "updated_at": now, **values})
    for start in range(0, len(fresh), _BATCH):
        session.execute(insert(ClusterLink), fresh[start:start + _BATCH])
    if refresh:
        session.execute(update(ClusterLink), refresh)
    # A link no run proposes any more is dropped, unless an investigator decided on it: that is a record.
    obsolete = [old[0] for pair, old in stored.items() if pair not in seen and old[3] is None]
    for start in range(0, len(obsolete), _BATCH):
        session.execute(delete(ClusterLink).where(ClusterLink.id.in_(obsolete[start:start + _BATCH])))
    summary.links, summary.links_inserted = len(seen), len(fresh)
    summary.links_updated, summary.links_deleted = len(refresh), len(obsolete)


def _latest_decisions(feedback: Sequence[Feedback], ids: dict[str, int]) -> dict[tuple[int, int], Feedback]:
    """Ordered pair of account ids -> the latest confirm/reject naming exactly that pair."""
    out: dict[tuple[int, int], Feedback] = {}
    for fb in sorted(feedback, key=lambda f: f.when):
        if fb.kind in ("confirm", "reject") and fb.account_a in ids and fb.account_b in ids:
            x, y = ids[fb.account_a or ""], ids[fb.account_b or ""]
            out[(min(x, y), max(x, y))] = fb
    return out


def recluster(session: Session, workers: int = 2) -> tuple[StoreSummary, ClusterResult]:
    """Load, cluster (respecting every stored decision) and store, in the caller's transaction."""
    accounts, ids = load_accounts(session)
    feedback = load_feedback(session, ids)
    result = cluster_accounts(accounts, feedback, workers=workers)
    summary = StoreSummary(accounts=len(accounts), clusters=len(result.clusters),
                           multi_account_clusters=sum(1 for c in result.clusters if len(c.members) > 1),
                           feedback=len(feedback), warnings=list(result.warnings), stats=dict(result.stats))
    write_result(session, result, ids, feedback, summary)
    session.flush()
    log.info("re-clustered %d stored accounts: %d clusters, %d links (%d new, %d updated, %d deleted)",
             summary.accounts, summary.clusters, summary.links, summary.links_inserted, summary.links_updated,
             summary.links_deleted)
    return summary, result
