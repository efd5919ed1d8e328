"""search: filter indexes that keep "newest first" ordered (origin, site) and a covering substance index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:00:00

A filter-only search (no words) asks for the newest-seen listings of one origin or site. With the filter
column and last_seen in one index (id last, so PostgreSQL answers from the index alone) the search walks
that index backwards and stops after one page, instead of collecting and sorting every match. The composite
indexes replace the single-column ones, which are their prefixes. listing_substances gets (substance,
listing_id) instead of (substance): the listing ids of a substance without reading the table.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index("ix_listings_ships_from_last_seen", ["ships_from", "last_seen", "id"], unique=False)
        batch_op.create_index("ix_listings_site_id_last_seen", ["site_id", "last_seen", "id"], unique=False)
        batch_op.drop_index("ix_listings_ships_from")
        batch_op.drop_index(batch_op.f("ix_listings_site_id"))
    with op.batch_alter_table("listing_substances", schema=None) as batch_op:
        batch_op.create_index("ix_listing_substances_substance_listing_id", ["substance", "listing_id"],
                              unique=False)
        batch_op.drop_index(batch_op.f("ix_listing_substances_substance"))


def downgrade() -> None:
    with op.batch_alter_table("listing_substances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listing_substances_substance"), ["substance"], unique=False)
        batch_op.drop_index("ix_listing_substances_substance_listing_id")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listings_site_id"), ["site_id"], unique=False)
        batch_op.create_index("ix_listings_ships_from", ["ships_from"], unique=False)
        batch_op.drop_index("ix_listings_site_id_last_seen")
        batch_op.drop_index("ix_listings_ships_from_last_seen")
