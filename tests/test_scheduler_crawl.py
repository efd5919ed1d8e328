"""Scheduled crawls for real: a schedule fired by the scheduler (controlled clock) runs `narcowatch crawl` as a
subprocess against the testbed, its run record matches what the crawl stored, and a testbed market that goes
down on its day raises exactly one alert, delivered to a local webhook."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from apscheduler.executors.debug import DebugExecutor
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import scheduler as sched
from storage.db import default_engine, session_scope
from storage.migrate import upgrade
from storage.models import Alert, CrawlRun, JobRun, Listing, ListingSnapshot, Page, Schedule, Site
from testbed.server import Testbed
from tests.test_scheduler import T0, Clock, ManualScheduler, controlled

SITES = Path(__file__).resolve().parent.parent / "sites"
MARKET_C_DOWN_DAY = 11  # testbed.world.DOWN_DAYS["market_c"]


def _profile(src: str, dest: Path, *, base_url: str | None = None, proxy: str | None = None,
             max_pages: int) -> None:
    """The committed testbed profile, pointed at this test's testbed and capped so that a crawl is quick."""
    text = (SITES / src).read_text(encoding="utf-8")
    if base_url:
        text = re.sub(r"(?m)^base_url: .*$", f"base_url: {base_url}/", text)
    if proxy:
        text = re.sub(r"(?m)^proxy: .*$", f"proxy: {proxy}", text)
    text, n = re.subn(r"(?m)^(\s+max_pages:) \d+", rf"\1 {max_pages}", text)
    assert n == 1, f"{src}: no politeness.max_pages line to cap"
    dest.write_text(text, encoding="utf-8")


class _Hook(BaseHTTPRequestHandler):
    received: list[dict]

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook(monkeypatch):
    received: list[dict] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("NARCOWATCH_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_address[1]}/alerts")
    yield received
    server.shutdown()
    server.server_close()


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """A data directory and a sites folder of their own; the crawl subprocesses inherit both by environment."""
    home, sites = tmp_path / "home", tmp_path / "sites"
    sites.mkdir()
    monkeypatch.setenv("NARCOWATCH_HOME", str(home))
    monkeypatch.delenv("NARCOWATCH_DATABASE_URL", raising=False)
    monkeypatch.setenv("NARCOWATCH_SITES_DIR", str(sites))
    monkeypatch.setenv("NARCOWATCH_CRAWL_TIMEOUT", "600")
    home.mkdir()
    engine = default_engine()
    upgrade(engine)
    return engine, sites


def _fire(engine, clock: Clock, schedule_name: str) -> None:
    """Start a scheduler on the controlled clock and tick past the schedule's next fire time."""
    with controlled(clock):
        scheduler = sched.build(engine, ManualScheduler, executor=DebugExecutor())
        scheduler.start(paused=True)
        sched.sync(scheduler, engine)
        scheduler.resume()
        due = scheduler.get_job(schedule_name).next_run_time
        clock.now = due + timedelta(seconds=1)
        scheduler.tick()
        scheduler.shutdown(wait=False)


def test_scheduled_crawl_runs_as_a_subprocess_and_its_record_matches_the_store(setup):
    engine, sites = setup
    with Testbed(day=1) as tb:
        _profile("testbed_market_a.yaml", sites / "testbed_market_a.yaml", base_url=tb.url("market_a"),
                 max_pages=30)
        with session_scope(engine) as session:
            session.add(Schedule(name="crawl:testbed_market_a", kind="crawl", interval_seconds=6 * 3600,
                                 created_at=T0))
        _fire(engine, Clock(T0), "crawl:testbed_market_a")
        served = len(tb.request_log("market_a"))

    with Session(engine) as session:
        job = session.scalars(select(JobRun).where(JobRun.name == "crawl:testbed_market_a")).one()
        assert job.status == "finished", job.reason
        assert job.pid and job.crawl_run_id and job.finished_at >= job.started_at
        crawl = session.get(CrawlRun, job.crawl_run_id)
        site = session.scalars(select(Site).where(Site.slug == "testbed_market_a")).one()
        assert crawl.site_id == site.id and job.site_id == site.id
        pages = session.scalar(select(func.count()).where(Page.crawl_run_id == crawl.id))
        listings = session.scalar(select(func.count()).where(Listing.site_id == site.id))
        first_snapshots = session.scalar(select(func.count()).where(ListingSnapshot.crawl_run_id == crawl.id))
        assert 0 < pages <= served
        assert listings > 0
        assert job.stats["pages"] == crawl.pages == pages
        assert job.stats["listings_new"] == crawl.listings_new == listings == first_snapshots
        assert job.stats["listings_changed"] == 0 and job.stats["listings_gone"] == 0
        assert job.stats["crawl_status"] == crawl.status


def test_a_market_going_down_on_its_day_raises_exactly_one_alert(setup, webhook):
    engine, sites = setup
    clock = Clock(T0)
    with Testbed(day=MARKET_C_DOWN_DAY - 1) as tb:
        _profile("testbed_market_c.yaml", sites / "testbed_market_c.yaml", proxy=tb.proxy_url, max_pages=15)
        with session_scope(engine) as session:
            session.add(Schedule(name="crawl:testbed_market_c", kind="crawl", interval_seconds=24 * 3600,
                                 created_at=T0))
        # one scheduled crawl per testbed day; the down day is tried twice (a retry must not alert again)
        for day in (MARKET_C_DOWN_DAY - 1, MARKET_C_DOWN_DAY, MARKET_C_DOWN_DAY, MARKET_C_DOWN_DAY + 1):
            tb.set_day(day)
            _fire(engine, clock, "crawl:testbed_market_c")

    with Session(engine) as session:
        runs = list(session.scalars(select(JobRun).where(JobRun.name == "crawl:testbed_market_c")
                                    .order_by(JobRun.id)))
        assert [r.status for r in runs] == ["finished", "failed", "failed", "finished"], \
            [(r.status, r.reason) for r in runs]
        assert runs[0].stats["listings_seen"] > 0 and runs[3].stats["listings_seen"] > 0
        alerts = list(session.scalars(select(Alert)))
        assert len(alerts) == 1 and alerts[0].kind == "site_dark" and alerts[0].delivered_at is not None
    assert len(webhook) == 1
    assert webhook[0]["kind"] == "site_dark" and "testbed_market_c" in webhook[0]["message"]
