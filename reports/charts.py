"""The report's charts (matplotlib, Agg, no pyplot state). Fixed style, fonts and SVG hash salt, so the same
summary always draws the same picture; every chart draws a "no data" panel rather than nothing."""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

RC = {
    "svg.hashsalt": "narcowatch-weekly",
    "svg.fonttype": "path",  # glyphs as paths: the same rendering on every viewer, no font lookup
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#888888",
    "axes.grid": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "pdf.fonttype": 42,
}
NOW, PREV, NEW, GONE, FAIL = "#1f4e79", "#a9c1dc", "#2e7d32", "#c62828", "#e0a526"
WIDTH = 8.0


@contextmanager
def style():
    with matplotlib.rc_context(RC):
        yield


def _empty(fig, title: str, message: str = "No data for this week"):
    ax = fig.add_subplot()
    ax.set_title(title, loc="left")
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color="#666666", transform=ax.transAxes)
    return fig


def _hbars_height(labels: list, series: int = 2) -> float:
    return max(2.4, 0.3 * len(labels) * max(1.0, series / 1.5) + 1.1)


def _hbars(fig, title: str, labels: list[str], series: list[tuple[str, list[float], str]], xlabel: str):
    if not labels:
        return _empty(fig, title)
    ax = fig.add_subplot()
    n = len(series)
    height = 0.8 / n
    ys = range(len(labels))
    for i, (name, values, color) in enumerate(series):
        offs = [y - 0.4 + height * (i + 0.5) for y in ys]
        bars = ax.barh(offs, values, height=height, color=color, label=name)
        ax.bar_label(bars, fmt="%g", padding=2, fontsize=7, color="#333333")
    ax.set_yticks(list(ys), labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    ax.grid(axis="y", visible=False)
    if n > 1:
        ax.legend(loc="lower right")
    ax.margins(x=0.12)
    return fig


def activity_by_category(s: dict, fig):
    rows = s["by_category"]
    return _hbars(fig, "Active listings by category", [r["category"] for r in rows],
                  [(s["week"], [r["active"] for r in rows], NOW), (s["previous_week"], [r["active_prev"] for r in rows], PREV)],
                  "active listings")


def _churn_rows(s: dict) -> list[dict]:
    return [r for r in s["by_category"] if r["new"] or r["vanished"]]


def churn_by_category(s: dict, fig):
    rows = _churn_rows(s)
    return _hbars(fig, f"New and vanished listings by category, {s['week']}", [r["category"] for r in rows],
                  [("new", [r["new"] for r in rows], NEW), ("vanished", [r["vanished"] for r in rows], GONE)],
                  "listings")


def price_trend(s: dict, fig, panels: int = 6):
    cur = s["currency"]["reporting_currency"]
    rows = [r for r in s["prices_by_substance"] if r["substance"] != "(none)"][:panels]
    title = f"Median price per gram / ml / unit, last 8 weeks ({cur})"
    if not rows:
        return _empty(fig, title)
    weeks = s["trend_weeks"]
    cols = 3
    axes = fig.subplots(2, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= len(rows):
            ax.axis("off")
            continue
        r = rows[i]
        xs = [j for j, w in enumerate(weeks) if r["trend"][w] is not None]
        ys = [r["trend"][weeks[j]] for j in xs]
        ax.plot(xs, ys, marker="o", color=NOW, linewidth=1.6, markersize=3.5)
        for x, y in zip(xs[-1:], ys[-1:], strict=True):
            ax.annotate(f"{y:,.2f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
        ax.set_xlim(-0.5, len(weeks) - 0.5)
        ax.set_xticks(range(len(weeks)), [w[-3:] for w in weeks], fontsize=7)
        # the axis starts at zero so that a 1 % move looks like one, not like a crash
        ax.set_ylim(0, (max(ys) if ys else 1) * 1.3)
        ax.set_title(f"{r['substance']}\n{cur} per {r['basis']}, {r['listings']} listings", fontsize=8.5,
                     loc="left")
        ax.tick_params(labelsize=7)
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=11)
    return fig


def routes_heatmap(s: dict, fig, size: int = 10):
    matrix = s["routes"]["matrix"]
    title = "Routes: active listings by origin and destination"
    if not matrix:
        return _empty(fig, title)
    o_tot: dict[str, int] = {}
    d_tot: dict[str, int] = {}
    for r in matrix:
        o_tot[r["origin"]] = o_tot.get(r["origin"], 0) + r["listings"]
        d_tot[r["destination"]] = d_tot.get(r["destination"], 0) + r["listings"]
    origins = [k for k, _ in sorted(o_tot.items(), key=lambda kv: (-kv[1], kv[0]))[:size]]
    dests = [k for k, _ in sorted(d_tot.items(), key=lambda kv: (-kv[1], kv[0]))[:size]]
    grid = [[0] * len(dests) for _ in origins]
    for r in matrix:
        if r["origin"] in origins and r["destination"] in dests:
            grid[origins.index(r["origin"])][dests.index(r["destination"])] = r["listings"]
    ax = fig.add_subplot()
    ax.grid(False)
    image = ax.imshow(grid, cmap="Blues", aspect="auto")
    top = max(max(row) for row in grid) or 1
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                        color="white" if v > top * 0.6 else "#222222")
    ax.set_xticks(range(len(dests)), dests, rotation=45, ha="right")
    ax.set_yticks(range(len(origins)), origins)
    ax.set_xlabel("ships to")
    ax.set_ylabel("ships from")
    ax.set_title(f"{title} (top {len(origins)} x {len(dests)})", loc="left")
    fig.colorbar(image, ax=ax, shrink=0.8, label="active listings")
    return fig


def top_corridors(s: dict, fig):
    rows = s["routes"]["top_corridors"]
    return _hbars(fig, "Top corridors (origin to destination)", [f"{r['origin']} to {r['destination']}" for r in rows],
                  [(s["week"], [r["listings"] for r in rows], NOW),
                   (s["previous_week"], [r["listings_prev"] for r in rows], PREV)], "active listings")


def forum_signals(s: dict, fig, top: int = 12):
    rows = s["forum"][:top]
    return _hbars(fig, f"Forum mentions per substance (top {top})", [r["substance"] for r in rows],
                  [(s["week"], [r["posts"] for r in rows], NOW), (s["previous_week"], [r["posts_prev"] for r in rows], PREV)],
                  "posts mentioning the substance")


def coverage(s: dict, fig):
    rows = s["coverage"]["sites"]
    title = "Crawl coverage: successful and failed crawls per site"
    if not rows:
        return _empty(fig, title, "No sites are monitored")
    ax = fig.add_subplot()
    labels = [f"{r['site']} ({r['status']})" for r in rows]
    ok = [r["ok_runs"] for r in rows]
    failed = [r["failed_runs"] for r in rows]
    ax.barh(labels, ok, color=NOW, label="successful runs")
    ax.barh(labels, failed, left=ok, color=FAIL, label="failed runs")
    ax.invert_yaxis()
    ax.set_xlabel("crawl runs this week")
    ax.set_title(title, loc="left")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18 - 0.6 / max(1, len(rows))), ncols=2)
    ax.margins(x=0.1)
    return fig


