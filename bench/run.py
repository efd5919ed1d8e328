"""`make bench`: run every bench module, write bench/RESULTS.md.

Each bench module exposes `run() -> list[dict]`, rows with: name, metric, value, baseline_name, baseline,
ratio, and optionally target and note. A figure is always a ratio against a baseline measured in the same
run on the same machine, so the table stays meaningful across machines.
"""

from __future__ import annotations

import importlib
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULES = sorted(p.stem for p in HERE.glob("bench_*.py"))


def _machine() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown cpu"
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {platform.python_version()}"


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return "" if value is None else str(value)


def main(argv: list[str]) -> int:
    selected = [m for m in MODULES if not argv or any(a in m for a in argv)]
    rows, failures = [], []
    for name in selected:
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            for row in module.run():
                rows.append({"module": name, **row})
        except Exception:
            failures.append((name, traceback.format_exc()))
        print(f"{name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [
        "# Benchmark results", "",
        f"- machine: {_machine()}",
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, commit {commit or 'unknown'}",
        f"- command: `make bench` (`python -m bench.run {' '.join(argv)}`)".replace(" `)", "`)"),
        "- each value is the median of several runs; ratio = value / baseline, measured in the same run", "",
        "| bench | metric | value | baseline | baseline value | ratio | target | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append("| {} | {} | {} | {} | {} | {} | {} | {} |".format(
            r.get("name", r["module"]), r.get("metric", ""), _fmt(r.get("value")), r.get("baseline_name", ""),
            _fmt(r.get("baseline")), _fmt(r.get("ratio")), r.get("target", ""), r.get("note", "")))
    for name, tb in failures:
        lines += ["", f"## {name} FAILED", "", "```", tb.strip(), "```"]
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print((HERE / "RESULTS.md").read_text())
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
