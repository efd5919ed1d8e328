"""Running scheduled jobs: each crawl in its own process (Scrapy's reactor cannot restart in-process), with a
timeout that kills a runaway crawl, never two runs of one site at once, orphan recovery after a daemon
death, run history and alerts."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from narcowatch import alerts, settings
from storage.db import session_scope
from storage.models import CrawlRun, JobRun, Site, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOutcome:
    job_run_id: int
    status: str  # finished | failed | timeout | skipped
    reason: str | None = None


def crawl_command(site_slug: str, resume: bool) -> list[str]:
    return [sys.executable, "-m", "narcowatch", "crawl", site_slug] + (["--resume"] if resume else [])


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (dead, not yet reaped: its parent daemon died and PID 1 in a container may never reap it)
    # still answers kill(pid, 0); it is not running, and must not block the site's next run forever
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _site(session: Session, slug: str) -> Site | None:
    return session.scalars(select(Site).where(Site.slug == slug)).one_or_none()


def recover_orphans(engine: Engine) -> int:
    """Runs left 'running' by a dead daemon or crawl become failed/interrupted; the next crawl resumes."""
    count = 0
    with session_scope(engine) as session:
        for run in session.scalars(select(JobRun).where(JobRun.status == "running")):
            if _pid_alive(run.pid):
                continue
            run.status, run.finished_at = "failed", utcnow()
            run.reason = f"orphaned: its process {run.pid} died with the scheduler; the next run resumes it"
            count += 1
        for crawl in session.scalars(select(CrawlRun).where(CrawlRun.status == "running")):
            owner = session.scalars(select(JobRun).where(JobRun.crawl_run_id == crawl.id)).first()
            if owner is None or not _pid_alive(owner.pid):
                crawl.status, crawl.reason = "interrupted", "process died; resume with --resume"
    return count


def _claim(engine: Engine, name: str, kind: str, site_slug: str | None, schedule_id: int | None) -> JobRun:
    """Create a running JobRun, then yield to any live older run of the same site (or report job).

    Insert-then-check with the lower id winning is race-free across processes on SQLite and PostgreSQL
    alike: of two claims committed at the same time, exactly the newer one steps back.
    """
    with session_scope(engine) as session:
        site = _site(session, site_slug) if site_slug else None
        job = JobRun(schedule_id=schedule_id, name=name, kind=kind, site_id=site.id if site else None,
                     started_at=utcnow(), status="running", pid=os.getpid())
        session.add(job)
    with session_scope(engine) as session:
        job = session.get(JobRun, job.id)
        # the same job, or any job on the same site (a schedule and a run-now under another name)
        same = or_(JobRun.name == name, JobRun.site_id == job.site_id) if job.site_id else JobRun.name == name
        older = session.scalars(select(JobRun).where(same, JobRun.status == "running", JobRun.id < job.id)
                                .order_by(JobRun.id)).all()
        live = [r for r in older if _pid_alive(r.pid)]
        if live:
            job.status, job.finished_at = "skipped", utcnow()
            job.reason = f"overlap: run {live[0].id} of {site_slug or name} is still running (pid {live[0].pid})"
        return job


def _needs_resume(session: Session, site_id: int | None) -> bool:
    if site_id is None:
        return False
    last = session.scalars(select(CrawlRun).where(CrawlRun.site_id == site_id).order_by(CrawlRun.id.desc())).first()
    return bool(last and last.status in ("interrupted", "running"))


def run_job(engine: Engine, name: str, kind: str, command_for, site_slug: str | None = None,
            schedule_id: int | None = None, timeout: float | None = None) -> JobOutcome:
    """Run one job: claim it (or record a skip), start the subprocess, wait with a timeout, record the run.

    `command_for(resume: bool) -> list[str]` builds the command line.
    """
    job = _claim(engine, name, kind, site_slug, schedule_id)
    if job.status == "skipped":
        log.warning("%s skipped: %s", name, job.reason)
        return JobOutcome(job.id, "skipped", job.reason)
    started = job.started_at
    with session_scope(engine) as session:
        resume = _needs_resume(session, job.site_id)
    timeout = timeout or float(settings.get("NARCOWATCH_CRAWL_TIMEOUT") or 21600)
    command = command_for(resume)
    log.info("%s: starting %s", name, " ".join(command))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)  # own process group: a timeout kills the browser too
    with session_scope(engine) as session:
        session.get(JobRun, job.id).pid = process.pid
    try:
        output, _ = process.communicate(timeout=timeout)
        status = "finished" if process.returncode == 0 else "failed"
        reason = None if status == "finished" else _tail(output) or f"exit status {process.returncode}"
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        status, reason = "timeout", f"killed after {timeout:.0f} s (NARCOWATCH_CRAWL_TIMEOUT)"
    with session_scope(engine) as session:
        run = session.get(JobRun, job.id)
        run.status, run.reason, run.finished_at = status, reason, utcnow()
        if kind == "crawl" and run.site_id is None and site_slug:
            site = _site(session, site_slug)
            run.site_id = site.id if site else None
        if run.site_id is not None:
            _attach_crawl_run(session, run, started)
            if alert := alerts.evaluate(session, run.site_id, site_slug or name):
                alerts.deliver(alert)
    return JobOutcome(job.id, status, reason)


def _attach_crawl_run(session: Session, run: JobRun, started: datetime) -> None:
    crawl = session.scalars(select(CrawlRun).where(CrawlRun.site_id == run.site_id, CrawlRun.started_at >= started)
                            .order_by(CrawlRun.id.desc())).first()
    if crawl is None:  # a resumed crawl keeps its older run id
        crawl = session.scalars(select(CrawlRun).where(CrawlRun.site_id == run.site_id)
                                .order_by(CrawlRun.id.desc())).first()
    if crawl is None:
        return
    run.crawl_run_id = crawl.id
    run.stats = {"pages": crawl.pages, "items": crawl.items, "errors": crawl.errors,
                 "listings_new": crawl.listings_new, "listings_changed": crawl.listings_changed,
                 "listings_gone": crawl.listings_gone,
                 "listings_seen": (crawl.stats or {}).get("listings_seen", crawl.items),
                 "crawl_status": crawl.status}


def _tail(output: str | None, lines: int = 5) -> str:
    return "\n".join((output or "").strip().splitlines()[-lines:])
