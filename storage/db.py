"""Engines and sessions. SQLite by default (WAL, foreign keys on), PostgreSQL via NARCOWATCH_DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from narcowatch import settings


class DatabaseError(RuntimeError):
    """A database problem a user can act on; the message says what to do."""


class SchemaNotMigrated(DatabaseError):
    pass


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web app read while a crawl writes; busy_timeout rides out short writer overlaps.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str | None = None, **kwargs) -> Engine:
    url = url or settings.database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a user-facing error, not a traceback
                raise DatabaseError(f"cannot create the folder of the SQLite database {parsed.database}: "
                                    f"{exc.strerror}; check NARCOWATCH_HOME or NARCOWATCH_DATABASE_URL") from exc
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def default_engine() -> Engine:
    return engine_for(settings.database_url())


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error (nothing half-stored)."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def describe(engine: Engine) -> str:
    """The URL without its password, safe for logs and messages."""
    return engine.url.render_as_string(hide_password=True)


def require_schema(engine: Engine) -> None:
    """Refuse to work on a database that is not migrated to the code's head revision."""
    from storage.migrate import current_revision, head_revision

    try:
        current = current_revision(engine)
    except Exception as exc:  # unreachable server, bad URL, locked file
        raise DatabaseError(f"cannot open the database {describe(engine)}: {exc}") from exc
    head = head_revision()
    if current is None:
        raise SchemaNotMigrated(
            f"the database {describe(engine)} has no narcowatch schema yet; run `narcowatch db upgrade`"
        )
    if current != head:
        raise SchemaNotMigrated(
            f"the database {describe(engine)} is at schema revision {current}, this narcowatch needs {head}; "
            "run `narcowatch db upgrade`"
        )


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
