"""Every setting narcowatch reads from the environment, in one place, with its help text.

A test (tests/test_docs.py) fails when a setting declared here is missing from docs/settings.md,
so add the line there when you add one here. Code reads settings through `get()` only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str
    secret: bool = False


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("NARCOWATCH_HOME", "./narcowatch-data",
                "Data directory: SQLite database, evidence store (WARC files, bodies), reports, crawl state."),
        Setting("NARCOWATCH_DATABASE_URL", None,
                "SQLAlchemy URL of the database. Unset: SQLite file $NARCOWATCH_HOME/narcowatch.db. "
                "PostgreSQL: postgresql+psycopg://user@host/db.", secret=True),
        Setting("NARCOWATCH_EVIDENCE_DIR", None,
                "Where evidence (bodies, WARC files, screenshots) is kept. Unset: $NARCOWATCH_HOME/evidence. "
                "Point every crawler machine at the same shared path in a fleet."),
        Setting("NARCOWATCH_SITES_DIR", "./sites", "Folder of site profiles (one YAML file per site)."),
        Setting("NARCOWATCH_REDIS_URL", None,
                "Redis URL; when set, distributed crawls use scrapy-redis through it.", secret=True),
        Setting("NARCOWATCH_REDIS_PREFIX", "narcowatch",
                "Prefix of every Redis key of distributed crawls; fleets sharing one Redis use different ones."),
        Setting("NARCOWATCH_TOR_PROXY", "socks5h://127.0.0.1:9050",
                "SOCKS5 proxy (remote DNS) that profiles with `proxy: tor` use; .onion hosts only ever go there."),
        Setting("NARCOWATCH_CHROMIUM", "/usr/lib/chromium/chromium",
                "Chromium executable for browser-mode crawls and screenshots."),
        Setting("NARCOWATCH_LOG_LEVEL", "INFO", "Log level: DEBUG, INFO, WARNING, ERROR."),
        Setting("NARCOWATCH_CRAWL_TIMEOUT", "21600",
                "Seconds a scheduled crawl may run before the scheduler kills it (default 6 hours)."),
        Setting("NARCOWATCH_MISFIRE_GRACE", "3600",
                "Seconds after its due time a missed scheduled run (daemon down) is still started; older "
                "missed runs are skipped and recorded."),
        Setting("NARCOWATCH_REPORT_CRON", "0 6 * * mon",
                "Cron expression (scheduler time zone) of the weekly drug-desk report job."),
        Setting("NARCOWATCH_TIMEZONE", "UTC", "Time zone in which schedules' cron expressions are read."),
        Setting("NARCOWATCH_ALERT_WEBHOOK", None,
                "URL that alerts are POSTed to as JSON (a chat or ticketing webhook).", secret=True),
        Setting("NARCOWATCH_SMTP_URL", None,
                "SMTP server for alert e-mails: smtp://[user:password@]host[:port] (smtps:// for TLS).",
                secret=True),
        Setting("NARCOWATCH_ALERT_EMAIL", None, "Recipient(s) of alert e-mails, comma-separated."),
        Setting("NARCOWATCH_ALERT_FAILURES", "3",
                "Consecutive failed runs of a site that raise a repeated-failures alert."),
        Setting("NARCOWATCH_RETAIN_PAGES_DAYS", None,
                "Days raw pages (bodies, WARC records, screenshots) are kept before `retention purge` deletes "
                "them. Unset: kept until a rule is set."),
        Setting("NARCOWATCH_RETAIN_POSTS_DAYS", None,
                "Days forum posts are kept before `retention purge` deletes them. Unset: kept."),
        Setting("NARCOWATCH_RETAIN_IDENTIFIERS_DAYS", None,
                "Days personal identifiers (contacts, e-mail, wallets, PGP keys of vendor accounts) are kept. "
                "Unset: kept."),
        Setting("NARCOWATCH_TEST_DATABASE_URL", None,
                "Tests only: a PostgreSQL URL; when set, storage tests run on it too and fail if it is "
                "unreachable.", secret=True),
        Setting("NARCOWATCH_TEST_REDIS_URL", None,
                "Tests only: a Redis URL; when set, distributed-crawl tests run on it and fail if it is "
                "unreachable.", secret=True),
    ]
}


def get(name: str) -> str | None:
    """The value of a declared setting: the environment, else its default."""
    setting = SETTINGS[name]  # KeyError on an undeclared name is a programming error
    value = os.environ.get(name)
    return value if value not in (None, "") else setting.default


def home() -> Path:
    return Path(get("NARCOWATCH_HOME") or "./narcowatch-data").expanduser()


def evidence_dir() -> Path:
    explicit = get("NARCOWATCH_EVIDENCE_DIR")
    return Path(explicit).expanduser() if explicit else home() / "evidence"


def database_url() -> str:
    explicit = get("NARCOWATCH_DATABASE_URL")
    if explicit:
        return explicit
    return f"sqlite:///{(home() / 'narcowatch.db').resolve()}"
