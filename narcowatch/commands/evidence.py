"""`narcowatch evidence`: verify the evidence store, export a bundle for a listing."""

from __future__ import annotations

from pathlib import Path

import click

from narcowatch.context import database, evidence_store
from storage.db import session_scope
from storage.evidence_bundle import ExportError, export_listing
from storage.evidence_check import verify


@click.group("evidence")
def evidence() -> None:
    """Check and export court-grade evidence (raw pages, WARC records, hashes, timestamps)."""


@evidence.command("verify")
def evidence_verify() -> None:
    """Re-hash every stored body, WARC record and sealed WARC file; name anything altered or missing.

    Exits with status 1 when any problem is found."""
    store = evidence_store()
    with session_scope(database()) as session:
        report = verify(session, store)
    click.echo(f"checked {report.bodies_checked} bodies, {report.records_checked} WARC records, "
               f"{report.warc_files_checked} sealed WARC files under {store.root}")
    if report.leftover_temp:
        click.echo(f"ignored {report.leftover_temp} temporary file(s) left by an interrupted write (never evidence)")
    if report.ok:
        click.echo("evidence intact")
        return
    for problem in report.problems:
        click.echo(str(problem), err=True)
    raise SystemExit(1)


@evidence.command("export")
@click.option("--listing", "listing_id", type=int, required=True, help="Listing id (from search or the web app).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Zip file to write (default: evidence-listing-ID.zip in the current folder).")
def evidence_export(listing_id: int, out: Path | None) -> None:
    """Write a bundle (pages, screenshots, WARC records, listing history, manifest with hashes)."""
    out = out or Path(f"evidence-listing-{listing_id}.zip")
    with session_scope(database()) as session:
        try:
            manifest = export_listing(session, evidence_store(), listing_id, out)
        except ExportError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {out} ({len(manifest['pages'])} pages, {len(manifest['files'])} files, "
               "hashes in manifest.json and SHA256SUMS)")


commands = [evidence]
