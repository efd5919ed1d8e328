"""Sites, crawl runs and the pages they fetched (each page points into the evidence store)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, utcnow


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)  # natural key: the profile's file stem
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # market | forum
    base_url: Mapped[str] = mapped_column(Text)
    is_onion: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    runs: Mapped[list[CrawlRun]] = relationship(back_populates="site")


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # running | finished | failed | interrupted ; a resumed run keeps its id and goes back to running
    status: Mapped[str] = mapped_column(String(20), default="running")
    reason: Mapped[str | None] = mapped_column(Text)
    resumed_count: Mapped[int] = mapped_column(default=0)
    pages: Mapped[int] = mapped_column(default=0)
    items: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    listings_new: Mapped[int] = mapped_column(default=0)
    listings_changed: Mapped[int] = mapped_column(default=0)
    listings_gone: Mapped[int] = mapped_column(default=0)
    stats: Mapped[dict | None]

    site: Mapped[Site] = relationship(back_populates="runs")


class WarcFile(Base):
    """One WARC file of a crawl run; sealed (whole-file SHA-256 recorded) when the run closes it."""

    __tablename__ = "warc_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    crawl_run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    path: Mapped[str] = mapped_column(Text, unique=True)  # relative to the evidence root
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sealed_at: Mapped[datetime | None]
    size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))


class Page(Base):
    """One fetched response. The body lives content-addressed in the evidence store, the full HTTP
    response in a WARC record at (warc_path, warc_offset)."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("crawl_run_id", "url"), Index("ix_pages_sha256", "sha256"))

    id: Mapped[int] = mapped_column(primary_key=True)
    crawl_run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime]
    status: Mapped[int]
    content_type: Mapped[str | None] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    warc_path: Mapped[str] = mapped_column(Text)
    warc_offset: Mapped[int]
    warc_length: Mapped[int]
    screenshot_sha256: Mapped[str | None] = mapped_column(String(64))
    fetch_mode: Mapped[str] = mapped_column(String(20), default="http")  # http | browser


class CrawlError(Base):
    """A request that failed, with its reason (timeouts, caps, refused proxies, bad responses)."""

    __tablename__ = "crawl_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    crawl_run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text)
