"""`narcowatch report weekly`: the drug desk's weekly trend export (reports/)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from narcowatch import settings
from narcowatch.context import database


def resolve_week(session: Session, text: str, now: datetime):
    """'last' -> the last complete ISO week; 'latest' -> the week of the newest crawl run; else YYYY-Www."""
    from reports.weeks import Week, last_complete_week
    from storage.models import CrawlRun

    key = text.strip().lower()
    if key == "last":
        return last_complete_week(now)
    if key == "latest":
        newest = session.scalar(select(func.max(CrawlRun.started_at)))
        return Week.of(newest) if newest else last_complete_week(now)
    try:
        return Week.parse(text)
    except ValueError as exc:
        raise click.BadParameter(f"{exc} (or 'last', 'latest')", param_hint="--week") from exc


@click.group("report")
def report() -> None:
    """Reports for the drug desk."""


@report.command("weekly")
@click.option("--week", "week_text", default="last", show_default=True, metavar="YYYY-Www|last|latest",
              help="ISO week (Monday to Sunday, UTC) to report, e.g. 2026-W47. 'last' is the last complete week "
                   "(what the Monday job reports); 'latest' is the week of the newest crawl run.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the report into. Default: $NARCOWATCH_HOME/reports/<week>/.")
def weekly(week_text: str, out_dir: Path | None) -> None:
    """Write the weekly trend report: report.html, report.pdf, CSV tables, report.xlsx and summary.json."""
    from reports.weekly import write_report

    engine = database()
    with Session(engine) as session:
        week = resolve_week(session, week_text, datetime.now(UTC))
        out = out_dir or settings.home() / "reports" / str(week)
        try:
            result = write_report(session, week, out)
        except OSError as exc:
            raise click.ClickException(f"could not write the report into {out}: {exc}") from exc
    t = result.summary["totals"]
    click.echo(f"weekly report {week} ({result.summary['period']['start']} to {result.summary['period']['end']}): "
               f"{t['active']} active, {t['new']} new, {t['vanished']} vanished listings")
    for note in result.summary["notes"]:
        click.echo(f"  note: {note}")
    click.echo(f"written to {out.resolve()}/ (report.html, report.pdf, report.xlsx, summary.json, "
               f"{len(result.files) - 4} CSV tables)")


commands = [report]
