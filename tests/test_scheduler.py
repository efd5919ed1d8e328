"""Scheduler: cron and interval jobs under a controlled clock (including across a restart), overlap,
timeouts, orphan recovery, alerts and the CLI."""

from __future__ import annotations

import json
import os
import signal
import socketserver
import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler
from click.testing import CliRunner
from sqlalchemy import select

import scheduler as sched
from narcowatch import alerts, jobs
from narcowatch.cli import cli
from storage.db import session_scope
from storage.models import Alert, CrawlRun, JobRun, Schedule
from storage.upsert import get_or_create_site

T0 = datetime(2026, 10, 5, 0, 0, tzinfo=UTC)  # a Monday


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@contextmanager
def controlled(clock: Clock):
    """APScheduler reads the time through `datetime.now` in these modules; make them read our clock."""

    class FakeDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return clock.now.astimezone(tz) if tz else clock.now.replace(tzinfo=None)

    # only modules that merely call now(): triggers build datetimes with the constructor, which must stay real
    targets = ["apscheduler.schedulers.base.datetime", "apscheduler.executors.base.datetime"]
    patches = [mock.patch(t, FakeDatetime) for t in targets]
    for p in patches:
        p.start()
    try:
        yield clock
    finally:
        for p in patches:
            p.stop()


class ManualScheduler(BaseScheduler):
    """Processes jobs only when the test says so."""

    def _start_timer(self, wait_seconds):
        pass

    def wakeup(self):
        pass

    def shutdown(self, wait=True):
        super().shutdown(wait)

    def tick(self):
        self._process_jobs()


@pytest.fixture
def fired(monkeypatch):
    calls = []
    clock_ref = {}

    def fake_run_job(engine, name, kind, command_for, site_slug=None, schedule_id=None, timeout=None):
        calls.append((name, clock_ref["clock"].now))
        return jobs.JobOutcome(0, "finished")

    monkeypatch.setattr(jobs, "run_job", fake_run_job)
    return calls, clock_ref


def start(engine, clock):
    scheduler = sched.build(engine, ManualScheduler, executor=DebugExecutor())
    scheduler.start(paused=True)
    sched.sync(scheduler, engine)
    scheduler.resume()
    return scheduler


def add_schedule(engine, name, **kw):
    with session_scope(engine) as session:
        session.add(Schedule(name=name, kind="crawl", created_at=T0, **kw))


@pytest.fixture
def db(engine, monkeypatch):
    from storage import db as storage_db

    monkeypatch.setattr(storage_db, "default_engine", lambda: engine)
    return engine


def test_interval_job_fires_on_time_and_across_a_restart(db, fired):
    calls, ref = fired
    clock = ref["clock"] = Clock(T0)
    add_schedule(db, "crawl:market_a", interval_seconds=6 * 3600)
    with controlled(clock):
        s = start(db, clock)
        clock.advance(hours=6, seconds=-1)
        s.tick()
        assert calls == []
        clock.advance(seconds=2)
        s.tick()
        assert [c[1] for c in calls] == [T0 + timedelta(hours=6, seconds=1)]
        s.shutdown(wait=False)
        # daemon down over the 12h run; back 10 minutes later: within the grace, it runs once
        clock.advance(hours=6, minutes=10)
        s2 = start(db, clock)
        s2.tick()
        assert len(calls) == 2
        s2.tick()
        assert len(calls) == 2  # not again until 18h
        clock.now = T0 + timedelta(hours=18, seconds=1)
        s2.tick()
        assert len(calls) == 3
        s2.shutdown(wait=False)


