"""Features of the category model: the same code builds them at training and at prediction time.

Two parts, stacked side by side:
  * text: TF-IDF of word 1-2 grams and of character 2-5 grams (within word boundaries) over the title
    (repeated, because titles carry the signal and descriptions are missing in most rows) plus the
    description and any free text;
  * evidence: a small dense block from substance terms found in the text (classifiers.category_lexicon)
    and from the extractors' substances passed in the record: per taxonomy category and per
    pharmacological tag, whether a term was seen in the title and anywhere. The model learns how much to
    trust each; these features are what carries knowledge to vendors and substances absent from training.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from classifiers.category_lexicon import TermMatcher, default_matcher, load_rows
from classifiers.category_taxonomy import LABELS

TAGS: tuple[str, ...] = (
    "research-chemical", "benzodiazepine", "opioid", "dissociative", "empathogen", "psychedelic",
    "stimulant", "depressant", "barbiturate", "nootropic", "ssri", "deliriant", "steroid", "precursor",
    "brand", "cannabis", "prescription",
)
_WS = re.compile(r"\s+")
# Listing slugs ("xanax-gg249-bars-500-pills") and decorations ("★★★", ">>>>") hide words from the
# word tokenizer; splitting them costs nothing for ordinary text.
_SEPARATORS = re.compile(r"[\-_*★☆✓✔➤►>|~=+]+")


def record_text(record: Mapping[str, Any]) -> str:
    """The text the model reads: the title twice, then description and free text."""
    title = str(record.get("title") or "")
    rest = " ".join(str(record.get(k) or "") for k in ("description", "text"))
    return _WS.sub(" ", f"{title} . {title} . {rest}").strip()


def normalise_for_words(text: str) -> str:
    return _WS.sub(" ", _SEPARATORS.sub(" ", text.lower()))


def evidence_names() -> list[str]:
    names = []
    for scope in ("title", "any"):
        names += [f"lex_{scope}:{label}" for label in LABELS]
        names += [f"tag_{scope}:{tag}" for tag in TAGS]
    names += [f"extractor:{label}" for label in LABELS]
    names += ["lex:n_categories", "lex:none"]
    return names


class EvidenceFeatures(BaseEstimator, TransformerMixin):
    """Records -> dense evidence block (binary indicators, one row per record)."""

    def __init__(self, terms: Sequence[Mapping[str, str]] | None = None, scale: float = 1.0) -> None:
        self.terms = terms
        self.scale = scale

    def _matcher(self) -> TermMatcher:
        if self.terms is None:
            return default_matcher()
        if getattr(self, "_cached_matcher", None) is None:
            self._cached_matcher = TermMatcher([dict(r) for r in self.terms])
        return self._cached_matcher

    def fit(self, records: Iterable[Mapping[str, Any]], y: Any = None) -> EvidenceFeatures:
        return self

    def transform(self, records: Iterable[Mapping[str, Any]]) -> sparse.csr_matrix:
        matcher = self._matcher()
        names = evidence_names()
        index = {n: i for i, n in enumerate(names)}
        rows = list(records)
        out = np.zeros((len(rows), len(names)), dtype=np.float64)
        for i, record in enumerate(rows):
            title = str(record.get("title") or "")
            body = " ".join(str(record.get(k) or "") for k in ("description", "text"))
            seen: set[str] = set()
            for scope, text in (("title", title), ("any", title), ("any", body)):
                for hit in matcher.find(text):
                    seen.add(hit.category)
                    out[i, index[f"lex_{scope}:{hit.category}"]] = 1.0
                    for tag in hit.tags:
                        key = f"tag_{scope}:{tag}"
                        if key in index:
                            out[i, index[key]] = 1.0
            for sub in record.get("substances") or []:
                category = sub.get("category") if isinstance(sub, Mapping) else None
                if category in LABELS:
                    out[i, index[f"extractor:{category}"]] = 1.0
            out[i, index["lex:n_categories"]] = min(len(seen), 3) / 3.0
            out[i, index["lex:none"]] = 0.0 if seen else 1.0
        return sparse.csr_matrix(out * self.scale)


class TextFeatures(BaseEstimator, TransformerMixin):
    """Records -> TF-IDF of word and character n-grams of `record_text`."""

    def __init__(self, min_df: int = 2, char_range: tuple[int, int] = (2, 5), max_features: int = 150_000) -> None:
        self.min_df = min_df
        self.char_range = char_range
        self.max_features = max_features

    def fit(self, records: Iterable[Mapping[str, Any]], y: Any = None) -> TextFeatures:
        texts = [normalise_for_words(record_text(r)) for r in records]
        self.word_ = TfidfVectorizer(ngram_range=(1, 2), min_df=self.min_df, sublinear_tf=True,
                                     token_pattern=r"(?u)\b\w+\b", max_features=self.max_features,
                                     dtype=np.float32)
        self.char_ = TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_range, min_df=self.min_df,
                                     sublinear_tf=True, max_features=self.max_features, dtype=np.float32)
        self.word_.fit(texts)
        self.char_.fit(texts)
        return self

    def transform(self, records: Iterable[Mapping[str, Any]]) -> sparse.csr_matrix:
        texts = [normalise_for_words(record_text(r)) for r in records]
        return sparse.hstack([self.word_.transform(texts), self.char_.transform(texts)], format="csr")


def default_terms() -> list[dict[str, str]]:
    return load_rows()
