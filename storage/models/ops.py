"""Schedules, job runs and alerts (the scheduler's own job store lives in APScheduler's table)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class Schedule(Base):
    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)  # e.g. "crawl:market_a", "report:weekly"
    kind: Mapped[str] = mapped_column(String(20))  # crawl | report
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    cron: Mapped[str | None] = mapped_column(String(100))
    interval_seconds: Mapped[int | None]
    jitter_seconds: Mapped[int] = mapped_column(default=0)
    timeout_seconds: Mapped[int | None]
    paused: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRun(Base):
    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)  # "crawl:<site>" or "report:weekly"
    kind: Mapped[str] = mapped_column(String(20))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))  # running | finished | failed | skipped | timeout
    reason: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None]
    stats: Mapped[dict | None]


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))  # repeated_failures | site_dark | ...
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    delivery_error: Mapped[str | None] = mapped_column(Text)
