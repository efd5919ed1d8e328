"""`narcowatch retention ...` and `narcowatch hold ...`: data protection rules and case holds."""

from __future__ import annotations

import getpass

import click
from sqlalchemy import select

from narcowatch import settings
from narcowatch.context import database, evidence_store
from storage.db import session_scope
from storage.models import HOLD_KINDS, CaseHold, Listing, Post, Site, VendorAccount, utcnow
from storage.retention import Rules, plan, purge

TARGETS = {"listing": Listing, "vendor": VendorAccount, "post": Post, "site": Site}


def _days(name: str) -> int | None:
    value = settings.get(name)
    if value in (None, ""):
        return None
    try:
        days = int(value)
    except ValueError:
        raise click.ClickException(f"{name}={value!r}: expected a whole number of days") from None
    if days < 0:
        raise click.ClickException(f"{name}={value!r}: days cannot be negative")
    return days


def rules() -> Rules:
    return Rules(_days("NARCOWATCH_RETAIN_PAGES_DAYS"), _days("NARCOWATCH_RETAIN_POSTS_DAYS"),
                 _days("NARCOWATCH_RETAIN_IDENTIFIERS_DAYS"))


def _describe(r: Rules) -> list[str]:
    def rule(days):
        return f"{days} days" if days is not None else "no rule (kept)"

    return [f"raw pages: {rule(r.pages_days)}", f"forum posts: {rule(r.posts_days)}",
            f"personal identifiers: {rule(r.identifiers_days)}"]


@click.group("retention")
def retention() -> None:
    """Retention rules per data kind, and the purge that applies them (case holds are always kept)."""


@retention.command("show")
def retention_show() -> None:
    """Show the rules and what a purge would delete now."""
    r = rules()
    with session_scope(database()) as session:
        p = plan(session, r, utcnow())
    for line in _describe(r):
        click.echo(line)
    click.echo(f"a purge now would delete {len(p.page_ids)} pages, {len(p.post_ids)} posts, "
               f"{len(p.identifier_ids)} identifiers and clear {len(p.profile_account_ids)} profiles; "
               f"case holds keep {p.held_pages_kept} pages, {p.held_posts_kept} posts, "
               f"{p.held_identifiers_kept} identifiers")


@retention.command("purge")
@click.option("--yes", is_flag=True, help="Really delete; without it, only show what would be deleted.")
def retention_purge(yes: bool) -> None:
    """Delete what the retention rules say has expired, except anything under a case hold."""
    r = rules()
    if not yes:
        click.echo("dry run (add --yes to delete):")
        retention_show.callback()
        return
    with session_scope(database()) as session:
        result = purge(session, evidence_store(), r, utcnow())
    p = result.plan
    click.echo(f"purged {len(p.page_ids)} pages ({result.bodies_deleted} bodies, {result.warc_files_deleted} "
               f"WARC files), {len(p.post_ids)} posts, {len(p.identifier_ids)} identifiers, "
               f"{len(p.profile_account_ids)} profiles; kept under case hold: {p.held_pages_kept} pages, "
               f"{p.held_posts_kept} posts, {p.held_identifiers_kept} identifiers")


@click.group("hold")
def hold() -> None:
    """Case holds: keep a listing, vendor account, post or whole site whatever the retention rules say."""


@hold.command("add")
@click.argument("kind", type=click.Choice(HOLD_KINDS))
@click.argument("target_id", type=int)
@click.option("--case", "case_ref", required=True, help="Case reference, e.g. the file number.")
@click.option("--note", help="Why it is held.")
@click.option("--by", "who", default=None, help="Who places the hold (default: the current OS user).")
def hold_add(kind: str, target_id: int, case_ref: str, note: str | None, who: str | None) -> None:
    """Place KIND TARGET_ID (e.g. `listing 42`) on hold for a case."""
    with session_scope(database()) as session:
        if session.get(TARGETS[kind], target_id) is None:
            raise click.ClickException(f"no {kind} with id {target_id}")
        record = CaseHold(case_ref=case_ref, kind=kind, target_id=target_id, note=note,
                          created_by=who or getpass.getuser())
        session.add(record)
        session.flush()
        click.echo(f"hold #{record.id}: {kind} {target_id} for case {case_ref}")


@hold.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include released holds.")
def hold_list(show_all: bool) -> None:
    """List case holds."""
    with session_scope(database()) as session:
        stmt = select(CaseHold).order_by(CaseHold.id)
        if not show_all:
            stmt = stmt.where(CaseHold.released_at.is_(None))
        rows = session.scalars(stmt).all()
        if not rows:
            click.echo("no holds")
        for h in rows:
            state = f"released {h.released_at:%Y-%m-%d} by {h.released_by}" if h.released_at else "active"
            click.echo(f"#{h.id} {h.kind} {h.target_id} case {h.case_ref} by {h.created_by} "
                       f"{h.created_at:%Y-%m-%d} {state}" + (f" - {h.note}" if h.note else ""))


@hold.command("release")
@click.argument("hold_id", type=int)
@click.option("--by", "who", default=None, help="Who releases it (default: the current OS user).")
def hold_release(hold_id: int, who: str | None) -> None:
    """Release hold HOLD_ID (the record stays; the data becomes subject to retention again)."""
    with session_scope(database()) as session:
        record = session.get(CaseHold, hold_id)
        if record is None or record.released_at is not None:
            raise click.ClickException(f"no active hold #{hold_id}; see `narcowatch hold list`")
        record.released_at, record.released_by = utcnow(), who or getpass.getuser()
    click.echo(f"hold #{hold_id} released")


commands = [retention, hold]
