"""`narcowatch analyze`: run the extractors (and the category classifier) over a JSON-lines file."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import click

from narcowatch.analysis import analyze, category_source, metadata
from narcowatch.vendor_context_pass import VendorContextPass

CHUNK = 2000  # records analysed at a time: bounded memory on large exports


def _records(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise click.ClickException(
                    f"{path}, line {number}: not valid JSON ({exc.msg} at column {exc.colno}); each line must "
                    'be one object like {"id": ..., "title": ..., "description": ..., "text": ...}') from exc
            if not isinstance(data, dict):
                raise click.ClickException(f"{path}, line {number}: expected a JSON object, got "
                                           f"{type(data).__name__}")
            if "id" not in data:
                raise click.ClickException(f"{path}, line {number}: field 'id' is missing; every record needs "
                                           "an id so results can be joined back")
            for field in ("title", "description", "text"):
                value = data.get(field)
                if value is not None and not isinstance(value, str):
                    raise click.ClickException(f"{path}, line {number}: field '{field}' must be a string, "
                                               f"got {type(value).__name__}")
            if not any(data.get(f) for f in ("title", "description", "text")):
                raise click.ClickException(f"{path}, line {number}: no 'title', 'description' or 'text' to "
                                           "analyse")
            yield data


@click.command("analyze")
@click.option("--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='Records as JSON lines: {"id", "title", "description"?, "text"?, "vendor"?}. Listings that '
                   'share a "vendor" are categorised with the vendor\'s other listings in the file.')
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write one JSON line per record: its id plus category, category_scores, substances, "
                   "quantities, prices, ships_from, ships_to, identifiers. A sidecar OUTPUT.meta.json says "
                   "where the category came from.")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1, 100_000),
              help="Texts per spaCy nlp.pipe batch.")
def analyze_cmd(input_path: Path, output_path: Path, batch_size: int) -> None:
    """Extract substances, quantities, prices, shipping and identifiers from listings or posts."""
    source = category_source()
    count = 0
    chunk: list[dict] = []
    # written next to the output and renamed into place only when every record was read: a bad line
    # (or a crash) never leaves a half-written output or truncates an earlier one
    partial = output_path.with_name(output_path.name + ".partial")
    context = VendorContextPass()
    try:
        with partial.open("w", encoding="utf-8") as out:
            def flush() -> None:
                for record, result in zip(chunk, analyze(chunk, batch_size=batch_size), strict=True):
                    context.add(record, result)
                    out.write(json.dumps(result, ensure_ascii=False) + "\n")
                chunk.clear()

            for record in _records(input_path):
                chunk.append(record)
                count += 1
                if len(chunk) >= CHUNK:
                    flush()
            flush()
        context.rewrite(partial)
        os.replace(partial, output_path)
    finally:
        partial.unlink(missing_ok=True)
    meta = metadata(source, count, input=str(input_path), output=str(output_path),
                    created=datetime.now(UTC).isoformat(timespec="seconds"))
    sidecar = output_path.with_name(output_path.name + ".meta.json")
    sidecar.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    click.echo(f"analysed {count} records -> {output_path} (category from {source}; metadata in {sidecar})")


commands = [analyze_cmd]
