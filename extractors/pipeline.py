"""The extractor pipeline: a blank spaCy tokenizer plus narcowatch's registered components.

`load_pipeline()` builds it once from the committed extractors/config.cfg. Results live on the Doc:
`doc.spans["substances" | "quantities" | "prices" | "shipping" | "identifiers"]` for spaCy users, and the
complete records (with normalised values) in `Doc._` extensions registered here once:
`nw_substances`, `nw_substance_topics`, `nw_quantities`, `nw_quantity`, `nw_prices`, `nw_price_per_unit`, `nw_shipping`,
`nw_identifiers`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import registry

# importing the modules registers their factories
from extractors import identifiers, quantities, shipping, substances  # noqa: F401

CONFIG_PATH = Path(__file__).parent / "config.cfg"
EXTENSIONS = ("nw_substances", "nw_substance_topics", "nw_quantities", "nw_quantity", "nw_prices", "nw_price_per_unit", "nw_shipping",
              "nw_identifiers")


class TextKeepingTokenizer:
    """spaCy's rule-based tokenizer, plus the raw text kept in doc.user_data["nw_text"].

    Every component matches on the raw text; rebuilding it from tokens (doc.text) for each component cost
    more than the matching itself. Everything else is delegated to the wrapped tokenizer.
    """

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> Doc:
        doc = self.tokenizer(text)
        doc.user_data["nw_text"] = text
        return doc

    def pipe(self, texts, batch_size: int = 1000):
        for text in texts:
            yield self(text)

    def __getattr__(self, name: str):
        return getattr(self.tokenizer, name)


@registry.tokenizers("narcowatch.TextKeepingTokenizer.v1")
def create_tokenizer():
    def make(nlp: Language) -> TextKeepingTokenizer:
        return TextKeepingTokenizer(Tokenizer(nlp.vocab, rules=nlp.Defaults.tokenizer_exceptions,
                                              prefix_search=_compiled(nlp, "prefixes"),
                                              suffix_search=_compiled(nlp, "suffixes"),
                                              infix_finditer=_compiled(nlp, "infixes"),
                                              token_match=nlp.Defaults.token_match,
                                              url_match=nlp.Defaults.url_match))
    return make


def _compiled(nlp: Language, kind: str):
    rules = getattr(nlp.Defaults, kind)
    if not rules:
        return None
    if kind == "prefixes":
        return spacy.util.compile_prefix_regex(rules).search
    if kind == "suffixes":
        return spacy.util.compile_suffix_regex(rules).search
    return spacy.util.compile_infix_regex(rules).finditer


def register_extensions() -> None:
    for name in EXTENSIONS:
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)


@lru_cache(maxsize=1)
def load_pipeline() -> Language:
    """The shared pipeline (cached: build once per process)."""
    register_extensions()
    config = spacy.util.load_config(CONFIG_PATH)
    return spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
