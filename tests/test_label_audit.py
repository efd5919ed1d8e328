"""The blind label audit: scoring against an annotation file, stratum weighting, and (with ../shared) that
the shipped annotation file still matches the Agora listings it was drawn from."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from classifiers import label_audit

SHARED_LISTINGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "agora2014" / "listings.csv"


def _write(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["listing", "stratum", "annotator_label", "note"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_audit_weights_each_stratum_by_its_size(tmp_path):
    records = [{"title": f"t{i}", "description": ""} for i in range(10)]
    groups = ["v"] * 10
    relabelled = [True, True] + [False] * 8  # 2 of 10 rows relabelled
    keys = [label_audit.listing_key(g, r["title"], "") for r, g in zip(records, groups, strict=True)]
    truth = ["a", "a", "b", "b", "b", "b", "b", "b", "b", "b"]
    path = _write(tmp_path / "audit.csv", [
        {"listing": keys[0], "stratum": "relabelled", "annotator_label": "a", "note": ""},
        {"listing": keys[1], "stratum": "relabelled", "annotator_label": "a", "note": ""},
        {"listing": keys[2], "stratum": "unchanged", "annotator_label": "b", "note": ""},
        {"listing": keys[3], "stratum": "unchanged", "annotator_label": "unclear", "note": "?"},
    ])
    guess = ["x", "a", "b", "b", "b", "b", "b", "b", "b", "b"]
    out = label_audit.audit(records, groups, relabelled, {"truth": truth, "guess": guess}, path)
    assert out["annotated"] == 3 and out["unclear"] == 1 and out["strata"] == {"relabelled": 2, "unchanged": 8}
    assert out["answers"]["truth"]["estimate"] == pytest.approx(1.0)
    assert out["answers"]["guess"]["per_stratum"] == {"relabelled": (1, 2), "unchanged": (1, 1)}
    assert out["answers"]["guess"]["estimate"] == pytest.approx(0.2 * 0.5 + 0.8 * 1.0)
    # other data than the audited file: no figure rather than a figure on a handful of rows
    assert label_audit.audit(records[4:], groups[4:], relabelled[4:], {"truth": truth[4:]}, path) is None


@pytest.mark.shared_data
def test_shipped_audit_matches_the_agora_listings():
    from classifiers.category_data import read_csv

    data = read_csv(SHARED_LISTINGS)
    keys = {label_audit.listing_key(g, r["title"], r["description"])
            for r, g in zip(data.records, data.groups, strict=True)}
    annotated = label_audit.load()
    assert len(annotated) == 300 and set(annotated) <= keys
    assert {a["stratum"] for a in annotated.values()} == {"relabelled", "unchanged"}
