"""Data protection: secrets never reach a log line (crawler, scheduler, web app, at DEBUG level), the
audit log's hash chain catches every kind of tampering, retention keeps what a post hold protects.

(tests/test_retention.py covers retention of raw pages, posts and identifiers with listing, vendor and
site holds; tests/test_logs.py the redaction filter itself; tests/test_web.py the audit chain on edits and
deletions. This file adds what those do not: real processes' whole output, forged insertions, reordering,
the CLI verdict, and post holds.)
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.storage_helpers import drop_audit_guard

ROOT = Path(__file__).resolve().parents[1]

SECRETS = {
    "proxy": "PrOxyPw-7731",
    "tor": "T0rCircuitPw-55",
    "smtp": "SmtpPw-90210",
    "webhook": "hook-token-4bd1e6f0a9",
    "db": "DbPw-31337",
    "user_password": "correct horse battery staple",
}


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _secret_env(home: Path) -> dict[str, str]:

    from test_crawl_support import crawl_env

    env = crawl_env(home)
    dead = _dead_port()
    env.update({
        "NARCOWATCH_LOG_LEVEL": "DEBUG",
        "NARCOWATCH_TOR_PROXY": f"socks5h://circuit:{SECRETS['tor']}@127.0.0.1:{dead}",
        "NARCOWATCH_SMTP_URL": f"smtp://alerts:{SECRETS['smtp']}@127.0.0.1:{dead}",
        "NARCOWATCH_ALERT_EMAIL": "desk@example.org",
        "NARCOWATCH_ALERT_WEBHOOK": f"http://127.0.0.1:{dead}/hooks/{SECRETS['webhook']}",
        "NARCOWATCH_ALERT_FAILURES": "1",
    })
    return env


def _leaks(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


def _db_text(db: Path) -> str:
    """Every text value in the database (job reasons, crawl errors, alerts, audit details)."""
    conn = sqlite3.connect(db)
    try:
        out = []
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            for row in conn.execute(f"SELECT * FROM \"{table}\""):
                out.extend(str(v) for v in row if isinstance(v, str))
        return "\n".join(out)
    finally:
        conn.close()


@pytest.mark.timeout(600)
def test_no_secret_in_crawl_and_scheduler_output_or_stored_reasons(tmp_path):
    """A crawl through a proxy with credentials that is down, run by the scheduler (which then alerts by
    webhook and SMTP, both failing): DEBUG output of every process and every stored reason stay clean."""
    from test_crawl_support import PROFILE, run_cli

    home = tmp_path / "home"
    run_cli(home, "db", "upgrade")
    env = _secret_env(home)
    dead = _dead_port()
    proxy = f"socks5h://narco:{SECRETS['proxy']}@127.0.0.1:{dead}"
    crawl = subprocess.run([sys.executable, "-m", "narcowatch", "crawl", PROFILE["market_c"], "--proxy", proxy],
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert crawl.returncode == 1, crawl.stdout + crawl.stderr[-2000:]
    # the profile's own `proxy: tor` path: NARCOWATCH_TOR_PROXY with credentials, via the scheduler's run-now
    sites = tmp_path / "sites"
    sites.mkdir()
    from test_crawl_support import SITES

    text = (SITES / "testbed_market_c.yaml").read_text(encoding="utf-8")
    text = "\n".join("proxy: tor" if line.startswith("proxy:") else line for line in text.splitlines())
    (sites / "testbed_market_c.yaml").write_text(text + "\n", encoding="utf-8")
    env["NARCOWATCH_SITES_DIR"] = str(sites)
    sched = subprocess.run([sys.executable, "-m", "narcowatch", "schedule", "run-now", "testbed_market_c"], env=env,
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert sched.returncode == 1, sched.stdout + sched.stderr[-2000:]
    output = crawl.stdout + crawl.stderr + sched.stdout + sched.stderr
    assert "DEBUG" in output or "unreachable" in output  # the processes did talk
    assert _leaks(output) == [], [line for line in output.splitlines() if _leaks(line)][:5]
    stored = _db_text(home / "narcowatch.db")
    assert _leaks(stored) == [], [line for line in stored.splitlines() if _leaks(line)][:5]


@pytest.mark.timeout(300)
def test_no_secret_in_web_app_output(tmp_path):
    """`narcowatch serve --log-level debug`: logins with passwords, API calls with bearer tokens, failed
    logins and bad tokens; the server's whole output holds none of them."""
    import httpx
    from test_crawl_support import run_cli

    from storage.db import make_engine
    from web.accounts import add_user, create_token

    home = tmp_path / "home"
    run_cli(home, "db", "upgrade")
    engine = make_engine(f"sqlite:///{home / 'narcowatch.db'}")
    with Session(engine) as session:
        add_user(session, "ivan", SECRETS["user_password"], ["investigator"], actor="test")
        _, token = create_token(session, "ivan", "notebook")
        session.commit()
    engine.dispose()
    env = _secret_env(home)
    env["NARCOWATCH_DATABASE_URL"] = f"sqlite:///{home / 'narcowatch.db'}"
    port = _dead_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "narcowatch", "serve", "--port", str(port), "--log-level", "debug"],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(base + "/login", timeout=2)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.3)
        with httpx.Client(base_url=base, timeout=30) as c:
            page = c.get("/login").text
            import re

            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            c.post("/login", data={"username": "ivan", "password": SECRETS["user_password"] + "x", "csrf_token": csrf})
            c.post("/login", data={"username": "ivan", "password": SECRETS["user_password"], "csrf_token": csrf})
        api = {"authorization": f"Bearer {token}"}
        assert httpx.get(base + "/api/search", params={"q": "cocaine"}, headers=api, timeout=30).status_code == 200
        httpx.get(base + "/api/search", headers={"authorization": f"Bearer {token}x"}, timeout=30)
        httpx.get(base + "/api/search", params={"token": token}, headers=api, timeout=30)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert "GET /api/search" in output  # debug/access logging was on
    # a token put into a URL by a careless client is the client's leak; the server must not add its own
    lines = [line for line in output.splitlines() if "token=" not in line]
    found = [line for line in lines if token in line or _leaks(line)]
    assert found == [], found[:5]
    stored = _db_text(home / "narcowatch.db")
    assert token not in stored and SECRETS["user_password"] not in stored


