"""Forum threads and posts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Thread(Base):
    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("site_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    board: Mapped[str | None] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"))


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("site_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(200), index=True)
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("vendor_accounts.id"))
    posted_at: Mapped[datetime | None] = mapped_column(index=True)
    lang: Mapped[str | None] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    quotes: Mapped[list | None]
    signature: Mapped[str | None] = mapped_column(Text)
    trade_relevance: Mapped[float | None]
    category: Mapped[str | None] = mapped_column(String(30))
    substances: Mapped[list | None]
    analysis: Mapped[dict | None]
    first_seen: Mapped[datetime]
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"))
