"""Lexicon files: loading, validation, and compilation into one fast regular expression.

A lexicon file is a CSV with `#` comment lines at the top (provenance, licence) and the columns
`term,canonical,lang,kind,rule,source`:

- `term`: the surface form, matched case-insensitively. A space or hyphen in a term matches a space,
  a hyphen, an underscore, a dot or nothing (never a line break) ("2c-b" finds "2CB", "2c b", "2-cb").
- `canonical`: an id of extractors/data/canonical.csv (checked at load time).
- `lang`: ISO 639-1 code, or `xx` for international names (INNs, brand names, codes).
- `kind`: name | brand | slang | misspelling | rc | strain | form | jargon | measure (a trade measure such
  as "ounce" or "QP": with rule `weak` it is its own context, so "Micado, 1 Ounce" says cannabis when nothing
  else is named, because cannabis is what markets sell by the ounce and pound).
- `rule`: empty (always fires), `ctx` (fires only with drug-trade context on the same line and no veto word
  nearby: for common words like "ice", "snow", "charlie"), `weak` (like `ctx`, and only when no other
  substance is named in the whole text: for trade jargon such as "indoor" or "top shelf"), `upper` (like
  `ctx`, and only when written in capitals: "MD", "EQ"), `pill` (like `weak`, and only next to a pill cue: a
  milligram strength, a pill count or a pill word: ecstasy press names such as "Tesla" or "Superman").
- `source`: `here` (written for narcowatch), `dope` (taken from CTN-0094/DOPE, MIT), `tripsit` (taken from
  TripSit drugs, ISC).

Why one big regex instead of spaCy's PhraseMatcher: listing titles glue words to numbers and punctuation
("MDMA-87%-3g", "1GR", "25I-NBOMe") in ways no tokenizer splits consistently, and a trie-shaped regex over
the raw text runs in one C-level pass, which keeps the whole pipeline above 3,000 listings/s.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc

DATA_DIR = Path(__file__).parent / "data"
LEXICON_DIR = DATA_DIR / "lexicon"
CANONICAL_CSV = DATA_DIR / "canonical.csv"

RULES = ("", "ctx", "weak", "upper", "pill")
KINDS = ("name", "brand", "slang", "misspelling", "rc", "strain", "form", "jargon", "measure")
SOURCES = ("here", "dope", "tripsit")
_SEP = "\x00"  # placeholder for a flexible separator inside the trie
SEP_PATTERN = r"[ \t\u00a0\-_.]?"  # never a line break: a match must not span two fields


class LexiconError(ValueError):
    """A lexicon file is malformed; the message names the file, line and field."""


@dataclass(frozen=True)
class Entry:
    term: str
    canonical: str
    lang: str
    kind: str
    rule: str
    source: str
    file: str
    line: int


@lru_cache(maxsize=1)
def canonical_categories() -> dict[str, str]:
    """canonical id -> taxonomy category, from extractors/data/canonical.csv."""
    with CANONICAL_CSV.open(encoding="utf-8", newline="") as fh:
        return {row["id"]: row["category"] for row in csv.DictReader(fh)}


def _data_lines(path: Path) -> Iterable[tuple[int, str]]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                yield number, line


def read_lexicon_file(path: Path) -> list[Entry]:
    categories = canonical_categories()
    numbered = list(_data_lines(path))
    if not numbered:
        return []
    reader = csv.DictReader(line for _, line in numbered)
    expected = ["term", "canonical", "lang", "kind", "rule", "source"]
    if reader.fieldnames != expected:
        raise LexiconError(f"{path}:{numbered[0][0]}: header must be {','.join(expected)}, got {reader.fieldnames}")
    entries = []
    for (number, _), row in zip(numbered[1:], reader, strict=False):
        where = f"{path}:{number}"
        term = (row["term"] or "").strip().lower()
        if not term:
            raise LexiconError(f"{where}: empty term")
        if row["canonical"] not in categories:
            raise LexiconError(f"{where}: canonical id {row['canonical']!r} is not in {CANONICAL_CSV.name}; "
                               "add a row there (never rename one)")
        if row["rule"] not in RULES:
            raise LexiconError(f"{where}: rule {row['rule']!r} must be one of {RULES}")
        if row["kind"] not in KINDS:
            raise LexiconError(f"{where}: kind {row['kind']!r} must be one of {KINDS}")
        if row["source"] not in SOURCES:
            raise LexiconError(f"{where}: source {row['source']!r} must be one of {SOURCES}")
        entries.append(Entry(term, row["canonical"], row["lang"], row["kind"], row["rule"], row["source"],
                             path.name, number))
    return entries


@lru_cache(maxsize=4)
def load_entries(directory: str = str(LEXICON_DIR)) -> tuple[Entry, ...]:
    entries: list[Entry] = []
    for path in sorted(Path(directory).glob("*.csv")):
        entries.extend(read_lexicon_file(path))
    return tuple(entries)


def normalise_key(surface: str) -> str:
    """The lookup key of a matched surface form: lower case, separators removed."""
    return re.sub(r"[\s\-_.]+", "", surface.lower())


def build_index(entries: Iterable[Entry]) -> dict[str, Entry]:
    """key -> entry; when two files give the same key, the first (sorted by file name) wins."""
    index: dict[str, Entry] = {}
    for entry in entries:
        index.setdefault(normalise_key(entry.term), entry)
    return index


def _trie_pattern(terms: Iterable[str]) -> str:
    trie: dict = {}
    for term in terms:
        node = trie
        chars = re.sub(r"[\s\-]+", _SEP, term)
        for ch in chars:
            node = node.setdefault(ch, {})
        node[""] = {}

    def render(node: dict) -> str:
        end = "" in node
        branches = []
        for ch in sorted(k for k in node if k):
            piece = SEP_PATTERN if ch == _SEP else re.escape(ch)
            branches.append(piece + render(node[ch]))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        # greedy optional: the longest term wins, shorter ones remain reachable by backtracking
        if end:
            body = f"(?:{body})?" if len(branches) > 1 or len(body) > 1 else f"{body}?"
        return body

    return render(trie)


def doc_text(doc) -> str:
    """doc.text, computed once per Doc: spaCy rebuilds it from the tokens on every access, which cost
    more than all the matching together."""
    text = doc.user_data.get("nw_text")
    if text is None:
        text = doc.user_data["nw_text"] = doc.text
    return text


class BatchComponent:
    """Mixin for the extractor components: `pipe` runs the component over a whole batch of Docs before the
    next component starts. spaCy calls it from nlp.pipe with the pipeline's batch size; without it the docs
    go through all four components one doc at a time, and each component's large precompiled regexes push
    the others' out of the CPU caches (component-major batches measured 15-20% faster on the Agora bench).
    Results are identical: every component reads only its Doc."""

    def __call__(self, doc: Doc) -> Doc:  # pragma: no cover - defined by each component
        raise NotImplementedError

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from [self(d) for d in batch]  # the whole batch first, then hand it on
                batch = []
        yield from [self(d) for d in batch]


def set_spans(doc, key: str, items: list[dict], label_key: str) -> None:
    """Mirror extracted items into doc.spans[key] (token-aligned, expanded to whole tokens).

    Off by default (component setting `spans = true` turns it on): building Span objects costs about as
    much as the matching, and the Doc._ extensions already carry every result with exact offsets.
    """
    spans = []
    for item in items:
        span = doc.char_span(item["start"], item["end"], label=str(item[label_key]), alignment_mode="expand")
        if span is not None:
            spans.append(span)
    doc.spans[key] = spans


def same_line(pattern: str) -> str:
    """A regex source whose white space never crosses a line break (fields are joined by blank lines, and
    no match may span two fields): `\\s` becomes space/tab/no-break space, also in classes ([^\\s] stays)."""
    out, i, in_class, negated = [], 0, False, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            pair = pattern[i:i + 2]
            if pair == "\\s" and not (in_class and negated):  # [^\\s...] already refuses line breaks
                out.append(" \\t\\u00a0" if in_class else "[ \\t\\u00a0]")
            else:
                out.append(pair)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class, negated = True, pattern[i + 1:i + 2] == "^"
            out.append(ch)
            if negated:  # a leading ] after [ or [^ is literal
                out.append("^")
                i += 1
            if pattern[i + 1:i + 2] == "]":
                out.append("]")
                i += 1
        elif ch == "]" and in_class:
            in_class = False
            out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def fold(text: str) -> tuple[str, bool]:
    """Lower-cased text for the case-sensitive (faster) regexes, and whether offsets survive lower-casing.

    A few characters change length when lower-cased ("İ"); then callers fall back to an IGNORECASE regex on
    the original text so that offsets stay exact.
    """
    low = text.lower()
    return low, len(low) == len(text)


def trie_regex(terms: Iterable[str], left: str, right: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(left + "(?:" + _trie_pattern(sorted({t.lower() for t in terms})) + ")" + right, flags)


def compile_terms(terms: Iterable[str], flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """One regex finding any of the terms as a whole word (not inside a longer word).

    Left edge: not preceded by a letter (a digit may precede: "10xMDMA" is common). Right edge: not
    followed by a letter, so "mdma87%" matches but "cokes" in "cokeshop" does not. Without IGNORECASE the
    regex expects lower-cased text (see fold()), which runs about twice as fast.
    """
    return trie_regex(terms, r"(?<![^\W\d_])", r"(?![^\W\d_])", flags)
