"""The fixed category taxonomy (DESIGN.md) shared by the category classifier's modules."""

from __future__ import annotations

LABELS: tuple[str, ...] = (
    "cannabis", "stimulants", "ecstasy", "psychedelics", "opioids", "benzodiazepines", "prescription",
    "dissociatives", "doping", "nps", "precursors", "not_drug",
)
