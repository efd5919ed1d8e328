"""Case holds: what an investigation needs is kept whatever the retention rules say."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow

HOLD_KINDS = ("listing", "vendor", "post", "site")


class CaseHold(Base):
    __tablename__ = "case_holds"
    __table_args__ = (Index("ix_case_holds_kind_target", "kind", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_ref: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # listing | vendor | post | site
    target_id: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
