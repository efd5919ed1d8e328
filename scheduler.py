"""Crawl schedules on APScheduler 3.x, persisted in its SQLAlchemy job store in the project database.

The `schedules` table is what users edit (through `narcowatch schedule ...`) and what the web app shows;
the daemon mirrors it into APScheduler jobs (id = schedule name) on start and every SYNC_SECONDS, so
changes made while it runs take effect without a restart. APScheduler's job store keeps each job's next run
time, so a restarted daemon knows what it missed: missed runs within the misfire grace run once (coalesced),
older ones are skipped and recorded. Every run starts `narcowatch crawl SITE` (or the weekly report) as a
subprocess through narcowatch.jobs, which also guards against overlap and recovers orphans.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from datetime import timedelta

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, select

from narcowatch import jobs, settings
from storage.db import session_scope
from storage.models import JobRun, Schedule, utcnow

log = logging.getLogger("narcowatch.scheduler")
SYNC_SECONDS = 30
JOBSTORE_TABLE = "apscheduler_jobs"
REPORT_SCHEDULE = "report:weekly"
EVERY = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class ScheduleError(ValueError):
    pass


def parse_every(text: str) -> int:
    """'6h' -> 21600 seconds. Units: s, m, h, d, w."""
    match = EVERY.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise ScheduleError(f"--every {text!r}: expected a number and a unit, like 30m, 6h or 1d")
    return int(match.group(1)) * UNIT_SECONDS[match.group(2)]


def trigger_for(schedule: Schedule, timezone: str | None = None):
    tz = timezone or settings.get("NARCOWATCH_TIMEZONE") or "UTC"
    jitter = schedule.jitter_seconds or None
    if schedule.cron:
        try:
            fields = schedule.cron.split()
            if len(fields) != 5:
                raise ValueError(f"wrong number of fields; got {len(fields)}, expected 5")
            minute, hour, day, month, day_of_week = fields
            day_of_week = _crontab_weekdays(day_of_week)
            return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week,
                               timezone=tz, jitter=jitter)
        except ValueError as exc:
            raise ScheduleError(f"cron {schedule.cron!r} of {schedule.name}: {exc}") from exc
    if schedule.interval_seconds:
        # anchored at creation: restarts do not shift the cadence
        return IntervalTrigger(seconds=schedule.interval_seconds, start_date=schedule.created_at, timezone=tz,
                               jitter=jitter)
    raise ScheduleError(f"schedule {schedule.name} has neither a cron expression nor an interval")


CRONTAB_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _crontab_weekdays(field: str) -> str:
    """Crontab counts weekdays from Sunday = 0 (or 7); APScheduler from Monday = 0: use names, never numbers."""
    return re.sub(r"\d+", lambda m: CRONTAB_DAYS[int(m.group())] if int(m.group()) <= 7 else m.group(), field)


def run_schedule(name: str) -> None:
    """The job APScheduler calls (by reference, so it survives in the job store)."""
    from storage.db import default_engine

    engine = default_engine()
    with session_scope(engine) as session:
        schedule = session.scalars(select(Schedule).where(Schedule.name == name)).one_or_none()
        if schedule is None:
            log.warning("schedule %s vanished before it ran", name)
            return
        kind, timeout = schedule.kind, schedule.timeout_seconds
        schedule_id = schedule.id
    if kind == "crawl":
        site = name.split(":", 1)[1]
        jobs.run_job(engine, name, "crawl", lambda resume: jobs.crawl_command(site, resume), site_slug=site,
                     schedule_id=schedule_id, timeout=timeout)
    elif kind == "report":
        jobs.run_job(engine, name, "report", lambda _resume: report_command(), schedule_id=schedule_id,
                     timeout=timeout)


def report_command() -> list[str]:
    import sys

    return [sys.executable, "-m", "narcowatch", "report", "weekly"]


def report_available() -> bool:
    try:
        from narcowatch.commands import report  # noqa: F401
    except ImportError:
        return False
    return True


def ensure_report_schedule(engine: Engine) -> None:
    """The weekly drug-desk report is a default job once the report exists."""
    if not report_available():
        return
    cron = settings.get("NARCOWATCH_REPORT_CRON") or "0 6 * * mon"
    with session_scope(engine) as session:
        existing = session.scalars(select(Schedule).where(Schedule.name == REPORT_SCHEDULE)).one_or_none()
        if existing is None:
            session.add(Schedule(name=REPORT_SCHEDULE, kind="report", cron=cron))
        elif existing.cron != cron:
            existing.cron = cron


def build(engine: Engine, scheduler_class: type[BaseScheduler] = BackgroundScheduler, **options) -> BaseScheduler:
    grace = int(settings.get("NARCOWATCH_MISFIRE_GRACE") or 3600)
    scheduler = scheduler_class(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)},
        executors={"default": options.pop("executor", None) or ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
        timezone=settings.get("NARCOWATCH_TIMEZONE") or "UTC",
        **options,
    )
    scheduler.add_listener(lambda event: _record_missed(engine, event), EVENT_JOB_MISSED)
    return scheduler


def _record_missed(engine: Engine, event: JobExecutionEvent) -> None:
    with session_scope(engine) as session:
        schedule = session.scalars(select(Schedule).where(Schedule.name == event.job_id)).one_or_none()
        session.add(JobRun(schedule_id=schedule.id if schedule else None, name=event.job_id,
                           kind=schedule.kind if schedule else "crawl", started_at=utcnow(), finished_at=utcnow(),
                           status="skipped",
                           reason=f"missed: due at {event.scheduled_run_time.isoformat()} while the scheduler "
                                  "was not running, beyond NARCOWATCH_MISFIRE_GRACE"))


def sync(scheduler: BaseScheduler, engine: Engine) -> None:
    """Mirror the schedules table into APScheduler jobs: add, update, pause, resume, remove."""
    with session_scope(engine) as session:
        schedules = {s.name: s for s in session.scalars(select(Schedule))}
    jobs_by_id = {job.id: job for job in scheduler.get_jobs()}
    for name, schedule in schedules.items():
        trigger = trigger_for(schedule)
        job = jobs_by_id.get(name)
        if job is None:
            job = scheduler.add_job(run_schedule, trigger, args=[name], id=name, name=name,
                                    replace_existing=True)
        elif str(job.trigger) != str(trigger):
            job = scheduler.reschedule_job(name, trigger=trigger)
        if schedule.paused and job.next_run_time is not None:
            scheduler.pause_job(name)
        elif not schedule.paused and job.next_run_time is None:
            scheduler.resume_job(name)
    for name in set(jobs_by_id) - set(schedules):
        if not name.startswith("_"):
            scheduler.remove_job(name)


def run_forever(engine: Engine, stop: threading.Event | None = None) -> None:
    """`narcowatch scheduler run`: foreground daemon, stops cleanly on SIGTERM/SIGINT."""
    stop = stop or threading.Event()

    def _stop(signum, _frame):
        log.info("signal %s: stopping the scheduler (running crawls finish or are killed by their timeout)",
                 signum)
        stop.set()

    # first: a signal during start-up must stop the daemon cleanly too, not kill it half-started
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)
    recovered = jobs.recover_orphans(engine)
    if recovered:
        log.warning("marked %d orphaned run(s) failed; their sites resume on the next run", recovered)
    ensure_report_schedule(engine)
    scheduler = build(engine)
    scheduler.start(paused=True)
    sync(scheduler, engine)
    scheduler.resume()

    log.info("scheduler running with %d job(s)", len(scheduler.get_jobs()))
    while not stop.wait(SYNC_SECONDS):
        try:
            sync(scheduler, engine)
        except Exception:
            log.exception("could not sync schedules; keeping the current jobs")
    scheduler.shutdown(wait=False)


def next_run_times(engine: Engine) -> dict[str, object]:
    """Next run time per schedule as the job store knows it (None when paused or never started)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore as Store

    store = Store(engine=engine, tablename=JOBSTORE_TABLE)
    try:
        store.start(None, "default")
        return {job.id: job.next_run_time for job in store.get_all_jobs()}
    except Exception:
        return {}


def misfire_window() -> timedelta:
    return timedelta(seconds=int(settings.get("NARCOWATCH_MISFIRE_GRACE") or 3600))
