"""Sites with schedules and run history, weekly reports on disk, the audit log, users and tokens."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from fastapi import HTTPException
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import (
    ApiToken,
    AuditLog,
    CrawlError,
    CrawlRun,
    JobRun,
    Listing,
    Schedule,
    Site,
    User,
    UserRole,
)

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")


def _schedule_dict(s: Schedule) -> dict:
    return {"id": s.id, "name": s.name, "kind": s.kind, "cron": s.cron, "interval_seconds": s.interval_seconds,
            "jitter_seconds": s.jitter_seconds, "timeout_seconds": s.timeout_seconds, "paused": s.paused}


def _run_dict(r: CrawlRun) -> dict:
    return {"id": r.id, "started_at": r.started_at, "finished_at": r.finished_at, "status": r.status,
            "reason": r.reason, "resumed_count": r.resumed_count, "pages": r.pages, "items": r.items,
            "errors": r.errors, "listings_new": r.listings_new, "listings_changed": r.listings_changed,
            "listings_gone": r.listings_gone}


def sites_overview(session: Session) -> dict:
    sites = list(session.scalars(select(Site).order_by(Site.slug)))
    schedules: dict[int | None, list[dict]] = {}
    for s in session.scalars(select(Schedule).order_by(Schedule.name)):
        schedules.setdefault(s.site_id, []).append(_schedule_dict(s))
    last_ids = dict(session.execute(select(CrawlRun.site_id, func.max(CrawlRun.id)).group_by(CrawlRun.site_id)).all())
    last_runs = {r.site_id: r for r in session.scalars(select(CrawlRun).where(CrawlRun.id.in_(last_ids.values())))}
    counts = dict(session.execute(select(Listing.site_id, func.count()).where(Listing.active.is_(True))
                                  .group_by(Listing.site_id)).all())
    return {
        "sites": [{"id": s.id, "slug": s.slug, "name": s.name, "kind": s.kind, "base_url": s.base_url,
                   "is_onion": s.is_onion, "schedules": schedules.get(s.id, []),
                   "last_run": _run_dict(last_runs[s.id]) if s.id in last_runs else None,
                   "active_listings": counts.get(s.id, 0)} for s in sites],
        "other_schedules": schedules.get(None, []),
    }


def site_detail(session: Session, site_id: int) -> dict:
    site = session.get(Site, site_id)
    if site is None:
        raise HTTPException(404, f"no site {site_id}")
    runs = list(session.scalars(select(CrawlRun).where(CrawlRun.site_id == site.id)
                                .order_by(CrawlRun.id.desc()).limit(100)))
    jobs = list(session.scalars(select(JobRun).where(JobRun.site_id == site.id).order_by(JobRun.started_at.desc(), JobRun.id.desc())
                                .limit(100)))
    errors = list(session.scalars(select(CrawlError).join(CrawlRun, CrawlRun.id == CrawlError.crawl_run_id)
                                  .where(CrawlRun.site_id == site.id).order_by(CrawlError.id.desc()).limit(50)))
    return {
        "site": {"id": site.id, "slug": site.slug, "name": site.name, "kind": site.kind, "base_url": site.base_url,
                 "is_onion": site.is_onion, "created_at": site.created_at},
        "schedules": [_schedule_dict(s) for s in session.scalars(select(Schedule).where(Schedule.site_id == site.id)
                                                                 .order_by(Schedule.name))],
        "runs": [_run_dict(r) for r in runs],
        "jobs": [{"id": j.id, "schedule_id": j.schedule_id, "kind": j.kind, "crawl_run_id": j.crawl_run_id,
                  "started_at": j.started_at, "finished_at": j.finished_at, "status": j.status,
                  "reason": j.reason} for j in jobs],
        "errors": [{"url": e.url, "at": e.at, "kind": e.kind, "reason": e.reason, "crawl_run_id": e.crawl_run_id}
                   for e in errors],
    }


def _summary(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    # only the top-level figures: the page is an index, the report itself has the detail
    return {str(k): v for k, v in data.items() if isinstance(v, (str, int, float, bool)) or v is None}


def reports_index(root: Path) -> dict:
    weeks = []
    if root.is_dir():
        for folder in sorted((p for p in root.iterdir() if p.is_dir() and SAFE_NAME.match(p.name)),
                             key=lambda p: p.name, reverse=True):
            files = [{"name": f.name, "size": f.stat().st_size,
                      "modified": datetime.fromtimestamp(f.stat().st_mtime, UTC)}
                     for f in sorted(folder.iterdir()) if f.is_file() and SAFE_NAME.match(f.name)]
            weeks.append({"week": folder.name, "files": files, "summary": _summary(folder / "summary.json")})
    return {"reports": weeks}


def report_path(root: Path, week: str, name: str) -> Path:
    """The file, refusing anything that is not a plain name inside the reports folder."""
    if not SAFE_NAME.match(week) or not SAFE_NAME.match(name):
        raise HTTPException(404, "no such report file")
    path = (root / week / name).resolve()
    if root.resolve() not in path.parents or not path.is_file():
        raise HTTPException(404, f"no report file {week}/{name}")
    return path


def audit_page(session: Session, user: str | None, action: str | None, page: int, size: int = 100) -> dict:
    stmt = select(AuditLog)
    if user:
        stmt = stmt.where(AuditLog.username == user)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    entries = list(session.scalars(stmt.order_by(AuditLog.id.desc()).limit(size).offset((page - 1) * size)))
    actions = list(session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))
    return {"total": total, "page": page, "pages": max(1, -(-total // size)), "actions": actions,
            "entries": [{"id": e.id, "at": e.at, "username": e.username, "action": e.action, "target": e.target,
                         "detail": e.detail, "remote_addr": e.remote_addr, "hash": e.hash,
                         "prev_hash": e.prev_hash} for e in entries]}


def users_overview(session: Session) -> dict:
    users = list(session.scalars(select(User).order_by(User.username)))
    roles: dict[int, list[str]] = {}
    for uid, role in session.execute(select(UserRole.user_id, UserRole.role).order_by(UserRole.role)):
        roles.setdefault(uid, []).append(role)
    tokens: dict[int, list[dict]] = {}
    for t in session.scalars(select(ApiToken).order_by(ApiToken.id)):
        tokens.setdefault(t.user_id, []).append({"id": t.id, "name": t.name, "created_at": t.created_at,
                                                 "last_used_at": t.last_used_at, "revoked": t.revoked})
    return {"users": [{"id": u.id, "username": u.username, "active": u.active, "created_at": u.created_at,
                       "roles": roles.get(u.id, []), "tokens": tokens.get(u.id, [])} for u in users]}
