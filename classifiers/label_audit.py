"""The blind label audit of the Agora training labels (classifiers/models/label_audit.csv).

Why it exists: the file's `label` column maps Agora *sections* to the taxonomy, the project's taxonomy is
defined per *substance* (DESIGN.md); the two disagree on 448 listings (classifiers/category_mapping.py).
Which one is the truth for those listings was decided by a rule we wrote, so it was checked by someone who
did not see either label set: 300 listings were drawn (seed 20261207) - 150 of the 448 relabelled ones and 150
of the rest - and annotated from title and description alone, with DESIGN.md's rule and canonical.csv as the
only guide, by an independent annotator (an AI assistant run separately, without access to the labels, the
mapping or the model). The file holds, per listing, a key (first 16 hex of SHA-256 of normalised vendor,
title and description, so no third-party text is copied here), the stratum and the annotator's label.

`audit` scores any label set or predictions against it, each stratum weighted by its share of the data
(relabelled 448 of 8,197), so the figure estimates agreement over the whole file.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

AUDIT_PATH = Path(__file__).with_name("models") / "label_audit.csv"
STRATA = ("relabelled", "unchanged")


def listing_key(vendor: str, title: str, description: str) -> str:
    text = f"{vendor}\x1f{title.strip()}\x1f{(description or '').strip()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load(path: Path = AUDIT_PATH) -> dict[str, dict[str, str]]:
    with Path(path).open(newline="", encoding="utf-8") as fh:
        return {row["listing"]: row for row in csv.DictReader(fh)}


def audit(records: Sequence[Mapping[str, Any]], groups: Sequence[str], relabelled: Sequence[bool],
          answers: Mapping[str, Sequence[str]], path: Path = AUDIT_PATH) -> dict[str, Any] | None:
    """Agreement of each of `answers` (name -> one label per record) with the annotator.

    `relabelled[i]`: record i's taxonomy label differs from the file's (its stratum). Returns None when the
    records are not the audited file (fewer than 90% of the annotated listings found). Per answer: agreement
    per stratum (matches/annotated) and the stratum-weighted estimate for the whole data."""
    annotated = load(path)
    index = {listing_key(g, r.get("title", ""), r.get("description", "")): i
             for i, (r, g) in enumerate(zip(records, groups, strict=True))}
    usable = [k for k in annotated if annotated[k]["annotator_label"] != "unclear"]
    found = {k: index[k] for k in usable if k in index}
    if not found or len(found) < 0.9 * len(usable):
        return None
    size = {"relabelled": sum(relabelled), "unchanged": len(relabelled) - sum(relabelled)}
    out: dict[str, Any] = {"annotated": len(found), "unclear": sum(
        a["annotator_label"] == "unclear" for a in annotated.values()), "strata": size, "answers": {}}
    for name, labels in answers.items():
        per: dict[str, tuple[int, int]] = {}
        for stratum in STRATA:
            keys = [k for k in found if annotated[k]["stratum"] == stratum]
            hits = sum(labels[found[k]] == annotated[k]["annotator_label"] for k in keys)
            per[stratum] = (hits, len(keys))
        total = sum(size.values())
        estimate = sum(size[s] / total * (h / n) for s, (h, n) in per.items() if n)
        out["answers"][name] = {"per_stratum": per, "estimate": estimate}
    return out


__all__ = ["audit", "listing_key", "load", "AUDIT_PATH"]
