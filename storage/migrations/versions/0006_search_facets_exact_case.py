"""search: filter facets keep the stored value's case, so a facet matches exactly what its SQL filter matches

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 03:00:00

0005's facets were lower-cased ('§cstimulants' for "Stimulants" as well), so they only narrowed what the index
returned and the SQL filters had to be checked on every candidate row. With each facet spelt as its SQL filter
compares (category as stored, origin and destination codes as stored, compared with the upper-cased filter
value), a search whose filters are all facets is answered by the index alone: its capped count no longer
fetches up to 1,001 rows from the table (PostgreSQL skips the heap for all-visible pages), only the page does.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _search_terms(fold: str) -> str:
    """search_terms() with each facet value passed through `fold` ('lower' in 0005, '' here). A JSON null among
    the destinations gives no facet (0005 failed on it: array_to_tsvector refuses nulls)."""
    return (
        "CREATE FUNCTION search_terms(v tsvector, site integer, category text, origin text, dest jsonb) "
        "RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 10000 AS $$ "
        "SELECT coalesce(search_prefixes(v), ''::tsvector) || array_to_tsvector(ARRAY("
        f"SELECT f FROM (SELECT '§s' || site UNION SELECT '§c' || {fold}(category) "
        f"UNION SELECT '§o' || {fold}(origin) "
        f"UNION SELECT '§d' || {fold}(d) FROM jsonb_array_elements_text("
        "CASE WHEN jsonb_typeof(dest) = 'array' THEN dest ELSE '[]'::jsonb END) AS d "
        f"UNION SELECT '§d' || {fold}(k) FROM jsonb_object_keys("
        "CASE WHEN jsonb_typeof(dest) = 'object' THEN dest ELSE '{}'::jsonb END) AS k "
        f"UNION SELECT '§d' || {fold}(dest #>> '{{}}') WHERE jsonb_typeof(dest) = 'string') AS t(f) "
        "WHERE f IS NOT NULL)) $$")


INDEX = ("CREATE INDEX ix_listings_search_terms ON listings USING GIN "
         "(search_terms(search_vector, site_id, category, ships_from, ships_to))")


def _replace(fold: str) -> None:
    # the index depends on the function: both go, the new function is created, the index built again
    op.execute("DROP INDEX IF EXISTS ix_listings_search_terms")
    op.execute("DROP FUNCTION IF EXISTS search_terms(tsvector, integer, text, text, jsonb)")
    op.execute(_search_terms(fold))
    op.execute(INDEX)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _replace("")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _replace("lower")
