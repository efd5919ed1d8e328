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
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    path = HERE / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    for name in selected:
        text = _replace_section(text, name, _section(name, [r for r in rows if r["module"] == name],
                                                     dict(failures).get(name), stamp, commit))
    path.write_text(text, encoding="utf-8")
    print(text)
    return 1 if failures else 0


HEADER = """# Benchmark results

`make bench` runs every bench module; `python -m bench.run NAME` runs those whose name contains NAME. Each run
replaces only its own modules' generated sections (between `<!-- bench:NAME -->` markers); the notes that
engineers wrote around them (earlier runs, load, analysis) stay. A figure is always a ratio against a
baseline measured in the same run on the same machine.
"""


def _section(name: str, rows: list[dict], failure: str | None, stamp: str, commit: str) -> str:
    lines = [
        f"### {name}: latest `python -m bench.run` figures", "",
        f"- machine: {_machine()}, load average {os.getloadavg()[0]:.1f} at the end",
        f"- date: {stamp}, commit {commit or 'unknown'}", "",
        "| bench | metric | value | baseline | baseline value | ratio | target | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append("| {} | {} | {} | {} | {} | {} | {} | {} |".format(
            r.get("name", r["module"]), r.get("metric", ""), _fmt(r.get("value")), r.get("baseline_name", ""),
            _fmt(r.get("baseline")), _fmt(r.get("ratio")), r.get("target", ""), r.get("note", "")))
    if failure:
        lines += ["", "FAILED:", "", "```", failure.strip(), "```"]
    return "\n".join(lines)


def _replace_section(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{body}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    return text.rstrip("\n") + "\n\n" + block + "\n"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
