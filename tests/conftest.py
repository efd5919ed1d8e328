"""Shared fixtures. Storage tests run on SQLite and, when NARCOWATCH_TEST_DATABASE_URL is set, on
PostgreSQL too; a set but unreachable server fails the tests instead of skipping them."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PG_URL = os.environ.get("NARCOWATCH_TEST_DATABASE_URL") or None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "shared_data" in item.keywords and not SHARED_DATA.exists():
            item.add_marker(pytest.mark.skip(reason=f"{SHARED_DATA} is not present on this machine"))


def _backends() -> list:
    params = ["sqlite"]
    params.append(pytest.param("postgresql", marks=pytest.mark.postgres) if PG_URL else
                  pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.skip(
                      reason="NARCOWATCH_TEST_DATABASE_URL is not set")]))
    return params


@pytest.fixture(params=_backends())
def db_url(request, tmp_path):
    """A fresh, empty database URL: a SQLite file, or a private schema in the test PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'narcowatch.db'}"
        return
    schema = f"nw_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # set but unreachable: a failure, never a skip
        pytest.fail(f"NARCOWATCH_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url):
    """A migrated database."""
    from storage.db import make_engine
    from storage.migrate import upgrade

    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine):
    from sqlalchemy.orm import Session

    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def evidence(tmp_path):
    from storage.evidence import EvidenceStore

    return EvidenceStore(tmp_path / "evidence")


@pytest.fixture
def nw_home(tmp_path, monkeypatch):
    """An isolated NARCOWATCH_HOME with the default (SQLite) database."""
    home = tmp_path / "home"
    monkeypatch.setenv("NARCOWATCH_HOME", str(home))
    monkeypatch.delenv("NARCOWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("NARCOWATCH_EVIDENCE_DIR", raising=False)
    from storage.db import engine_for

    engine_for.cache_clear()
    return home
