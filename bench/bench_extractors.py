"""Extractor throughput: full pipeline (analyze_records: all components + dict output) vs bare tokenizer.

Texts: the real Agora 2014 listings (title + description) when ../shared/data is present, else the
hand-labelled titles in tests/data. Both figures are measured in the same run, one process, one core.

    python -m bench.bench_extractors
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGORA = ROOT.parent / "shared" / "data" / "agora2014" / "listings.csv"
LABELLED = ROOT / "tests" / "data" / "labelled_titles.jsonl"
TARGET = 3000.0  # listings/s on one core (issue 5)


def _records() -> tuple[list[dict], str]:
    if AGORA.exists():
        with AGORA.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        return [{"id": i, "title": r["title"], "description": r["description"]} for i, r in enumerate(rows)], \
            f"{len(rows)} Agora 2014 listings (title + description)"
    items = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [{"id": i["n"], "title": i["title"]} for i in items] * 20
    return records, f"{len(records)} labelled titles (x20)"


def _best_rate(fn, n: int, repeat: int = 3) -> float:
    """Listings per CPU-second of this process (best of `repeat`): "one core" regardless of what else
    the machine is running (the team shares 2 cores; wall-clock time there measures the neighbours)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return n / best


def run() -> list[dict]:
    from extractors import analyze_records
    from extractors.api import _join
    from extractors.pipeline import load_pipeline

    records, what = _records()
    nlp = load_pipeline()
    texts = [_join(r)[0] for r in records]
    list(analyze_records(records[:200]))  # warm caches (lexicon regex, gazetteer)

    def full() -> None:
        for _ in analyze_records(records, batch_size=256):
            pass

    tokenizer = getattr(nlp.tokenizer, "tokenizer", nlp.tokenizer)  # the bare spaCy Tokenizer inside

    def bare() -> None:
        for _ in tokenizer.pipe(texts, batch_size=256):
            pass

    pipeline_rate = _best_rate(full, len(records))
    tokenizer_rate = _best_rate(bare, len(records))
    return [{
        "name": "extractors",
        "metric": "listings/s",
        "value": round(pipeline_rate, 1),
        "baseline_name": "bare spaCy tokenizer",
        "baseline": round(tokenizer_rate, 1),
        "ratio": round(pipeline_rate / tokenizer_rate, 3),
        "target": f">= {TARGET:,.0f} listings/s",
        "note": f"{what}; CPU time of one process, best of 3",
    }]


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row))
