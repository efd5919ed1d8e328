"""search: exact-lexeme prefix index for listings on PostgreSQL

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:45:00

Every search word matches as a prefix. On PostgreSQL a `'word':*` query makes GIN collect every matching
entry's postings into a bitmap, which costs 100-300 ms for three common words at 1M listings. This index
stores each lexeme's prefixes (up to PREFIX_MAX characters) as lexemes of their own, so a prefix becomes an
exact lexeme lookup, which GIN answers from its compressed posting lists (a few ms). The function is
declared expensive so that the planner never evaluates it per row instead of using the index.
The plain GIN index on listings.search_vector goes: matching uses the prefix index, and search_vector stays
as the cheap per-row check for scans in id order (storage/search.py), which that index would otherwise
turn into slow prefix bitmap scans. posts keep theirs.
SQLite is unchanged: FTS5 answers prefix queries from its own index.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PREFIX_MAX = 24  # storage.search.PREFIX_MAX: longer query words add a recheck on search_vector

POSTGRES_UP = [
    "CREATE FUNCTION search_prefixes(v tsvector) RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE "
    "COST 10000 AS $$ SELECT array_to_tsvector(ARRAY(SELECT DISTINCT left(lexeme, n) FROM "
    "unnest(tsvector_to_array(v)) AS lexeme, generate_series(1, least(length(lexeme), "
    f"{PREFIX_MAX})) AS n)) $$",
    "CREATE INDEX ix_listings_search_prefixes ON listings USING GIN (search_prefixes(search_vector))",
    "DROP INDEX ix_listings_search_vector",
]
POSTGRES_DOWN = [
    "CREATE INDEX ix_listings_search_vector ON listings USING GIN (search_vector)",
    "DROP INDEX IF EXISTS ix_listings_search_prefixes",
    "DROP FUNCTION IF EXISTS search_prefixes(tsvector)",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DOWN:
            op.execute(statement)
