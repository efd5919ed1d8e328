"""What lives outside the ORM models, for Alembic's comparisons: full-text tables, columns and indexes
(raw SQL in migrations) and APScheduler's job store."""

from __future__ import annotations

UNMANAGED_TABLE_PREFIXES = ("listings_fts", "posts_fts", "apscheduler_")
UNMANAGED_NAMES = {"search_vector", "ix_listings_search_vector", "ix_posts_search_vector", "ix_listings_search_prefixes",
                  "ix_listings_search_terms"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and name and name.startswith(UNMANAGED_TABLE_PREFIXES):
        return False
    return name not in UNMANAGED_NAMES