HEIGHTS: dict[str, Callable[[dict], float]] = {
    "activity_by_category": lambda s: _hbars_height(s["by_category"]),
    "churn_by_category": lambda s: _hbars_height(_churn_rows(s)),
    # a "no data" panel needs no more room than its title and message
    "price_trend": lambda s: 5.0 if any(r["substance"] != "(none)" for r in s["prices_by_substance"]) else 2.4,
    "routes_heatmap": lambda s: 5.4 if s["routes"]["matrix"] else 2.4,
    "top_corridors": lambda s: _hbars_height(s["routes"]["top_corridors"]),
    "forum_signals": lambda s: _hbars_height(s["forum"][:12]),
    "coverage": lambda s: max(2.2, 0.42 * len(s["coverage"]["sites"]) + 1.5),
}
CHARTS: list[tuple[str, str, Callable]] = [
    ("activity_by_category", "Active listings by category", activity_by_category),
    ("churn_by_category", "New and vanished listings by category", churn_by_category),
    ("price_trend", "Price trend", price_trend),
    ("routes_heatmap", "Routes", routes_heatmap),
    ("top_corridors", "Top corridors", top_corridors),
    ("forum_signals", "Forum signals", forum_signals),
    ("coverage", "Crawl coverage", coverage),
]


def render(summary: dict) -> dict[str, Figure]:
    """Each chart as its own figure (for the HTML)."""
    out = {}
    with style():
        for name, _title, draw in CHARTS:
            fig = Figure(figsize=(WIDTH, HEIGHTS[name](summary)), layout="constrained")
            out[name] = draw(summary, fig)
    return out


def svg_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    with style():
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "narcowatch"})
    return buf.getvalue()
