"""Vendor clusters, the links between accounts with their evidence, and investigator feedback."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class VendorCluster(Base):
    __tablename__ = "vendor_clusters"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # stable id from the clustering
    confidence: Mapped[float]
    size: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClusterMember(Base):
    __tablename__ = "cluster_members"

    account_id: Mapped[int] = mapped_column(ForeignKey("vendor_accounts.id"), primary_key=True)
    cluster_id: Mapped[str] = mapped_column(ForeignKey("vendor_clusters.id", ondelete="CASCADE"), index=True)


class ClusterLink(Base):
    """A scored link between two accounts (account_a_id < account_b_id) and what an investigator decided."""

    __tablename__ = "cluster_links"
    __table_args__ = (
        UniqueConstraint("account_a_id", "account_b_id"),
        CheckConstraint("account_a_id < account_b_id", name="ordered_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_a_id: Mapped[int] = mapped_column(ForeignKey("vendor_accounts.id"), index=True)
    account_b_id: Mapped[int] = mapped_column(ForeignKey("vendor_accounts.id"), index=True)
    score: Mapped[float]
    evidence: Mapped[dict]
    sentence: Mapped[str] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(20))  # None | confirmed | rejected
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClusterFeedback(Base):
    """Append-only record of every investigator decision; re-clustering replays it as constraints."""

    __tablename__ = "cluster_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # confirm | reject | split | merge
    account_a_id: Mapped[int | None] = mapped_column(ForeignKey("vendor_accounts.id"))
    account_b_id: Mapped[int | None] = mapped_column(ForeignKey("vendor_accounts.id"))
    members: Mapped[list | None]
    who: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