def test_cron_job_fires_at_the_expression(db, fired):
    calls, ref = fired
    clock = ref["clock"] = Clock(T0 + timedelta(hours=1))
    add_schedule(db, "crawl:forum", cron="0 */6 * * *")
    with controlled(clock):
        s = start(db, clock)
        clock.now = T0 + timedelta(hours=5, minutes=59)
        s.tick()
        assert calls == []
        clock.now = T0 + timedelta(hours=6, seconds=5)
        s.tick()
        clock.now = T0 + timedelta(hours=11, minutes=59)
        s.tick()
        clock.now = T0 + timedelta(hours=12, seconds=5)
        s.tick()
        assert [c[1].hour for c in calls] == [6, 12]
        s.shutdown(wait=False)


def test_cron_job_fires_across_a_daemon_restart(db, fired):
    """Down from 05:00 to 06:10: the 06:00 run fires once on restart (within the grace), then 12:00 as usual."""
    calls, ref = fired
    clock = ref["clock"] = Clock(T0 + timedelta(hours=1))
    add_schedule(db, "crawl:forum", cron="0 */6 * * *")
    with controlled(clock):
        s = start(db, clock)
        clock.now = T0 + timedelta(hours=5)
        s.tick()
        assert calls == []
        s.shutdown(wait=False)
        clock.now = T0 + timedelta(hours=6, minutes=10)
        s2 = start(db, clock)
        s2.tick()
        s2.tick()
        assert [c[1] for c in calls] == [T0 + timedelta(hours=6, minutes=10)]
        assert s2.get_job("crawl:forum").next_run_time == T0 + timedelta(hours=12)
        clock.now = T0 + timedelta(hours=12, seconds=3)
        s2.tick()
        assert len(calls) == 2
        s2.shutdown(wait=False)


def test_weekly_report_is_a_default_job_on_monday_at_six(db, fired, monkeypatch):
    monkeypatch.delenv("NARCOWATCH_REPORT_CRON", raising=False)
    calls, ref = fired
    clock = ref["clock"] = Clock(T0 + timedelta(days=1))  # Tuesday 00:00
    sched.ensure_report_schedule(db)
    sched.ensure_report_schedule(db)  # idempotent: still one schedule
    with session_scope(db) as session:
        report = session.scalars(select(Schedule).where(Schedule.name == sched.REPORT_SCHEDULE)).one()
        assert report.kind == "report" and report.cron == "0 6 * * mon"
    with controlled(clock):
        s = start(db, clock)
        assert s.get_job(sched.REPORT_SCHEDULE).next_run_time == T0 + timedelta(days=7, hours=6)
        clock.now = T0 + timedelta(days=7, hours=5, minutes=59)
        s.tick()
        assert calls == []
        clock.now = T0 + timedelta(days=7, hours=6, seconds=1)
        s.tick()
        assert [c[0] for c in calls] == [sched.REPORT_SCHEDULE]
        s.shutdown(wait=False)
    # configurable: a changed setting moves the existing schedule
    monkeypatch.setenv("NARCOWATCH_REPORT_CRON", "30 7 * * fri")
    sched.ensure_report_schedule(db)
    with session_scope(db) as session:
        assert session.scalars(select(Schedule.cron).where(Schedule.kind == "report")).all() == ["30 7 * * fri"]


def test_runs_missed_beyond_the_grace_are_skipped_and_recorded(db, fired, monkeypatch):
    monkeypatch.setenv("NARCOWATCH_MISFIRE_GRACE", "3600")
    calls, ref = fired
    clock = ref["clock"] = Clock(T0)
    add_schedule(db, "crawl:market_b", interval_seconds=6 * 3600)
    with controlled(clock):
        s = start(db, clock)
        s.shutdown(wait=False)
        clock.now = T0 + timedelta(hours=26)  # last due run (24h) is 2h old, grace 1h
        s2 = start(db, clock)
        s2.tick()
        assert calls == []
        clock.now = T0 + timedelta(hours=30, seconds=1)
        s2.tick()
        assert len(calls) == 1
        s2.shutdown(wait=False)
    with session_scope(db) as session:
        skipped = session.scalars(select(JobRun).where(JobRun.status == "skipped")).all()
        assert len(skipped) == 1 and "missed" in skipped[0].reason


