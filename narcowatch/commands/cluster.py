"""`narcowatch cluster`: which vendor accounts are the same trafficker (classifiers.vendors)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from classifiers.vendors import Account, ClusterResult, Feedback, RecordError, cluster_accounts

T = TypeVar("T")


def _read_jsonl(path: Path, parse: Callable[[dict], T], what: str) -> Iterator[T]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                data: Any = json.loads(line)
            except json.JSONDecodeError as exc:
                raise click.ClickException(
                    f"{path}, line {number}: not valid JSON ({exc.msg}); each line must be one {what} "
                    "object") from exc
            try:
                yield parse(data)
            except RecordError as exc:
                raise click.ClickException(f"{path}, line {number}: {exc}") from exc


@click.command("cluster")
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='Accounts as JSON lines: {"account_id", "site", "handle"} plus optional pgp_fingerprints, '
                   "wallets, contacts, ships_from, titles (lists), profile (text), products (list). Without "
                   "--input, the accounts stored in the database are clustered (as with --db).")
@click.option("--db", "use_db", is_flag=True,
              help="Cluster the vendor accounts stored in the database (after crawls), respecting every stored "
                   "investigator decision, and write clusters, members and explained links back (idempotent).")
@click.option("--output", "output_path", type=click.Path(dir_okay=False, path_type=Path),
              help='Where to write one JSON line per account: {"account_id", "cluster_id", "confidence"}. '
                   "Required with --input; optional with --db (account ids are then \"site:handle\").")
@click.option("--explain", "explain_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every link (joined, blocked, rejected, confirmed, for review) with its score, "
                   "evidence and an investigator's sentence, one JSON line each.")
@click.option("--feedback", "feedback_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='Investigator decisions as JSON lines: {"kind": confirm|reject|split|merge, "who", "when", '
                   '"account_a", "account_b"} (confirm/reject), "members" (merge), "members" + "others" '
                   "(split), optional \"note\". Every decision is respected by the clustering. With --db the "
                   "decisions (account ids \"site:handle\") are first added to the stored feedback.")
def cluster_cmd(input_path: Path | None, use_db: bool, output_path: Path | None, explain_path: Path | None,
                feedback_path: Path | None) -> None:
    """Cluster vendor accounts across markets and forums into traffickers, with explained links."""
    if input_path is not None and use_db:
        raise click.UsageError("give either --input (a JSON lines file) or --db (the stored accounts), not both")
    if input_path is None:
        _cluster_db(output_path, explain_path, feedback_path)
        return
    if output_path is None:
        raise click.UsageError("--output is required with --input")
    accounts = list(_read_jsonl(input_path, Account.from_dict, "account"))
    feedback = list(_read_jsonl(feedback_path, Feedback.from_dict, "feedback")) if feedback_path else []
    try:
        result = cluster_accounts(accounts, feedback)
    except RecordError as exc:
        raise click.ClickException(f"{input_path}: {exc}") from exc
    _write_outputs(result, output_path, explain_path)
    multi = sum(1 for c in result.clusters if len(c.members) > 1)
    click.echo(f"{len(accounts)} accounts -> {len(result.clusters)} clusters ({multi} with several accounts), "
               f"{result.stats.get('links_joined', 0)} links joined, "
               f"{result.stats.get('links_blocked', 0)} blocked; wrote {output_path}"
               + (f" and {explain_path}" if explain_path else ""), err=True)


def _write_outputs(result: ClusterResult, output_path: Path | None, explain_path: Path | None) -> None:
    assignment = result.assignments()
    if output_path is not None:
        with output_path.open("w", encoding="utf-8") as out:
            for cluster in sorted(result.clusters, key=lambda c: c.cluster_id):
                for member in cluster.members:
                    out.write(json.dumps({"account_id": member, "cluster_id": cluster.cluster_id,
                                          "confidence": cluster.confidence}) + "\n")
    if explain_path is not None:
        with explain_path.open("w", encoding="utf-8") as out:
            for link in result.links:
                row = link.to_dict()
                ca, cb = assignment[link.a].cluster_id, assignment[link.b].cluster_id
                row["clusters"] = [ca] if ca == cb else [ca, cb]
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


def _cluster_db(output_path: Path | None, explain_path: Path | None, feedback_path: Path | None) -> None:
    from narcowatch.context import database
    from storage.cluster_store import add_feedback, load_accounts, recluster
    from storage.db import describe, session_scope

    engine = database()
    try:
        with session_scope(engine) as session:
            if feedback_path is not None:
                _, ids = load_accounts(session)
                for fb in _read_jsonl(feedback_path, Feedback.from_dict, "feedback"):
                    def db_id(name: str | None, fb: Feedback = fb) -> int:
                        if name not in ids:
                            raise click.ClickException(
                                f"{feedback_path}: decision by {fb.who} at {fb.when.isoformat()} names account "
                                f"{name!r}, which is not stored; use \"site_slug:handle\" ids")
                        return ids[name]
                    add_feedback(session, fb.kind, fb.who, at=fb.when, note=fb.note,
                                 account_a=db_id(fb.account_a) if fb.account_a else None,
                                 account_b=db_id(fb.account_b) if fb.account_b else None,
                                 members=[db_id(m) for m in fb.members], others=[db_id(m) for m in fb.others])
            summary, result = recluster(session)
    except RecordError as exc:
        raise click.ClickException(f"database {describe(engine)}: {exc}") from exc
    _write_outputs(result, output_path, explain_path)
    click.echo(f"{summary.accounts} stored accounts -> {summary.clusters} clusters "
               f"({summary.multi_account_clusters} with several accounts), {summary.links} links "
               f"({summary.links_inserted} new, {summary.links_updated} updated, {summary.links_deleted} dropped), "
               f"{summary.feedback} investigator decisions respected; stored in {describe(engine)}", err=True)


commands = [cluster_cmd]
