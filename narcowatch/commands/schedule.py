"""`narcowatch schedule ...`, `narcowatch scheduler run` and `narcowatch runs`."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

import scheduler as sched
from narcowatch import jobs, settings
from narcowatch.context import database
from storage.db import session_scope
from storage.models import JobRun, Schedule


def _profile_exists(site: str) -> bool:
    folder = Path(settings.get("NARCOWATCH_SITES_DIR") or "sites")
    return any((folder / f"{site}{ext}").exists() for ext in (".yaml", ".yml"))


def _schedule(session, site: str) -> Schedule:
    schedule = session.scalars(select(Schedule).where(Schedule.name == f"crawl:{site}")).one_or_none()
    if schedule is None:
        raise click.ClickException(f"no schedule for site {site!r}; see `narcowatch schedule list`")
    return schedule


@click.group("schedule")
def schedule() -> None:
    """Add, list, pause, resume, remove and run crawl schedules."""


@schedule.command("add")
@click.argument("site")
@click.option("--cron", help='Cron expression, e.g. "0 */6 * * *" (minute hour day month weekday).')
@click.option("--every", help="Interval: a number and a unit (s, m, h, d, w), e.g. 6h.")
@click.option("--jitter", default="0s", show_default=True,
              help="Random delay added to each run (e.g. 10m), so crawls do not hit a site at round times.")
@click.option("--timeout", default=None, help="Kill the crawl after this long (e.g. 2h); default NARCOWATCH_CRAWL_TIMEOUT.")
def schedule_add(site: str, cron: str | None, every: str | None, jitter: str, timeout: str | None) -> None:
    """Schedule crawls of SITE (the name of its profile in the sites folder)."""
    if bool(cron) == bool(every):
        raise click.UsageError("give exactly one of --cron or --every")
    if not _profile_exists(site):
        raise click.ClickException(f"no profile {site}.yaml in {settings.get('NARCOWATCH_SITES_DIR')}; "
                                   "write one first (docs/site-profiles.md)")
    try:
        record = Schedule(name=f"crawl:{site}", kind="crawl", cron=cron,
                          interval_seconds=sched.parse_every(every) if every else None,
                          jitter_seconds=sched.parse_every(jitter) if jitter.strip() not in ("0", "0s") else 0,
                          timeout_seconds=sched.parse_every(timeout) if timeout else None)
        sched.trigger_for(record)  # validate now, not at 3 a.m. in the daemon
    except sched.ScheduleError as exc:
        raise click.ClickException(str(exc)) from exc
    with session_scope(database()) as session:
        if session.scalars(select(Schedule).where(Schedule.name == record.name)).first():
            raise click.ClickException(f"{site} already has a schedule; remove it first or pause/resume it")
        session.add(record)
    click.echo(f"scheduled {site}: {cron or 'every ' + every}; a running `narcowatch scheduler run` picks it "
               f"up within {sched.SYNC_SECONDS} s")


@schedule.command("list")
def schedule_list() -> None:
    """List schedules with their next run time and last result."""
    engine = database()
    upcoming = sched.next_run_times(engine)
    with session_scope(engine) as session:
        rows = session.scalars(select(Schedule).order_by(Schedule.name)).all()
        if not rows:
            click.echo("no schedules; add one with `narcowatch schedule add SITE --every 6h`")
        for s in rows:
            last = session.scalars(select(JobRun).where(JobRun.name == s.name).order_by(JobRun.id.desc())).first()
            when = s.cron or f"every {s.interval_seconds} s"
            state = "paused" if s.paused else f"next {upcoming.get(s.name) or 'when the scheduler runs'}"
            result = f"last {last.status} {last.started_at:%Y-%m-%d %H:%M}" if last else "never run"
            click.echo(f"{s.name:32} {when:18} {state:45} {result}")


def _set_paused(site: str, paused: bool) -> None:
    with session_scope(database()) as session:
        _schedule(session, site).paused = paused
    click.echo(f"{site}: {'paused' if paused else 'resumed'}")


@schedule.command("pause")
@click.argument("site")
def schedule_pause(site: str) -> None:
    """Pause SITE's schedule (runs stop until resumed)."""
    _set_paused(site, True)


@schedule.command("resume")
@click.argument("site")
def schedule_resume(site: str) -> None:
    """Resume SITE's paused schedule."""
    _set_paused(site, False)


@schedule.command("remove")
@click.argument("site")
def schedule_remove(site: str) -> None:
    """Remove SITE's schedule (its run history stays)."""
    with session_scope(database()) as session:
        record = _schedule(session, site)
        for run in session.scalars(select(JobRun).where(JobRun.schedule_id == record.id)):
            run.schedule_id = None
        session.delete(record)
    click.echo(f"{site}: schedule removed")


@schedule.command("run-now")
@click.argument("site")
def schedule_run_now(site: str) -> None:
    """Crawl SITE now, in the foreground, with the same overlap guard, timeout and history as a scheduled run."""
    engine = database()
    jobs.recover_orphans(engine)
    with session_scope(engine) as session:
        record = session.scalars(select(Schedule).where(Schedule.name == f"crawl:{site}")).one_or_none()
        schedule_id, timeout = (record.id, record.timeout_seconds) if record else (None, None)
    outcome = jobs.run_job(engine, f"crawl:{site}", "crawl", lambda resume: jobs.crawl_command(site, resume),
                           site_slug=site, schedule_id=schedule_id, timeout=timeout)
    click.echo(f"{site}: {outcome.status}" + (f" ({outcome.reason})" if outcome.reason else ""))
    if outcome.status not in ("finished",):
        raise SystemExit(1)


@click.group("scheduler")
def scheduler_group() -> None:
    """The scheduler daemon."""


@scheduler_group.command("run")
def scheduler_run() -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT (Ctrl-C)."""
    click.echo("scheduler running; Ctrl-C or SIGTERM stops it")
    sched.run_forever(database())
    click.echo("scheduler stopped")


@click.command("runs")
@click.option("--site", help="Only this site.")
@click.option("--limit", default=20, show_default=True, help="How many runs to show, newest first.")
def runs(site: str | None, limit: int) -> None:
    """Show the run history: start, end, status, pages, listings new/changed/gone, errors."""
    with session_scope(database()) as session:
        stmt = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
        if site:
            stmt = stmt.where(JobRun.name == f"crawl:{site}")
        rows = session.scalars(stmt).all()
        if not rows:
            click.echo("no runs yet")
        for r in rows:
            s = r.stats or {}
            end = f"{r.finished_at:%Y-%m-%d %H:%M:%S}" if r.finished_at else "-"
            click.echo(f"#{r.id} {r.name:28} {r.started_at:%Y-%m-%d %H:%M:%S} -> {end:19} {r.status:9} "
                       f"pages {s.get('pages', '-')} new {s.get('listings_new', '-')} "
                       f"changed {s.get('listings_changed', '-')} gone {s.get('listings_gone', '-')} "
                       f"errors {s.get('errors', '-')}" + (f"  ({r.reason})" if r.reason else ""))


commands = [schedule, scheduler_group, runs]
