"""Price history as numbers for an inline SVG drawn by the template (no JS, no markup built in Python, so
nothing here ever needs `|safe`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 14, 34


@dataclass
class Chart:
    width: int
    height: int
    points: list[dict]  # x, y, label (value), when (date), active
    path: str  # SVG path data: a step line (a price holds until the next observation)
    y_ticks: list[dict]  # y, label
    x_ticks: list[dict]  # x, label
    plot: dict  # left, right, top, bottom edges
    unit: str


def _nice(lo: float, hi: float) -> tuple[float, float]:
    if lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.08
    return max(0.0, lo - pad), hi + pad


def _decimals(value: float) -> int:
    text = f"{value:.8f}".rstrip("0")
    return len(text.partition(".")[2])


def price_chart(observations: list[tuple[datetime, Decimal | None, bool]], unit: str) -> Chart | None:
    """observations: (when, price, active) in time order; None when nothing has a price."""
    obs = [(t, float(p), a) for t, p, a in observations if p is not None]
    if not obs:
        return None
    t0, t1 = obs[0][0].timestamp(), obs[-1][0].timestamp()
    if t0 == t1:
        t0, t1 = t0 - 86400, t1 + 86400
    lo, hi = _nice(min(p for _, p, _ in obs), max(p for _, p, _ in obs))
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP

    def x(t: float) -> float:
        return round(x0 + (t - t0) / (t1 - t0) * (x1 - x0), 1)

    def y(p: float) -> float:
        return round(y0 - (p - lo) / (hi - lo) * (y0 - y1), 1)

    # enough decimals that ticks differ (0.165 / 0.170 XMR, not 0.17 / 0.17), at least 2, at most 8
    step = (hi - lo) / 4
    digits = min(8, max(2, 1 - math.floor(math.log10(step)) if step > 0 else 2))
    point_digits = max(digits, max(_decimals(p) for _, p, _ in obs))
    points = [{"x": x(t.timestamp()), "y": y(p), "label": f"{p:,.{min(point_digits, 8)}f}",
               "when": t.strftime("%Y-%m-%d %H:%M"), "active": a} for t, p, a in obs]
    path = f"M{points[0]['x']},{points[0]['y']}"
    for prev, cur in zip(points, points[1:], strict=False):
        path += f" H{cur['x']} V{cur['y']}" if cur["y"] != prev["y"] else f" H{cur['x']}"
    path += f" H{x1}"
    y_ticks = [{"y": y(lo + step * i), "label": f"{lo + step * i:,.{digits}f}"} for i in range(5)]
    # dates, or dates and hours when the history spans under three days; never the same label twice
    fmt = "%Y-%m-%d" if t1 - t0 >= 3 * 86400 else "%m-%d %H:%M"
    x_ticks: list[dict] = []
    for i in range(4):
        t = t0 + (t1 - t0) * i / 3
        label = datetime.fromtimestamp(t, tz=obs[0][0].tzinfo).strftime(fmt)
        if x_ticks and x_ticks[-1]["label"] == label:
            continue
        x_ticks.append({"x": x(t), "label": label, "anchor": "middle"})
    x_ticks[0]["anchor"] = "start"  # the first and last labels stay inside the drawing
    if len(x_ticks) > 1:
        x_ticks[-1]["anchor"] = "end"
    return Chart(WIDTH, HEIGHT, points, path, y_ticks, x_ticks,
                 {"left": x0, "right": x1, "top": y1, "bottom": y0}, unit)
