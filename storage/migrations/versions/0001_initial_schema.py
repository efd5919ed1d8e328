"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 10:59:28.383024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("remote_addr", sa.String(length=100), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "case_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_ref", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_holds")),
    )
    with op.batch_alter_table("case_holds", schema=None) as batch_op:
        batch_op.create_index("ix_case_holds_kind_target", ["kind", "target_id"], unique=False)

    op.create_table(
        "roles",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_roles")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("is_onion", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("slug", name=op.f("uq_sites_slug")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "vendor_clusters",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("updated_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_clusters")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivery_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_alerts_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("started_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("resumed_count", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("listings_new", sa.Integer(), nullable=False),
        sa.Column("listings_changed", sa.Integer(), nullable=False),
        sa.Column("listings_gone", sa.Integer(), nullable=False),
        sa.Column(
            "stats",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_crawl_runs_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_runs")),
    )
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crawl_runs_site_id"), ["site_id"], unique=False)

    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("cron", sa.String(length=100), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("jitter_seconds", sa.Integer(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_schedules_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("name", name=op.f("uq_schedules_name")),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(["role"], ["roles.name"], name=op.f("fk_user_roles_role_roles")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "crawl_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crawl_run_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"], ["crawl_runs.id"], name=op.f("fk_crawl_errors_crawl_run_id_crawl_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_errors")),
    )
    with op.batch_alter_table("crawl_errors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crawl_errors_crawl_run_id"), ["crawl_run_id"], unique=False)

    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("started_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column(
            "stats",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"], ["crawl_runs.id"], name=op.f("fk_job_runs_crawl_run_id_crawl_runs")
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["schedules.id"], name=op.f("fk_job_runs_schedule_id_schedules")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_job_runs_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_runs_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_runs_schedule_id"), ["schedule_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_runs_site_id"), ["site_id"], unique=False)

    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crawl_run_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("fetched_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("warc_path", sa.Text(), nullable=False),
        sa.Column("warc_offset", sa.Integer(), nullable=False),
        sa.Column("warc_length", sa.Integer(), nullable=False),
        sa.Column("screenshot_sha256", sa.String(length=64), nullable=True),
        sa.Column("fetch_mode", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"], ["crawl_runs.id"], name=op.f("fk_pages_crawl_run_id_crawl_runs")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_pages_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
        sa.UniqueConstraint("crawl_run_id", "url", name=op.f("uq_pages_crawl_run_id_url")),
    )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pages_crawl_run_id"), ["crawl_run_id"], unique=False)
        batch_op.create_index("ix_pages_sha256", ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_pages_site_id"), ["site_id"], unique=False)

    op.create_table(
        "warc_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crawl_run_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sealed_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"], ["crawl_runs.id"], name=op.f("fk_warc_files_crawl_run_id_crawl_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warc_files")),
        sa.UniqueConstraint("path", name=op.f("uq_warc_files_path")),
    )
    with op.batch_alter_table("warc_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_warc_files_crawl_run_id"), ["crawl_run_id"], unique=False)

    op.create_table(
        "threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("board", sa.String(length=300), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("first_seen", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_threads_page_id_pages")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_threads_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threads")),
        sa.UniqueConstraint("site_id", "external_id", name=op.f("uq_threads_site_id_external_id")),
    )
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_threads_site_id"), ["site_id"], unique=False)

    op.create_table(
        "vendor_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("first_seen", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column(
            "profile",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_vendor_accounts_page_id_pages")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_vendor_accounts_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_accounts")),
        sa.UniqueConstraint("site_id", "handle", name=op.f("uq_vendor_accounts_site_id_handle")),
    )
    with op.batch_alter_table("vendor_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vendor_accounts_site_id"), ["site_id"], unique=False)

    op.create_table(
        "cluster_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("account_a_id", sa.Integer(), nullable=True),
        sa.Column("account_b_id", sa.Integer(), nullable=True),
        sa.Column(
            "members",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("who", sa.String(length=200), nullable=False),
        sa.Column("at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_a_id"],
            ["vendor_accounts.id"],
            name=op.f("fk_cluster_feedback_account_a_id_vendor_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["account_b_id"],
            ["vendor_accounts.id"],
            name=op.f("fk_cluster_feedback_account_b_id_vendor_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_feedback")),
    )
    op.create_table(
        "cluster_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_a_id", sa.Integer(), nullable=False),
        sa.Column("account_b_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("account_a_id < account_b_id", name=op.f("ck_cluster_links_ordered_pair")),
        sa.ForeignKeyConstraint(
            ["account_a_id"],
            ["vendor_accounts.id"],
            name=op.f("fk_cluster_links_account_a_id_vendor_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["account_b_id"],
            ["vendor_accounts.id"],
            name=op.f("fk_cluster_links_account_b_id_vendor_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_links")),
        sa.UniqueConstraint(
            "account_a_id", "account_b_id", name=op.f("uq_cluster_links_account_a_id_account_b_id")
        ),
    )
    with op.batch_alter_table("cluster_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cluster_links_account_a_id"), ["account_a_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cluster_links_account_b_id"), ["account_b_id"], unique=False)

    op.create_table(
        "cluster_members",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["vendor_accounts.id"], name=op.f("fk_cluster_members_account_id_vendor_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["vendor_clusters.id"],
            name=op.f("fk_cluster_members_cluster_id_vendor_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_cluster_members")),
    )
    with op.batch_alter_table("cluster_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cluster_members_cluster_id"), ["cluster_id"], unique=False)

    op.create_table(
        "listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("price", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("currency", sa.String(length=10), nullable=True),
        sa.Column(
            "price_options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("quantity", sa.Double(), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column("price_per_unit", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("price_usd", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("ships_from", sa.String(length=20), nullable=True),
        sa.Column(
            "ships_to",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=30), nullable=True),
        sa.Column(
            "category_scores",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column(
            "substances",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "analysis",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("vendor_account_id", sa.Integer(), nullable=True),
        sa.Column("first_seen", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("last_crawl_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["last_crawl_run_id"], ["crawl_runs.id"], name=op.f("fk_listings_last_crawl_run_id_crawl_runs")
        ),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_listings_page_id_pages")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_listings_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["vendor_account_id"],
            ["vendor_accounts.id"],
            name=op.f("fk_listings_vendor_account_id_vendor_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        sa.UniqueConstraint("site_id", "external_id", name=op.f("uq_listings_site_id_external_id")),
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index("ix_listings_category_last_seen", ["category", "last_seen"], unique=False)
        batch_op.create_index(batch_op.f("ix_listings_last_seen"), ["last_seen"], unique=False)
        batch_op.create_index("ix_listings_price_per_unit", ["price_per_unit"], unique=False)
        batch_op.create_index("ix_listings_ships_from", ["ships_from"], unique=False)
        batch_op.create_index(batch_op.f("ix_listings_site_id"), ["site_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_listings_vendor_account_id"), ["vendor_account_id"], unique=False
        )

    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_account_id", sa.Integer(), nullable=True),
        sa.Column("posted_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lang", sa.String(length=10), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "quotes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("trade_relevance", sa.Double(), nullable=True),
        sa.Column("category", sa.String(length=30), nullable=True),
        sa.Column(
            "substances",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "analysis",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("first_seen", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_account_id"],
            ["vendor_accounts.id"],
            name=op.f("fk_posts_author_account_id_vendor_accounts"),
        ),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_posts_page_id_pages")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_posts_site_id_sites")),
        sa.ForeignKeyConstraint(["thread_id"], ["threads.id"], name=op.f("fk_posts_thread_id_threads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
        sa.UniqueConstraint("site_id", "external_id", name=op.f("uq_posts_site_id_external_id")),
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posts_author"), ["author"], unique=False)
        batch_op.create_index(batch_op.f("ix_posts_posted_at"), ["posted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_posts_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_posts_thread_id"), ["thread_id"], unique=False)

    op.create_table(
        "vendor_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("first_seen", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["vendor_accounts.id"],
            name=op.f("fk_vendor_identifiers_account_id_vendor_accounts"),
        ),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_vendor_identifiers_page_id_pages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_identifiers")),
        sa.UniqueConstraint(
            "account_id", "kind", "value", name=op.f("uq_vendor_identifiers_account_id_kind_value")
        ),
    )
    with op.batch_alter_table("vendor_identifiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vendor_identifiers_account_id"), ["account_id"], unique=False)
        batch_op.create_index("ix_vendor_identifiers_kind_value", ["kind", "value"], unique=False)

    op.create_table(
        "listing_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("observed_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("price", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("currency", sa.String(length=10), nullable=True),
        sa.Column("price_per_unit", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("ships_from", sa.String(length=20), nullable=True),
        sa.Column(
            "ships_to",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"], ["crawl_runs.id"], name=op.f("fk_listing_snapshots_crawl_run_id_crawl_runs")
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_listing_snapshots_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_listing_snapshots_page_id_pages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_snapshots")),
        sa.UniqueConstraint(
            "listing_id", "crawl_run_id", name=op.f("uq_listing_snapshots_listing_id_crawl_run_id")
        ),
    )
    with op.batch_alter_table("listing_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listing_snapshots_listing_id"), ["listing_id"], unique=False)

    op.create_table(
        "listing_substances",
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("substance", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_listing_substances_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("listing_id", "substance", name=op.f("pk_listing_substances")),
    )
    with op.batch_alter_table("listing_substances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listing_substances_substance"), ["substance"], unique=False)

    _create_search(op.get_bind().dialect.name)
    roles = sa.table("roles", sa.column("name", sa.String), sa.column("description", sa.Text))
    op.bulk_insert(
        roles,
        [
            {"name": "admin", "description": "manages users, reads the audit log, everything else"},
            {"name": "cyber_unit", "description": "adds sites, schedules and runs crawls"},
            {
                "name": "investigator",
                "description": "searches, views vendors and clusters, gives link feedback",
            },
            {"name": "drug_desk", "description": "reads and exports weekly reports"},
        ],
    )


# Full-text search: FTS5 external-content tables kept in step by triggers on SQLite; generated tsvector
# columns with GIN indexes on PostgreSQL. 'simple' configuration: the text is multilingual slang, where
# stemming for one language does more harm than good.
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE listings_fts USING fts5(title, description, content='listings', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER listings_fts_ai AFTER INSERT ON listings BEGIN "
    "INSERT INTO listings_fts(rowid, title, description) VALUES (new.id, new.title, new.description); END",
    "CREATE TRIGGER listings_fts_ad AFTER DELETE ON listings BEGIN "
    "INSERT INTO listings_fts(listings_fts, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); END",
    "CREATE TRIGGER listings_fts_au AFTER UPDATE OF title, description ON listings BEGIN "
    "INSERT INTO listings_fts(listings_fts, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); "
    "INSERT INTO listings_fts(rowid, title, description) VALUES (new.id, new.title, new.description); END",
    "CREATE VIRTUAL TABLE posts_fts USING fts5(text, content='posts', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER posts_fts_ai AFTER INSERT ON posts BEGIN "
    "INSERT INTO posts_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER posts_fts_ad AFTER DELETE ON posts BEGIN "
    "INSERT INTO posts_fts(posts_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER posts_fts_au AFTER UPDATE OF text ON posts BEGIN "
    "INSERT INTO posts_fts(posts_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO posts_fts(rowid, text) VALUES (new.id, new.text); END",
]
# translate() is immutable (unaccent() is not, and needs an extension): fold Latin accents so "cocaïne"
# finds "cocaine", as FTS5's remove_diacritics does on SQLite. Query words are folded the same way.
ACCENTED = "àáâãäåāçćčèéêëēęìíîïīłñńòóôõöøōùúûüūýÿžźżšś"
PLAIN = "aaaaaaaccceeeeeeiiiiilnnooooooouuuuuyyzzzss"
_FOLDED = "translate(lower({expr}), '" + ACCENTED + "', '" + PLAIN + "')"
POSTGRES_SEARCH = [
    "ALTER TABLE listings ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple', " + _FOLDED.format(expr="coalesce(title, '') || ' ' || coalesce(description, '')")
    + ")) STORED",
    "CREATE INDEX ix_listings_search_vector ON listings USING GIN (search_vector)",
    "ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple', " + _FOLDED.format(expr="coalesce(text, '')") + ")) STORED",
    "CREATE INDEX ix_posts_search_vector ON posts USING GIN (search_vector)",
]


def _create_search(dialect: str) -> None:
    for statement in SQLITE_SEARCH if dialect == "sqlite" else POSTGRES_SEARCH:
        op.execute(statement)


def _drop_search(dialect: str) -> None:
    if dialect == "sqlite":
        for name in ("listings_fts", "posts_fts"):
            op.execute(f"DROP TABLE IF EXISTS {name}")


def downgrade() -> None:
    _drop_search(op.get_bind().dialect.name)

    with op.batch_alter_table("listing_substances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listing_substances_substance"))

    op.drop_table("listing_substances")
    with op.batch_alter_table("listing_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listing_snapshots_listing_id"))

    op.drop_table("listing_snapshots")
    with op.batch_alter_table("vendor_identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_vendor_identifiers_kind_value")
        batch_op.drop_index(batch_op.f("ix_vendor_identifiers_account_id"))

    op.drop_table("vendor_identifiers")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posts_thread_id"))
        batch_op.drop_index(batch_op.f("ix_posts_site_id"))
        batch_op.drop_index(batch_op.f("ix_posts_posted_at"))
        batch_op.drop_index(batch_op.f("ix_posts_author"))

    op.drop_table("posts")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listings_vendor_account_id"))
        batch_op.drop_index(batch_op.f("ix_listings_site_id"))
        batch_op.drop_index("ix_listings_ships_from")
        batch_op.drop_index("ix_listings_price_per_unit")
        batch_op.drop_index(batch_op.f("ix_listings_last_seen"))
        batch_op.drop_index("ix_listings_category_last_seen")

    op.drop_table("listings")
    with op.batch_alter_table("cluster_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cluster_members_cluster_id"))

    op.drop_table("cluster_members")
    with op.batch_alter_table("cluster_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cluster_links_account_b_id"))
        batch_op.drop_index(batch_op.f("ix_cluster_links_account_a_id"))

    op.drop_table("cluster_links")
    op.drop_table("cluster_feedback")
    with op.batch_alter_table("vendor_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_accounts_site_id"))

    op.drop_table("vendor_accounts")
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_threads_site_id"))

    op.drop_table("threads")
    with op.batch_alter_table("warc_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_warc_files_crawl_run_id"))

    op.drop_table("warc_files")
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pages_site_id"))
        batch_op.drop_index("ix_pages_sha256")
        batch_op.drop_index(batch_op.f("ix_pages_crawl_run_id"))

    op.drop_table("pages")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_runs_site_id"))
        batch_op.drop_index(batch_op.f("ix_job_runs_schedule_id"))

    op.drop_table("job_runs")
    with op.batch_alter_table("crawl_errors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crawl_errors_crawl_run_id"))

    op.drop_table("crawl_errors")
    op.drop_table("user_roles")
    op.drop_table("schedules")
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crawl_runs_site_id"))

    op.drop_table("crawl_runs")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("alerts")
    op.drop_table("vendor_clusters")
    op.drop_table("users")
    op.drop_table("sites")
    op.drop_table("roles")
    op.drop_table("case_holds")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