def test_paused_schedule_does_not_fire_and_removed_one_disappears(db, fired):
    calls, ref = fired
    clock = ref["clock"] = Clock(T0)
    add_schedule(db, "crawl:a", interval_seconds=3600)
    add_schedule(db, "crawl:b", interval_seconds=3600)
    with controlled(clock):
        s = start(db, clock)
        with session_scope(db) as session:
            session.scalars(select(Schedule).where(Schedule.name == "crawl:a")).one().paused = True
            session.delete(session.scalars(select(Schedule).where(Schedule.name == "crawl:b")).one())
        sched.sync(s, db)
        clock.advance(hours=3)
        s.tick()
        assert calls == [] and [j.id for j in s.get_jobs()] == ["crawl:a"]
        s.shutdown(wait=False)


def _py(code: str):
    return lambda resume: [sys.executable, "-c", code]


def test_overlapping_run_is_skipped_with_a_reason(db):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with session_scope(db) as session:
            session.add(JobRun(name="crawl:x", kind="crawl", status="running", pid=sleeper.pid,
                               started_at=T0))
        outcome = jobs.run_job(db, "crawl:x", "crawl", _py("print(1)"))
        assert outcome.status == "skipped" and "still running" in outcome.reason
        with session_scope(db) as session:  # the skip is in the run history with its reason
            skipped = session.get(JobRun, outcome.job_run_id)
            assert skipped.status == "skipped" and "overlap" in skipped.reason and skipped.finished_at
            assert str(sleeper.pid) in skipped.reason
    finally:
        sleeper.kill()
        sleeper.wait()
    # the other run's process is gone: the next run goes ahead
    assert jobs.run_job(db, "crawl:x", "crawl", _py("print(1)")).status == "finished"
    assert jobs.run_job(db, "crawl:y", "crawl", _py("print(1)")).status == "finished"


def test_a_run_of_the_same_site_under_another_name_is_skipped_too(db):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with session_scope(db) as session:
            site = get_or_create_site(session, "market_a", "A", "market", "http://a/")
            session.add(JobRun(name="crawl:market_a", kind="crawl", site_id=site.id, status="running",
                               pid=sleeper.pid, started_at=T0))
        outcome = jobs.run_job(db, "manual:market_a", "crawl", _py("print(1)"), site_slug="market_a")
        assert outcome.status == "skipped" and "market_a is still running" in outcome.reason
    finally:
        sleeper.kill()
        sleeper.wait()


def test_runaway_crawl_is_killed_by_its_timeout(db):
    outcome = jobs.run_job(db, "crawl:slow", "crawl", _py("import time; time.sleep(60)"), timeout=1)
    assert outcome.status == "timeout" and "killed after" in outcome.reason


def test_failed_crawl_records_its_output(db):
    outcome = jobs.run_job(db, "crawl:bad", "crawl", _py("import sys; print('proxy refused'); sys.exit(3)"))
    assert outcome.status == "failed" and "proxy refused" in outcome.reason


def test_orphans_are_marked_and_the_next_run_resumes(db):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with session_scope(db) as session:
        site = get_or_create_site(session, "market_a", "A", "market", "http://a/")
        crawl = CrawlRun(site_id=site.id, status="running")
        session.add(crawl)
        session.flush()
        session.add(JobRun(name="crawl:market_a", kind="crawl", site_id=site.id, status="running",
                           pid=dead.pid, crawl_run_id=crawl.id, started_at=T0))
    assert jobs.recover_orphans(db) == 1
    with session_scope(db) as session:
        assert session.scalars(select(CrawlRun)).one().status == "interrupted"
        assert "orphaned" in session.scalars(select(JobRun)).one().reason
    seen = []
    jobs.run_job(db, "crawl:market_a", "crawl", lambda resume: seen.append(resume) or [sys.executable, "-c", ""],
                 site_slug="market_a")
    assert seen == [True]


class Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        Hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(monkeypatch):
    Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("NARCOWATCH_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/hook")
    yield Hook.received
    server.shutdown()
    server.server_close()


def _history(db, statuses):
    with session_scope(db) as session:
        site = get_or_create_site(session, "market_c", "C", "market", "http://c.onion/")
        for i, (status, listings) in enumerate(statuses):
            session.add(JobRun(name="crawl:market_c", kind="crawl", site_id=site.id, status=status,
                               started_at=T0 + timedelta(days=i), stats={"listings_seen": listings}))
        session.flush()
        alert = alerts.evaluate(session, site.id, "market_c")
        if alert:
            alerts.deliver(alert)
        return site.id


def test_a_site_going_dark_raises_exactly_one_alert_per_outage(db, webhook):
    site_id = _history(db, [("finished", 120), ("finished", 118), ("failed", 0)])
    for day in range(3):  # the outage goes on: more failed runs, no new alert
        with session_scope(db) as session:
            session.add(JobRun(name="crawl:market_c", kind="crawl", site_id=site_id, status="failed",
                               started_at=T0 + timedelta(days=3 + day)))
            session.flush()
            assert alerts.evaluate(session, site_id, "market_c") is None
    assert len(webhook) == 1 and webhook[0]["kind"] == "site_dark"
    with session_scope(db) as session:
        alert = session.scalars(select(Alert)).one()
        assert alert.delivered_at is not None and alert.delivery_error is None


def test_zero_listings_after_healthy_runs_is_an_alert_too(db, webhook):
    _history(db, [("finished", 50), ("finished", 0)])
    assert [a["kind"] for a in webhook] == ["site_dark"]


def test_a_site_that_never_worked_alerts_after_repeated_failures(db, webhook, monkeypatch):
    monkeypatch.setenv("NARCOWATCH_ALERT_FAILURES", "3")
    _history(db, [("failed", 0), ("failed", 0)])
    assert webhook == []
    with session_scope(db) as session:
        session.add(JobRun(name="crawl:market_c", kind="crawl", site_id=1, status="timeout",
                           started_at=T0 + timedelta(days=5)))
        session.flush()
        alert = alerts.evaluate(session, 1, "market_c")
        alerts.deliver(alert)
    assert [a["kind"] for a in webhook] == ["repeated_failures"]


def test_undeliverable_alert_records_why(db, monkeypatch):
    monkeypatch.setenv("NARCOWATCH_ALERT_WEBHOOK", "http://127.0.0.1:9/nothing-listens-here")
    _history(db, [("finished", 10), ("failed", 0)])
    with session_scope(db) as session:
        alert = session.scalars(select(Alert)).one()
        assert alert.delivered_at is None and "webhook" in alert.delivery_error


@pytest.fixture
def cli_home(nw_home, tmp_path, monkeypatch):
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "market_a.yaml").write_text("name: A\n")
    monkeypatch.setenv("NARCOWATCH_SITES_DIR", str(sites))
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    return nw_home


def test_schedule_cli(cli_home):
    run = CliRunner().invoke
    assert run(cli, ["schedule", "add", "market_a", "--every", "6h", "--jitter", "5m"]).exit_code == 0
    again = run(cli, ["schedule", "add", "market_a", "--every", "6h"])
    assert again.exit_code != 0 and "already has a schedule" in again.output
    listed = run(cli, ["schedule", "list"])
    assert "crawl:market_a" in listed.output and "every 21600 s" in listed.output
    assert "paused" in run(cli, ["schedule", "pause", "market_a"]).output
    assert "paused" in run(cli, ["schedule", "list"]).output
    assert "resumed" in run(cli, ["schedule", "resume", "market_a"]).output
    assert run(cli, ["schedule", "remove", "market_a"]).exit_code == 0
    assert "no schedules" in run(cli, ["schedule", "list"]).output


