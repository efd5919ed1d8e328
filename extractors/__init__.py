"""spaCy components and curated lexicons that turn listing and post text into facts.

Public API (see docs/extractors.md):
- extractors.pipeline.load_pipeline() -> spacy.Language
- extractors.analyze_text(title, description="", text="") -> dict
- extractors.analyze_records(records, batch_size=256) -> Iterator[dict]
- extractors.identifiers.pgp_fingerprint(block) -> str
"""

from __future__ import annotations

from extractors.api import analyze_records, analyze_text

__all__ = ["analyze_records", "analyze_text"]
