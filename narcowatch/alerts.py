"""Alerts for cyber units: a site that suddenly yields nothing (seized, exit-scammed, changed layout) or
keeps failing. At most one alert per episode: an episode starts at the first bad run after a healthy one and
ends at the next healthy run, so an outage raises one alert, not one per scheduled attempt."""

from __future__ import annotations

import json
import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from narcowatch import settings
from storage.models import Alert, JobRun, utcnow

log = logging.getLogger(__name__)


def _healthy(run: JobRun) -> bool:
    return run.status == "finished" and (run.stats or {}).get("listings_seen", 0) > 0


def evaluate(session: Session, site_id: int, site_slug: str) -> Alert | None:
    """Look at the site's finished job runs (newest first) and record an alert if one is due."""
    runs = list(session.scalars(select(JobRun).where(
        JobRun.site_id == site_id, JobRun.kind == "crawl",
        JobRun.status.in_(["finished", "failed", "timeout"])).order_by(JobRun.id.desc()).limit(200)))
    if not runs or _healthy(runs[0]):
        return None
    episode = []
    for run in runs:
        if _healthy(run):
            break
        episode.append(run)
    had_healthy = len(episode) < len(runs)
    since = episode[-1].started_at
    already = session.scalars(select(Alert).where(Alert.site_id == site_id, Alert.created_at >= since)).first()
    if already:
        return None
    latest = episode[0]
    if had_healthy:
        what = "failed" if latest.status != "finished" else "finished but yielded no listings"
        alert = Alert(kind="site_dark", site_id=site_id,
                      message=f"{site_slug}: the last crawl {what} after a healthy run "
                              f"(seized, exit-scammed, down or changed layout?): {latest.reason or 'no listings'}")
    elif len(episode) >= int(settings.get("NARCOWATCH_ALERT_FAILURES") or 3):
        alert = Alert(kind="repeated_failures", site_id=site_id,
                      message=f"{site_slug}: {len(episode)} crawls in a row failed or yielded no listings; "
                              f"last: {latest.reason or latest.status}")
    else:
        return None
    session.add(alert)
    session.flush()
    return alert


def deliver(alert: Alert) -> None:
    """Send to the configured webhook and/or SMTP server; record delivery or the error on the alert."""
    payload = {"id": alert.id, "kind": alert.kind, "site_id": alert.site_id, "message": alert.message,
               "created_at": alert.created_at.isoformat() if alert.created_at else None}
    errors = []
    webhook = settings.get("NARCOWATCH_ALERT_WEBHOOK")
    smtp_url = settings.get("NARCOWATCH_SMTP_URL")
    if webhook:
        try:
            httpx.post(webhook, json=payload, timeout=10).raise_for_status()
        except httpx.HTTPError as exc:
            errors.append(f"webhook: {exc}")
    if smtp_url:
        try:
            _send_mail(smtp_url, payload)
        except (OSError, smtplib.SMTPException) as exc:
            errors.append(f"smtp: {exc}")
    if not webhook and not smtp_url:
        log.warning("alert %s not delivered: set NARCOWATCH_ALERT_WEBHOOK or NARCOWATCH_SMTP_URL", alert.kind)
        errors.append("no alert channel configured")
    alert.delivery_error = "; ".join(errors) or None
    channels = bool(webhook) + bool(smtp_url)
    if channels and len(errors) < channels:  # delivered through at least one channel
        alert.delivered_at = utcnow()


def _send_mail(smtp_url: str, payload: dict) -> None:
    recipients = [r.strip() for r in (settings.get("NARCOWATCH_ALERT_EMAIL") or "").split(",") if r.strip()]
    if not recipients:
        raise smtplib.SMTPException("NARCOWATCH_ALERT_EMAIL is not set")
    url = urlsplit(smtp_url)
    message = EmailMessage()
    message["Subject"] = f"[narcowatch] {payload['kind']}: {payload['message'][:120]}"
    message["From"] = f"narcowatch@{url.hostname or 'localhost'}"
    message["To"] = ", ".join(recipients)
    message.set_content(json.dumps(payload, indent=2))
    smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with smtp_class(url.hostname or "localhost", url.port or (465 if url.scheme == "smtps" else 25),
                    timeout=15) as smtp:
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(message)
