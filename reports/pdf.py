"""report.pdf with matplotlib's PdfPages: A4 pages with the summary and notes, the charts (vector), and the
main tables. No creation date in the file, so the same summary gives the same bytes."""

from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from reports import charts
from reports.html import fmt
from reports.tables import Table

A4 = (8.27, 11.69)
MARGIN = 0.6
LINE = 0.16  # inches per table row at 7 pt
CHAR = 0.06  # width of a 7 pt DejaVu Sans character (mixed case, digits), inches; generous on purpose
BOLD = 1.15  # how much wider the bold header text runs
INK, GREY, BLUE = "#1d1d1d", "#666666", "#1f4e79"
# tables in the PDF and the rows shown (the CSV files and the workbook have every row)
PDF_TABLES = [("totals", None), ("by_category", None), ("by_substance", 40), ("prices_by_substance", 40),
              ("prices_by_substance_origin", 40), ("top_corridors", None), ("new_vendors", 30),
              ("clusters_top", 10), ("clusters_multi_site", 25), ("emerging_substances", 25),
              ("emerging_terms", 25), ("forum_signals", 30), ("coverage", None), ("data_quality", None)]
MAX_CELL = 38
# columns left out of the PDF's narrow page (they stay in the HTML, CSV and XLSX)
PDF_DROP = {"coverage": {"kind", "runs", "days_crawled"}}


class Pages:
    def __init__(self, pdf: PdfPages, title: str) -> None:
        self.pdf, self.title, self.count = pdf, title, 0
        self.fig: Figure | None = None

    def new(self) -> None:
        self.close()
        self.fig = Figure(figsize=A4)
        self.ax = self.fig.add_axes((0, 0, 1, 1))
        self.ax.set_xlim(0, A4[0])
        self.ax.set_ylim(A4[1], 0)
        self.ax.axis("off")
        self.y = MARGIN
        self.count += 1

    def close(self) -> None:
        if self.fig is not None:
            self._footer(self.fig)
            self.pdf.savefig(self.fig)
            self.fig = None

    def _footer(self, fig: Figure) -> None:
        fig.text(0.5, 0.25 / A4[1], f"{self.title}  ·  page {self.count}", ha="center", fontsize=7, color=GREY)

    def room(self, height: float) -> None:
        if self.fig is None or self.y + height > A4[1] - MARGIN:
            self.new()

    def text(self, text: str, size: float = 9, weight: str = "normal", color: str = INK, width: int = 110) -> None:
        lines = textwrap.wrap(text, width) or [""]
        step = size / 72 * 1.45
        for line in lines:
            self.room(step)
            self.ax.text(MARGIN, self.y, line, fontsize=size, fontweight=weight, color=color, va="top")
            self.y += step

    def gap(self, inches: float = 0.12) -> None:
        self.y += inches

    def table(self, table: Table, limit: int | None) -> None:
        drop = PDF_DROP.get(table.name, set())
        cols = [c for c in table.columns if not c[0].startswith("trend:") and c[0] not in drop]
        rows = table.rows if limit is None else table.rows[:limit]
        self.room(0.3 + LINE * 3)
        self.text(table.title, size=10.5, weight="bold", color=BLUE)
        if not rows:
            self.text(table.note or "None this week.", size=8, color=GREY)
            self.gap(0.15)
            return
        cells = [[_cell(r.get(k), k) for k, _ in cols] for r in rows]
        heads = [h for _, h in cols]
        # bold headers are ~15% wider than body text; 0.2 in between columns keeps neighbours apart
        widths = [max(len(h) * CHAR * BOLD, *(len(row[i]) * CHAR for row in cells)) + 0.2
                  for i, h in enumerate(heads)]
        scale = min(1.0, (A4[0] - 2 * MARGIN) / sum(widths))
        widths = [w * scale for w in widths]
        numeric = [all(_is_num(r.get(k)) for r in rows) for k, _ in cols]

        def line(values: list[str], bold: bool = False) -> None:
            self.room(LINE)
            x = MARGIN
            for value, w, num in zip(values, widths, numeric, strict=True):
                self.ax.text(x + w - 0.06 if num else x, self.y, value, fontsize=7 * scale,
                             ha="right" if num else "left", va="top", fontweight="bold" if bold else "normal")
                x += w
            self.y += LINE
            self.ax.plot([MARGIN, MARGIN + sum(widths)], [self.y - 0.03] * 2, color="#dddddd", linewidth=0.4)

        line(heads, bold=True)
        for row in cells:
            if self.y + LINE > A4[1] - MARGIN:
                self.new()
                line(heads, bold=True)
            line(row)
        if limit is not None and len(table.rows) > limit:
            self.text(f"{limit} of {len(table.rows)} rows shown; all rows in {table.name}.csv and report.xlsx.",
                      size=7, color=GREY)
        self.gap(0.2)


def _is_num(value) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _cell(value, key: str) -> str:
    text = fmt(value, key)
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


def write_pdf(path: Path, summary: dict, tables: dict[str, Table]) -> int:
    """Writes the PDF; returns its number of pages."""
    title = f"narcowatch weekly report {summary['week']}"
    with charts.style(), PdfPages(path, metadata={"CreationDate": None, "ModDate": None, "Creator": "narcowatch",
                                                   "Producer": "narcowatch (matplotlib)", "Title": title}) as pdf:
        pages = Pages(pdf, title)
        pages.new()
        pages.text(f"Weekly drug-market trend report: {summary['week']}", size=17, weight="bold", color=BLUE)
        pages.text(f"{summary['period']['start']} to {summary['period']['end']} (Monday to Sunday, UTC), compared "
                   f"with {summary['previous_week']}. Prices in {summary['currency']['reporting_currency']} at fixed "
                   f"reference rates as of {summary['currency']['as_of']}.", size=9, color=GREY)
        pages.gap(0.2)
        pages.text("What to know about this week", size=11, weight="bold")
        for note in summary["notes"] or ["All monitored sites were crawled successfully this week."]:
            pages.text("• " + note, size=9)
        pages.gap(0.2)
        pages.table(tables["totals"], None)
        pages.table(tables["data_quality"], None)
        pages.table(tables["coverage"], None)
        pages.close()
        # charts, packed onto A4 pages
        drawn = charts.CHARTS
        heights = [charts.HEIGHTS[name](summary) for name, _, _ in drawn]
        usable = A4[1] - 2 * MARGIN
        groups: list[list[int]] = [[]]
        for i, h in enumerate(heights):
            if groups[-1] and sum(heights[j] for j in groups[-1]) + h > usable:
                groups.append([])
            groups[-1].append(i)
        for group in groups:
            pages.count += 1
            page = Figure(figsize=A4, layout="constrained")
            page.get_layout_engine().set(h_pad=MARGIN / 2, w_pad=MARGIN / 2)
            ratios = [heights[i] for i in group]
            spare = usable - sum(ratios)
            subs = page.subfigures(len(group) + (1 if spare > 0.5 else 0), 1,
                                   height_ratios=ratios + ([spare] if spare > 0.5 else []), squeeze=False)
            for sub, i in zip(subs.flat, group, strict=False):
                drawn[i][2](summary, sub)
            pages._footer(page)
            pdf.savefig(page)
        for name, limit in PDF_TABLES[2:]:
            if name in ("coverage", "data_quality"):
                continue
            pages.table(tables[name], limit)
        pages.close()
        return pages.count
