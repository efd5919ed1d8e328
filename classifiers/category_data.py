"""Training data for the category model: reading listing CSVs and the shipped synthetic precursor rows.

A training CSV needs the columns `vendor`, `title` and `label`; `description`, `text` and `agora_category`
are optional. With `label_set="taxonomy"` (the default) a row that has an `agora_category` is labelled by
classifiers.category_mapping.taxonomy_label (the named substance decides in Agora's legal-status and
catch-all sections); with `label_set="csv"` the `label` column is used as is. Rows with an empty label
are ambiguous (Agora "Drugs/Other", "Drugs/Weight loss") and are skipped, and counted, never guessed. Vendor names are normalised ("/user/-Inanna-" and "-Inanna-" are one vendor) so
that vendor-grouped evaluation really keeps every vendor on one side of a split.
"""

from __future__ import annotations

import csv
import re
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.category_mapping import LABEL_SETS, row_label
from classifiers.category_taxonomy import LABELS

SYNTHETIC_PATH = Path(__file__).with_name("models") / "category_synthetic.csv"
REQUIRED = ("vendor", "title", "label")


class DataError(ValueError):
    """A training file is unusable; the message names the file, line and field."""


@dataclass
class Dataset:
    records: list[dict[str, str]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    synthetic: list[bool] = field(default_factory=list)
    original_labels: list[str] = field(default_factory=list)  # the file's `label` column ("" when empty)
    skipped_unlabelled: int = 0
    relabelled: int = 0
    relabel_pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    sources: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def extend(self, other: Dataset) -> None:
        self.records += other.records
        self.labels += other.labels
        self.groups += other.groups
        self.synthetic += other.synthetic
        self.original_labels += other.original_labels
        self.skipped_unlabelled += other.skipped_unlabelled
        self.relabelled += other.relabelled
        self.relabel_pairs.update(other.relabel_pairs)
        self.sources += other.sources


def normalise_vendor(name: str) -> str:
    name = urllib.parse.unquote(name.strip())
    name = re.sub(r"^/?user/", "", name)
    return name.lower()


def read_csv(path: Path, *, synthetic: bool = False, label_set: str = "taxonomy") -> Dataset:
    """Read one labelled listing CSV; raise DataError naming file/line/field on bad input.

    `relabelled` counts the rows whose taxonomy label differs from their `label` column."""
    path = Path(path)
    if label_set not in LABEL_SETS:
        raise DataError(f"unknown label set {label_set!r}; use one of {', '.join(LABEL_SETS)}")
    if not path.is_file():
        raise DataError(f"{path}: no such file; pass a CSV with columns {', '.join(REQUIRED)}")
    data = Dataset(sources=[str(path)])
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{path}: line 1: missing column(s) {', '.join(missing)}; "
                            f"found {', '.join(reader.fieldnames or [])}")
        for row in reader:
            line = reader.line_num
            label = row_label(row, label_set)
            original = (row.get("label") or "").strip()
            if label != original:
                data.relabelled += 1
                data.relabel_pairs[(original or "(empty)", label or "(empty)")] += 1
            if not label:
                data.skipped_unlabelled += 1
                continue
            if label not in LABELS:
                raise DataError(f"{path}: line {line}: field label: unknown category {label!r}; "
                                f"use one of {', '.join(LABELS)} or leave it empty for ambiguous rows")
            title = (row.get("title") or "").strip()
            if not title:
                raise DataError(f"{path}: line {line}: field title is empty")
            vendor = normalise_vendor(row.get("vendor") or "")
            if not vendor:
                raise DataError(f"{path}: line {line}: field vendor is empty; evaluation groups by vendor")
            data.records.append({"title": title, "description": (row.get("description") or "").strip(),
                                 "text": (row.get("text") or "").strip()})
            data.labels.append(label)
            data.groups.append(vendor)
            data.synthetic.append(synthetic)
            data.original_labels.append(original)
    return data


def load_training_data(paths: list[Path], *, with_synthetic: bool = True, label_set: str = "taxonomy") -> Dataset:
    data = Dataset()
    for path in paths:
        data.extend(read_csv(path, label_set=label_set))
    if with_synthetic and SYNTHETIC_PATH.is_file():
        data.extend(read_csv(SYNTHETIC_PATH, synthetic=True))
    if not data.labels:
        raise DataError(f"{', '.join(map(str, paths))}: no labelled rows to train on")
    return data
