"""`narcowatch db`: create and migrate the database."""

from __future__ import annotations

import click

from narcowatch import settings
from storage.db import DatabaseError, default_engine, describe, require_schema
from storage.migrate import current_revision, head_revision, upgrade


@click.group("db")
def db() -> None:
    """Create, migrate and inspect the database."""


def _engine():
    try:
        return default_engine()
    except DatabaseError as exc:  # e.g. the SQLite folder cannot be created: an error, not a traceback
        raise click.ClickException(str(exc)) from exc


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the data directory and migrate the database to the newest schema."""
    settings.home().mkdir(parents=True, exist_ok=True)
    settings.evidence_dir().mkdir(parents=True, exist_ok=True)
    engine = _engine()
    try:
        before, after = upgrade(engine)
    except Exception as exc:
        raise click.ClickException(f"cannot migrate {describe(engine)}: {exc}") from exc
    if before == after:
        click.echo(f"{describe(engine)} is already at schema revision {after}")
    else:
        click.echo(f"{describe(engine)} migrated from {before or 'empty'} to {after}")


@db.command("status")
def db_status() -> None:
    """Show the database URL, its schema revision and whether it needs an upgrade."""
    engine = _engine()
    try:
        current = current_revision(engine)
    except Exception as exc:
        raise click.ClickException(f"cannot open {describe(engine)}: {exc}") from exc
    click.echo(f"database: {describe(engine)}")
    click.echo(f"revision: {current or 'none'} (code needs {head_revision()})")
    try:
        require_schema(engine)
        click.echo("status: ready")
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc


commands = [db]
