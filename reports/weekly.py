"""Write one week's report directory: summary.json, one CSV per table, report.xlsx, report.html, report.pdf."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy.orm import Session

from reports import charts
from reports.build import build_summary
from reports.html import render_html
from reports.pdf import write_pdf
from reports.rates import RateTable
from reports.tables import Table, build_tables
from reports.weeks import Week

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ReportFiles:
    directory: Path
    summary: dict
    pdf_pages: int
    files: list[str]


def _safe_text(value):
    """Scraped text that a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _numberish(value):
        return "'" + value
    return value


def _numberish(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_csv(path: Path, table: Table) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(table.headers)
        for row in table.rows:
            writer.writerow(["" if v is None else _safe_text(v) for v in table.values(row)])
    os.replace(tmp, path)


def write_xlsx(path: Path, tables: list[Table], summary: dict) -> None:
    wb = Workbook()
    notes = wb.active
    notes.title = "notes"
    notes.append([f"narcowatch weekly report {summary['week']}"])
    notes.append([f"{summary['period']['start']} to {summary['period']['end']} (UTC)"])
    for note in summary["notes"]:
        notes.append([_safe_text(note)])
    notes["A1"].font = Font(bold=True, size=13)
    header_fill = PatternFill("solid", fgColor="EEF2F7")
    for table in tables:
        ws = wb.create_sheet(table.name[:31])
        ws.append(table.headers)
        for cell in ws[1]:
            cell.font, cell.fill = Font(bold=True), header_fill
        for row in table.rows:
            ws.append([None if v is None else _safe_text(v) for v in table.values(row)])
        for row_cells in ws.iter_rows(min_row=2):
            for cell in row_cells:  # never a formula: scraped text stays text
                if isinstance(cell.value, str):
                    cell.data_type = "s"
        ws.freeze_panes = "A2"
        for i, header in enumerate(table.headers, start=1):
            width = max([len(str(header))] + [len(str(v)) for v in (table.values(r)[i - 1] for r in table.rows[:200])])
            ws.column_dimensions[ws.cell(1, i).column_letter].width = min(60, max(8, width + 2))
    # fixed workbook properties: the same report gives the same workbook contents
    stamp = datetime.combine(Week.parse(summary["week"]).sunday, datetime.min.time())
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.creator = "narcowatch"
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    _restamp_zip(tmp, stamp.timetuple()[:6])
    os.replace(tmp, path)


def _restamp_zip(path: Path, date_time: tuple) -> None:
    """An XLSX is a zip whose entries carry the time of writing, and openpyxl stamps dcterms:modified with
    the time of saving: give both the week's Sunday instead, so the same report gives the same bytes."""
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist()]
    stamp = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z".format(*date_time).encode()
    entries = [(info, re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + stamp + rb"\g<2>", data)
                if info.filename == "docProps/core.xml" else data) for info, data in entries]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries:
            fixed = zipfile.ZipInfo(info.filename, date_time=date_time)
            fixed.compress_type, fixed.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            dst.writestr(fixed, data)
    path.write_bytes(buf.getvalue())


def write_report(session: Session, week: Week, out: Path, rates: RateTable | None = None) -> ReportFiles:
    out.mkdir(parents=True, exist_ok=True)
    summary = build_summary(session, week, rates)
    tables = build_tables(summary)
    by_name = {t.name: t for t in tables}
    files = ["summary.json"]
    _atomic_write(out / "summary.json",
                  (json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8"))
    for table in tables:
        write_csv(out / f"{table.name}.csv", table)
        files.append(f"{table.name}.csv")
    write_xlsx(out / "report.xlsx", tables, summary)
    figures = charts.render(summary)
    svgs = {name: charts.svg_bytes(fig) for name, fig in figures.items()}
    _atomic_write(out / "report.html", render_html(summary, by_name, svgs).encode("utf-8"))
    tmp_pdf = out / ".report.pdf.tmp"
    pages = write_pdf(tmp_pdf, summary, by_name)
    os.replace(tmp_pdf, out / "report.pdf")
    files += ["report.xlsx", "report.html", "report.pdf"]
    return ReportFiles(out, summary, pages, files)
