"""Plain-dict results for callers that do not want spaCy objects: analyze_text and analyze_records.

A record's fields are joined into one text, title first, one field per line block (so a rule confined to a
line never spans two fields), and every offset in the result is mapped back to the field it came from:
each located item carries `field` ("title", "description" or "text") and `start`/`end` relative to that
field, so `record[field][start:end] == item["text"]`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from spacy.tokens import Doc

from extractors.pipeline import load_pipeline

FIELDS = ("title", "description", "text")
SEPARATOR = "\n\n"


def _join(record: dict) -> tuple[str, list[tuple[str, int, int]]]:
    parts: list[str] = []
    bounds: list[tuple[str, int, int]] = []
    pos = 0
    for name in FIELDS:
        value = record.get(name)
        if not value:
            continue
        if not isinstance(value, str):
            value = str(value)
        if parts:
            parts.append(SEPARATOR)
            pos += len(SEPARATOR)
        parts.append(value)
        bounds.append((name, pos, pos + len(value)))
        pos += len(value)
    return "".join(parts), bounds


def _localise(item: dict, bounds: list[tuple[str, int, int]]) -> dict:
    out = dict(item)
    for name, lo, hi in bounds:
        if lo <= item["start"] <= hi:
            out["field"], out["start"], out["end"] = name, item["start"] - lo, min(item["end"], hi) - lo
            return out
    out["field"] = None
    return out


def category_from_substances(substances: list[dict]) -> tuple[str | None, dict[str, float]]:
    """The category most mentions point to (first mention breaks ties), and each category's share."""
    if not substances:
        return None, {}
    counts = Counter(s["category"] for s in substances)
    first_seen = {}
    for i, s in enumerate(substances):
        first_seen.setdefault(s["category"], i)
    best = max(counts, key=lambda c: (counts[c], -first_seen[c]))
    total = sum(counts.values())
    return best, {c: round(n / total, 4) for c, n in counts.most_common()}


def doc_to_result(doc: Doc, bounds: list[tuple[str, int, int]]) -> dict:
    ext = doc._
    loc = [_localise(s, bounds) for s in ext.nw_substances]
    quantities = [_localise(q, bounds) for q in ext.nw_quantities]
    prices = [_localise(p, bounds) for p in ext.nw_prices]
    shipping = ext.nw_shipping
    identifiers = [_localise(i, bounds) for i in ext.nw_identifiers]
    primary = ext.nw_quantity
    category, scores = category_from_substances(loc)
    return {
        "category": category,
        "category_scores": scores,
        "substances": loc,
        "substance_topics": [_localise(s, bounds) for s in ext.nw_substance_topics],
        "quantities": quantities,
        "quantity": _localise(primary, bounds) if primary else None,
        "prices": prices,
        "price": prices[0] if prices else None,
        "price_per_unit": ext.nw_price_per_unit,
        "ships_from": shipping["ships_from"],
        "ships_to": shipping["ships_to"],
        "ships_to_except": shipping["ships_to_except"],
        "identifiers": identifiers,
    }


def analyze_text(title: str, description: str = "", text: str = "") -> dict:
    """Extract everything from one listing or post. See docs/extractors.md for the output keys."""
    joined, bounds = _join({"title": title, "description": description, "text": text})
    return doc_to_result(load_pipeline()(joined), bounds)


def analyze_records(records: Iterable[dict], batch_size: int = 256) -> Iterator[dict]:
    """Yield one result per record (in order), each with the record's `id` kept, using nlp.pipe."""
    nlp = load_pipeline()

    def texts() -> Iterator[tuple[str, tuple[object, list]]]:
        for record in records:
            joined, bounds = _join(record)
            yield joined, (record.get("id"), bounds)

    for doc, (record_id, bounds) in nlp.pipe(texts(), as_tuples=True, batch_size=batch_size):
        result = doc_to_result(doc, bounds)
        yield {"id": record_id, **result}