# ----------------------------------------------------------------------------------- audit log tampering


def _chain(session, n: int = 6):
    from storage import audit
    from storage.models import AuditLog

    for i in range(n):
        audit.append(session, "ivan", "search", "listings", {"q": f"word{i}"}, "10.0.0.1")
    session.commit()
    return list(session.scalars(select(AuditLog).order_by(AuditLog.id)))


def test_forged_entry_inserted_with_a_valid_hash_is_detected(session):
    """An attacker who knows the hashing rule inserts an entry that links to its predecessor: the entry
    after it no longer links, so the insertion shows."""
    from storage.audit import entry_hash, verify_chain
    from storage.models import AuditLog, utcnow

    entries = _chain(session)
    drop_audit_guard(session)
    at = utcnow()
    prev = entries[2].hash
    ids = [e.id for e in entries]
    # ids are append-only: squeeze the forgery in by moving later entries up (what an attacker would do)
    for old in reversed(ids[3:]):
        session.execute(update(AuditLog).where(AuditLog.id == old).values(id=old + 1),
                        execution_options={"synchronize_session": False})
    session.expunge_all()
    session.add(AuditLog(id=ids[3], at=at, username="mallory", action="search", target="listings",
                         detail={"q": "nothing to see"}, remote_addr="10.0.0.9", prev_hash=prev,
                         hash=entry_hash(prev, at, "mallory", "search", "listings", {"q": "nothing to see"},
                                         "10.0.0.9")))
    session.commit()
    problems = verify_chain(session)
    assert len(problems) == 1 and "deleted, inserted or reordered" in problems[0]


def test_reordered_and_rewritten_entries_are_detected(session):
    from storage.audit import verify_chain
    from storage.models import AuditLog

    entries = _chain(session)
    drop_audit_guard(session)
    a, b = entries[1], entries[4]
    swap = {"username": b.username, "detail": b.detail}
    session.execute(update(AuditLog).where(AuditLog.id == b.id).values(username="ghost", detail={"q": "moved"}))
    session.execute(update(AuditLog).where(AuditLog.id == a.id).values(**swap))
    session.commit()
    problems = verify_chain(session)
    assert {p.split(" ")[2] for p in problems} >= {str(a.id), str(b.id)}


