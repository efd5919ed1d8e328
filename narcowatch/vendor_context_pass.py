"""The vendor-context pass of `narcowatch analyze`: once every record of the file is analysed (each listing
alone, narcowatch/analysis.py), listings that share a `vendor` are re-read with the vendor's other listings in
the file (classifiers.category_context), and the output is rewritten with their category, scores and review
flag. Memory: 12 floats per record (kept for every record, so rows stay aligned with the output lines).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np


class VendorContextPass:
    def __init__(self) -> None:
        self.vendors: list[str | None] = []
        self.scores: list[np.ndarray] = []
        self.named = 0

    def add(self, record: dict[str, Any], result: dict[str, Any]) -> None:
        """Keep what the pass needs of one analysed record (in output order)."""
        from classifiers.category_taxonomy import LABELS

        vendor = record.get("vendor") if record.get("kind") != "post" else None
        vendor = str(vendor).strip().lower() if vendor is not None and str(vendor).strip() else None
        scores = result.get("listing_scores") or {}
        self.named += vendor is not None and bool(scores)
        self.vendors.append(vendor if scores else None)
        self.scores.append(np.array([float(scores.get(label) or 0.0) for label in LABELS], dtype=np.float32))

    def rewrite(self, path: Path) -> int:
        """Rewrite the JSON-lines output at `path` with the vendor context applied; returns the records changed.
        Nothing to do (no vendors, or no classifier): the file is left as it is."""
        if self.named == 0:
            return 0
        try:
            from classifiers.category import recategorise
        except (ImportError, AttributeError):
            return 0
        results = recategorise(self.vendors, np.vstack(self.scores))
        changed = 0
        tmp = path.with_name(path.name + ".context")
        try:
            with path.open(encoding="utf-8") as src, tmp.open("w", encoding="utf-8") as out:
                for line, vendor, result in zip(src, self.vendors, results, strict=True):
                    row = json.loads(line)
                    if vendor is not None:
                        before = (row.get("category"), row.get("category_scores"), row.get("needs_review"))
                        row.update(category=result["category"], category_scores=result["category_scores"],
                                   needs_review=result["needs_review"],
                                   vendor_listings_read=result["vendor_listings_read"])
                        changed += before != (row["category"], row["category_scores"], row["needs_review"])
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return changed
