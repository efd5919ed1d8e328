"""What commands share: the migrated database and the evidence store, with user-facing errors."""

from __future__ import annotations

import click
from sqlalchemy import Engine

from narcowatch import settings
from storage.db import DatabaseError, default_engine, require_schema
from storage.evidence import EvidenceStore


def database() -> Engine:
    """The configured database, refusing an unmigrated one with the command that fixes it."""
    try:
        engine = default_engine()
        require_schema(engine)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc
    return engine


def evidence_store() -> EvidenceStore:
    return EvidenceStore(settings.evidence_dir())
