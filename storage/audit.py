"""The audit log: who did what, when, from where; hash-chained so edits and deletions show.

Each entry's `hash` is SHA-256 over its `prev_hash` and the canonical JSON of its fields (at, username,
action, target, detail, remote_addr); the first entry's `prev_hash` is 64 zeros. `verify_chain` recomputes
every hash and checks every link, so an edited entry, a deleted one in the middle or a reordering is
reported. (Cutting entries off the end leaves a valid shorter chain: keep the latest hash elsewhere, e.g.
in the weekly report, to detect that too.)

Appends are serialised per database: PostgreSQL takes a transaction-level advisory lock, SQLite takes the
write lock with a no-op write before reading the last hash, so two concurrent appends never share a
prev_hash. Call `append` early in a transaction (before other writes) on SQLite.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from storage.models import AuditLog, utcnow

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x6E77_6175  # "nwau": any constant shared by every writer of the audit log


def _canonical_time(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, at: datetime, username: str | None, action: str, target: str | None,
               detail: dict | None, remote_addr: str | None) -> str:
    fields = {"at": _canonical_time(at), "username": username, "action": action, "target": target,
              "detail": detail, "remote_addr": remote_addr}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _lock(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    elif dialect == "sqlite":
        # a write statement starts the write transaction (and takes SQLite's single writer lock) now
        session.execute(text("UPDATE audit_log SET id = id WHERE 0"))


def _jsonable(detail: dict | None) -> dict | None:
    # store exactly what was hashed: a JSON round trip turns tuples into lists, Decimals into strings, ...
    return None if detail is None else json.loads(json.dumps(detail, ensure_ascii=False, default=str))


def append(session: Session, username: str | None, action: str, target: str | None = None,
           detail: dict | None = None, remote_addr: str | None = None) -> AuditLog:
    """Add one entry to the chain in the caller's transaction (the caller commits)."""
    _lock(session)
    prev = session.scalar(select(AuditLog.hash).order_by(AuditLog.id.desc()).limit(1)) or GENESIS
    at = utcnow()
    detail = _jsonable(detail)
    entry = AuditLog(at=at, username=username, action=action, target=target, detail=detail,
                     remote_addr=remote_addr, prev_hash=prev,
                     hash=entry_hash(prev, at, username, action, target, detail, remote_addr))
    session.add(entry)
    session.flush()
    return entry


def verify_chain(session: Session, batch: int = 5000) -> list[str]:
    """Every problem found, in order; an empty list means the chain is intact."""
    problems: list[str] = []
    expected_prev, last_id = GENESIS, 0
    while True:
        rows = list(session.scalars(select(AuditLog).where(AuditLog.id > last_id).order_by(AuditLog.id)
                                    .limit(batch)))
        if not rows:
            return problems
        for entry in rows:
            if entry.prev_hash != expected_prev:
                problems.append(f"audit entry {entry.id}: prev_hash {entry.prev_hash[:12]}… does not match the "
                                f"previous entry's hash {expected_prev[:12]}… (an entry before it was deleted, "
                                "inserted or reordered)")
            recomputed = entry_hash(entry.prev_hash, entry.at, entry.username, entry.action, entry.target,
                                    entry.detail, entry.remote_addr)
            if recomputed != entry.hash:
                problems.append(f"audit entry {entry.id} ({entry.action} by {entry.username}): its content no "
                                "longer matches its hash (the entry was edited)")
            expected_prev, last_id = entry.hash, entry.id