def test_audit_verify_command_exits_1_on_tampering(nw_home):
    from click.testing import CliRunner

    from narcowatch.cli import cli
    from storage.db import default_engine
    from storage.models import AuditLog

    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    with Session(default_engine()) as session:
        entries = _chain(session, 4)
    ok = runner.invoke(cli, ["users", "audit-verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    with Session(default_engine()) as session:
        drop_audit_guard(session)
        session.delete(session.get(AuditLog, entries[1].id))
        session.commit()
    bad = runner.invoke(cli, ["users", "audit-verify"])
    assert bad.exit_code == 1 and f"audit entry {entries[2].id}" in bad.output


def _refused(session, statement, *params) -> str:
    """Run a statement the triggers must refuse; returns the database's message (the transaction is
    rolled back)."""
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError) as caught:
        session.execute(statement, *params)
        session.flush()
    session.rollback()
    return str(caught.value.orig)


def test_audit_log_refuses_update_and_delete_at_database_level(session):
    """The triggers of migration 0002 refuse every UPDATE and DELETE of audit_log (and TRUNCATE on
    PostgreSQL), through the ORM or raw SQL; appending still works and the chain stays intact."""
    from sqlalchemy import delete, text

    from storage import audit
    from storage.models import AuditLog

    entries = _chain(session, 4)
    before = [(e.id, e.hash, e.detail) for e in entries]
    target = entries[1].id
    for statement in (update(AuditLog).where(AuditLog.id == target).values(detail={"q": "innocent"}),
                      update(AuditLog).values(username="ghost"),
                      text("UPDATE audit_log SET hash = prev_hash"),
                      delete(AuditLog).where(AuditLog.id == target),
                      text("DELETE FROM audit_log")):
        assert "audit_log is append-only" in _refused(session, statement)
    entry = session.get(AuditLog, target)
    entry.action = "login"
    with pytest.raises(Exception, match="append-only"):
        session.commit()
    session.rollback()
    session.delete(session.get(AuditLog, target))
    with pytest.raises(Exception, match="append-only"):
        session.commit()
    session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        assert "TRUNCATE is not allowed" in _refused(session, text("TRUNCATE audit_log"))
    session.expunge_all()
    after = list(session.scalars(select(AuditLog).order_by(AuditLog.id)))
    assert [(e.id, e.hash, e.detail) for e in after] == before
    audit.append(session, "ivan", "export", "listings", {"rows": 3})  # the writer's lock still works
    session.commit()
    assert audit.verify_chain(session) == []
    assert session.scalar(select(AuditLog.action).order_by(AuditLog.id.desc()).limit(1)) == "export"


def test_audit_log_triggers_go_with_a_downgrade_and_come_back(engine):
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from storage.migrate import alembic_config, current_revision, head_revision

    with Session(engine) as session:
        _chain(session, 2)
    command.downgrade(alembic_config(engine), "0001")
    with engine.begin() as conn:  # without migration 0002 nothing stops an edit
        conn.execute(text("UPDATE audit_log SET username = 'ghost' WHERE id = 1"))
    command.upgrade(alembic_config(engine), "head")
    assert current_revision(engine) == head_revision()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET username = 'ivan' WHERE id = 1"))


def test_retention_purge_works_with_the_append_only_audit_log(session, evidence):
    """Retention purges pages, posts and identifiers, never the audit log: a purge on a database with the
    triggers runs, and the audit chain is untouched."""
    from storage.audit import verify_chain
    from storage.evidence_run import RunEvidence
    from storage.models import AuditLog, Page, Post, Site
    from storage.records import PostRecord, ThreadRecord
    from storage.retention import Rules, purge
    from storage.upsert import upsert_post, upsert_thread
    from tests.storage_helpers import at, new_run

    entries = _chain(session, 3)
    run = new_run(session, slug="forum", when=at(1))
    rec = RunEvidence(evidence, session, run, session.get(Site, run.site_id))
    thread = upsert_thread(session, run.site_id, ThreadRecord("t", "t", "http://f/t"), at(1))
    page = rec.capture(session, "http://f/t", 200, [], b"<p>old</p>", at(1), "text/html")
    post, _ = upsert_post(session, run.site_id, thread.id, PostRecord("p", "t", "u", "old text", at(1)), at(1))
    post.page_id = page.id
    rec.sync()
    session.commit()
    result = purge(session, evidence, Rules(pages_days=30, posts_days=30, identifiers_days=30), at(100))
    assert result.plan.post_ids == [post.id] and result.plan.page_ids == [page.id]
    assert session.scalar(select(Post.id)) is None and session.scalar(select(Page.id)) is None
    assert list(session.scalars(select(AuditLog.hash).order_by(AuditLog.id))) == [e.hash for e in entries]
    assert verify_chain(session) == []


# ----------------------------------------------------------------------------------- retention: post holds


def test_post_hold_keeps_an_expired_post_and_its_page(session, evidence):
    from storage.evidence_check import verify
    from storage.evidence_run import RunEvidence
    from storage.models import CaseHold, Post, Site
    from storage.records import PostRecord, ThreadRecord
    from storage.retention import Rules, purge
    from storage.upsert import upsert_post, upsert_thread
    from tests.storage_helpers import at, new_run

    run = new_run(session, slug="forum", when=at(1))
    rec = RunEvidence(evidence, session, run, session.get(Site, run.site_id))
    thread = upsert_thread(session, run.site_id, ThreadRecord("t", "t", "http://f/t"), at(1))
    ids = {}
    for name in ("held", "gone"):
        page = rec.capture(session, f"http://f/t?{name}", 200, [], f"<p>{name}</p>".encode(), at(1), "text/html")
        post, _ = upsert_post(session, run.site_id, thread.id, PostRecord(name, "t", "u", f"{name} text", at(1)),
                              at(1))
        post.page_id = page.id
        ids[name] = (post.id, page.id, page.sha256)
    rec.sync()
    rec.close(session)
    session.add(CaseHold(case_ref="OP-POST", kind="post", target_id=ids["held"][0], created_by="inv1"))
    session.commit()
    result = purge(session, evidence, Rules(pages_days=30, posts_days=30, identifiers_days=30), at(400))
    assert result.plan.held_posts_kept == 1 and result.plan.held_pages_kept == 1
    assert [p.id for p in session.scalars(select(Post))] == [ids["held"][0]]
    assert evidence.has_body(ids["held"][2]) and not evidence.has_body(ids["gone"][2])
    assert verify(session, evidence).ok