@pytest.mark.parametrize("args,message", [
    (["market_a"], "exactly one of --cron or --every"),
    (["market_a", "--cron", "0 6 * *", "--every", "1h"], "exactly one"),
    (["market_a", "--cron", "61 * * * *"], "cron '61 * * * *'"),
    (["market_a", "--every", "six hours"], "expected a number and a unit"),
    (["nowhere", "--every", "1h"], "no profile nowhere.yaml"),
])
def test_schedule_add_rejects_bad_input_clearly(cli_home, args, message):
    result = CliRunner().invoke(cli, ["schedule", "add", *args])
    assert result.exit_code != 0 and message in result.output


def test_runs_lists_history(cli_home):
    from storage.db import default_engine

    jobs.run_job(default_engine(), "crawl:market_a", "crawl", _py("print('ok')"))
    out = CliRunner().invoke(cli, ["runs"]).output
    assert "crawl:market_a" in out and "finished" in out


@pytest.mark.parametrize("expression,fires_on", [("0 6 * * 1", "Monday"), ("0 6 * * 0", "Sunday"),
                                                 ("0 6 * * 7", "Sunday"), ("0 6 * * mon", "Monday"),
                                                 ("0 6 * * 1-5", "Monday")])
def test_crontab_weekdays_count_from_sunday(expression, fires_on):
    trigger = sched.trigger_for(Schedule(name="x", kind="crawl", cron=expression))
    after = datetime(2026, 10, 3, 12, tzinfo=UTC)  # a Saturday
    fire = trigger.get_next_fire_time(None, after)
    assert fire.strftime("%A") == fires_on and fire.hour == 6


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_daemon_stops_cleanly_on_sigterm_and_sigint(tmp_path, signum):
    home = tmp_path / "home"
    env = {**os.environ, "NARCOWATCH_HOME": str(home), "NARCOWATCH_LOG_LEVEL": "INFO"}
    env.pop("NARCOWATCH_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "narcowatch", "db", "upgrade"], env=env, check=True,
                   capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "narcowatch", "scheduler", "run"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:  # wait until the daemon says it runs
            lines.append(line)
            if "scheduler running with" in line:
                break
        assert any("scheduler running with" in x for x in lines), "".join(lines)
        proc.send_signal(signum)
        out = proc.communicate(timeout=20)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, "".join(lines) + out
    assert f"signal {int(signum)}: stopping" in out


class _SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321 without extensions) to receive one message per connection."""

    received: list[dict]

    def handle(self) -> None:
        self.wfile.write(b"220 sink ready\r\n")
        mail: dict = {"to": []}
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"HELO", b"EHLO"):
                self.wfile.write(b"250 sink\r\n")
            elif verb == b"MAIL":
                mail["from"] = line.decode().split(":", 1)[1].strip()
                self.wfile.write(b"250 ok\r\n")
            elif verb == b"RCPT":
                mail["to"].append(line.decode().split(":", 1)[1].strip())
                self.wfile.write(b"250 ok\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk
                mail["data"] = body.decode("utf-8", "replace")
                self.received.append(mail)
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_alert_is_delivered_by_smtp(db, monkeypatch):
    received: list[dict] = []
    handler = type("Sink", (_SmtpSink,), {"received": received})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.delenv("NARCOWATCH_ALERT_WEBHOOK", raising=False)
        monkeypatch.setenv("NARCOWATCH_SMTP_URL", f"smtp://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("NARCOWATCH_ALERT_EMAIL", "desk@example.org, duty@example.org")
        _history(db, [("finished", 40), ("failed", 0)])
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 1
    mail = received[0]
    assert mail["to"] == ["<desk@example.org>", "<duty@example.org>"]
    assert "Subject: [narcowatch] site_dark" in mail["data"] and "market_c" in mail["data"]
    with session_scope(db) as session:
        alert = session.scalars(select(Alert)).one()
        assert alert.delivered_at is not None and alert.delivery_error is None
