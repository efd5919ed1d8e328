"""Substance mentions: lexicon matching plus context rules for ambiguous words.

The component `narcowatch_substances` writes a list of mentions to `doc._.nw_substances` (dicts with
canonical, category, text, start, end, char offsets into doc_text(doc)) and the same mentions as spans in
`doc.spans["substances"]` (label = canonical id).

Information products (guides, e-books, tutorials, "how to", synthesis write-ups: decided on the first line,
the title) talk about substances without offering them; their mentions go to `doc._.nw_substance_topics`
(and `doc.spans["substance_topics"]`) instead, so counts of substances on offer stay clean while the
mentions remain searchable.
"""

from __future__ import annotations

import csv
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from extractors.lexicon import (
    DATA_DIR,
    BatchComponent,
    Entry,
    build_index,
    canonical_categories,
    compile_terms,
    doc_text,
    fold,
    load_entries,
    set_spans,
)
from extractors.lexicon import normalise_key as _key

VETO_CSV = DATA_DIR / "context_vetoes.csv"

# Drug-trade context: an amount, a count, a price, a purity or a trade word near an ambiguous term.
_CUE = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:g|gr|grs|grams?|gramm[eo]?s?|grammi|gramos|kg|kilos?|mg|ug|µg|mcg|oz|ounces?|lbs?|"
    r"ml|pills?|tabs?|caps?|blotters?|hits?)(?![^\W\d_])"
    r"|\d+\s*[x×](?![^\W\d_])|(?<![^\W\d_])[x×]\s*\d+|(?<!\d)\d/\d{1,2}(?!\d)|\d\s*%|[$€£฿]\s*\d"
    r"|\d\s*(?:usd|eur|gbp|btc|xmr)\b"
    r"|\b(?:pure|purity|uncut|bulk|wholesale|stealth|escrow|lab[- ]?tested|quality|grade|a{3,}\+*|hq|premium|"
    r"sample|samples|gram|grams|ounce|oz|eighth|qp|kilo|kilos|pills?|tabs?|blotters?|snort|sniff|smoke|"
    r"smoking|dealer|vendor|flakes?|rocks?|powder|crystals?|shards?|paste|hcl|freebase|dose|doses|"
    r"pur[ea]?|puro|rein|zuiver|calidad|qualité|qualität|kwaliteit|qualità|qualidade|gramos|gramm|grammi)\b",
    re.IGNORECASE,
)
_MICROGRAM_DOSE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?\s*(?:ug|µg|μg|mcg)(?![^\W\d_])", re.IGNORECASE)
# Look-alike letters vendors use to dodge keyword filters, mapped one character to one character (offsets
# stay valid): Greek and Cyrillic homoglyphs and letter-like symbols of the "fancy text" generators.
_CONFUSABLES = str.maketrans({
    "α": "a", "в": "b", "¢": "c", "ç": "c", "ɗ": "d", "є": "e", "ε": "e", "е": "e", "ƒ": "f", "ɢ": "g",
    "н": "h", "ι": "i", "і": "i", "ʝ": "j", "к": "k", "ℓ": "l", "м": "m", "η": "n", "и": "n", "σ": "o", "ο": "o",
    "о": "o", "ρ": "p", "р": "p", "ԛ": "q", "я": "r", "ѕ": "s", "т": "t", "υ": "u", "ν": "v", "ω": "w",
    "х": "x", "у": "y", "ү": "y", "ᴢ": "z", "с": "c", "а": "a", "Α": "A", "Β": "B", "С": "C", "Е": "E",
    "Н": "H", "І": "I", "К": "K", "М": "M", "О": "O", "Р": "P", "Т": "T", "Х": "X", "Υ": "Y", "Ζ": "Z",
})

# A pill cue: a milligram strength, a count of pills or a pill word (for press names, rule `pill`).
_PILL_CUE = re.compile(r"\d\s*mg(?![^\W\d_])|\b(?:pills?|tabs?|tablets?|press(?:ed|es)?|pillen|pastillas?|"
                       r"pastilles?|pilules?|compresse|comprimidos?)\b|\d+\s*[x×](?![^\W\d_])|"
                       r"(?<![^\W\d_])[x×]\s*\d", re.IGNORECASE)
# An unnamed pill sold by its strength ("100x Superman 210MG+"): on drug markets that is an ecstasy press.
_ECSTASY_DOSE = re.compile(r"(?<![\w.])(?:1[0-9]\d|2\d\d|300)\+?\s*mg\+?(?![^\W\d_])", re.IGNORECASE)
_NOT_ECSTASY = re.compile(r"\b(?:vitamins?|supplements?|caffeine|koffein|thc|cbd|cannabis|chocolates?|candy|"
                          r"cookies?|brownies?|bars?|gumm(?:y|ies)|edibles?|syrup|capsules?|caps|creatine|"
                          r"protein|omega|iron|calcium|magnesium|zinc|aspirin|ibuprofen|paracetamol|"
                          r"acetaminophen|antibiotics?|amoxicillin)\b", re.IGNORECASE)
_MG = re.compile(r"\d\s*mg(?![^\W\d_])", re.IGNORECASE)
_EDIBLE = re.compile(r"\b(?:chocolates?|candy|candies|cand(?:y|ie)bars?|cookies?|brownies?|gumm(?:y|ies)|"
                     r"lollipops?|caramels?|drops|lozenges?|truffles?|cupcakes?|muffins?|cakes?|butter)\b",
                     re.IGNORECASE)
_WEIGHT = r"(?:\d+(?:[.,]\d+)?|\d/\d)\s*(?:g|gr|grams?|gramm[eo]?s?|oz|ounces?|z)(?![^\W\d_])"
_NAME = r"[^\W\d_][^\W_]*(?:[ '’][^\W\d_][^\W_]*){0,4}"
_NAME_AND_WEIGHT = re.compile(
    r"\W*(?:(?P<n1>" + _NAME + r")[\s,:\-(]+(?P<weight>" + _WEIGHT + r")|(?P<weight2>" + _WEIGHT + r")"
    r"[\s,:\-(]+(?:of\s+)?(?P<n2>" + _NAME + r"))(?:\s+a+\+*)?[\s)!.*]*$", re.IGNORECASE)
_NOT_HERB = re.compile(r"\b(?:tobacco|gold|silver|tea|coffee|salt|sugar|spices?|herbs?|kratom|kava|sample|"
                       r"samples|powder|crystals?|rocks?|pills?|tabs?|caps?|custom|order|listing|gift|"
                       r"cards?|account|accounts|bitcoins?|btc|acid|acetone|cyanid\w*|\w+ium|\w*chlor\w*|"
                       r"\w*nitr\w*|\w*sulf\w*|\w*sulph\w*|\w*oxide|permanganate|peroxide|ammonia\w*|"
                       r"ethanol|methanol|glycol|solvent|reagents?|phosphor\w*|iodine|lye|caustic|pure|"
                       r"purity|lab|tested|hcl)\b", re.IGNORECASE)
_NOT_LSD = re.compile(r"\b(?:vitamins?|b12|folic|biotin|d3|selenium|iodine|supplements?|clen\w*|t3|t4|cytomel|"
                      r"levothyrox\w*|thyroid|fentanyl|patch|patches|spray|inhaler)\b", re.IGNORECASE)
INFO_PRODUCT = re.compile(
    r"\b(?:e-?books?|guides?|tutorials?|how\s*to|manuals?|handbooks?|books?|pdfs?|cookbooks?|courses?|"
    r"encyclopa?edias?|instructions|synthesis|synthesi[sz]e|recipes?|audiobooks?|documentar(?:y|ies)|"
    r"lessons?|bible|editions?|\d(?:st|nd|rd|th)\s+ed|movie|films?|dvds?|lexikon|histor(?:y|ies)|stor(?:y|ies)|"
    r"diar(?:y|ies)|secrets?|manufacture|cultivation|chemistry|facts|urine\s+test|drug\s+tests?|"
    r"complete\s+collection)\b"
    r"|:\s+the\b", re.IGNORECASE)
WINDOW = 40
VETO_WINDOW = 25

# One term, two meanings: "NPP" is a fentanyl precursor and also nandrolone phenylpropionate.
_DOPING_CUE = re.compile(
    r"\b(?:steroids?|anabolics?|cycle|inject\w*|vials?|amps?|ampoules?|mg/ml|ml|deca|test|tren|"
    r"bodybuild\w*|nandrolone|phenylpropionate|durabolin|gym|bulking)\b", re.IGNORECASE)
_ALTERNATES = {"npp": ("nandrolone", _DOPING_CUE)}


@dataclass
class Hit:
    start: int
    end: int
    entry: Entry

    @property
    def canonical(self) -> str:
        return self.entry.canonical


@lru_cache(maxsize=1)
def _vetoes() -> dict[str, re.Pattern[str]]:
    words: dict[str, set[str]] = {}
    with VETO_CSV.open(encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip() and not line.startswith("#")]
    for row in csv.DictReader(lines):
        alternatives = {w for w in (row["veto"] or "").split("|") if w}
        words.setdefault(_key(row["term"]), set()).update(alternatives)
    return {
        key: re.compile(r"(?<![^\W\d_])(?:" + "|".join(sorted(map(re.escape, ws))) + r")(?![^\W\d_])", re.I)
        for key, ws in words.items() if ws
    }


class SubstanceMatcher:
    """Finds substance mentions in a text; independent of spaCy so it can be tested on plain strings."""

    def __init__(self, window: int = WINDOW, veto_window: int = VETO_WINDOW) -> None:
        entries = load_entries()
        self.index = build_index(entries)
        self.pattern = compile_terms(e.term for e in entries)
        self.lower_pattern = compile_terms((e.term for e in entries), flags=0)
        self.vetoes = _vetoes()
        self.categories = canonical_categories()
        self.window = window
        self.veto_window = veto_window

    def find(self, text: str) -> list[Hit]:
        if not text.isascii():  # stylised look-alike letters ("Cσcαιηє") evade plain matching
            text = text.translate(_CONFUSABLES)
        candidates = []
        low, same = fold(text)
        for m in (self.lower_pattern.finditer(low) if same else self.pattern.finditer(text)):
            entry = self.index.get(_key(m.group()))
            if entry is not None:
                candidates.append(Hit(m.start(), m.end(), entry))
        if not candidates:
            return self._inferred(text)
        strong = [h for h in candidates if h.entry.rule == ""]  # in text order (finditer)
        accepted = list(strong)
        strong_starts = [h.start for h in strong]
        for hit in candidates:
            if hit.entry.rule in ("ctx", "upper") and self._context_ok(text, hit, strong, strong_starts):
                accepted.append(hit)
        if not accepted:  # weak terms (trade jargon) speak only when nothing else is named
            accepted = [h for h in candidates if h.entry.rule == "weak" and self._context_ok(text, h, [])]
        if not accepted:  # press names speak only next to a pill cue on their line
            accepted = [h for h in candidates if h.entry.rule == "pill" and self._pill_ok(text, h)]
        if not strong and accepted:  # a microgram dose outweighs ambiguous words ("Silver-Grey 185ug")
            accepted = self._inferred_lsd(text) or accepted
        if not accepted:
            accepted = self._inferred(text)
            # several jargon words must agree on one substance, else say nothing
            if len({h.canonical for h in accepted}) > 1:
                accepted = []
        accepted.extend(self._edible_form(text, accepted))
        accepted.sort(key=lambda h: h.start)
        return [self._resolve(text, h) for h in accepted]

    def _pill_ok(self, text: str, hit: Hit) -> bool:
        veto = self.vetoes.get(_key(hit.entry.term))
        line_start = text.rfind("\n", 0, hit.start) + 1
        line_end = text.find("\n", hit.end)
        line = text[line_start:len(text) if line_end < 0 else line_end]
        return bool(_PILL_CUE.search(line)) and not (veto is not None and veto.search(line))

    def _inferred(self, text: str) -> list[Hit]:
        return (self._inferred_lsd(text) or self._inferred_edible(text) or self._inferred_ecstasy(text)
                or self._inferred_herb(text))

    def _inferred_herb(self, text: str) -> list[Hit]:
        """A title that is only a name and a weight ("Sassquatch, 7 grams", "Grand Dawgy (5g)") sells herbal
        cannabis by strain name: other drugs are sold under their own name, which the lexicon would find."""
        title_end = text.find("\n")
        title = text if title_end < 0 else text[:title_end]
        m = _NAME_AND_WEIGHT.match(title)
        if m is None or _NOT_HERB.search(title) or "cannabis" not in self.categories:
            return []
        start, end = m.span("weight") if m.group("weight") else m.span("weight2")
        entry = Entry(title[start:end], "cannabis", "xx", "inferred", "weak", "here", "substances.py", 0)
        return [Hit(start, end, entry)]

    def _edible_form(self, text: str, accepted: list[Hit]) -> list[Hit]:
        """Herbal cannabis or hash in a sweet ("hash cookies", "Hash Candy") is also a cannabis edible."""
        if not any(h.canonical in ("cannabis", "hashish") for h in accepted):
            return []
        if any(h.canonical == "cannabis-edible" for h in accepted) or "cannabis-edible" not in self.categories:
            return []
        title_end = text.find("\n")
        m = _EDIBLE.search(text if title_end < 0 else text[:title_end])
        if m is None:
            return []
        return [Hit(m.start(), m.end(), Entry(m.group(), "cannabis-edible", "xx", "form", "", "here",
                                              "substances.py", 0))]

    def _inferred_edible(self, text: str) -> list[Hit]:
        """A sweet sold by its milligram strength with no substance named is a cannabis edible (THC edibles
        are labelled by THC content: "250mg chocolate bar")."""
        title_end = text.find("\n")
        title = text if title_end < 0 else text[:title_end]
        m = _EDIBLE.search(title)
        if m is None or not _MG.search(title) or "cannabis-edible" not in self.categories:
            return []
        entry = Entry(m.group(), "cannabis-edible", "xx", "inferred", "weak", "here", "substances.py", 0)
        return [Hit(m.start(), m.end(), entry)]

    def _inferred_ecstasy(self, text: str) -> list[Hit]:
        """An unnamed pill sold by a strength of 120-300 mg is an ecstasy press: prescription pills are sold
        by their drug or brand name, which the lexicon would have found. Judged on the title line only."""
        title_end = text.find("\n")
        title = text if title_end < 0 else text[:title_end]
        m = _ECSTASY_DOSE.search(title)
        if m is None or _NOT_ECSTASY.search(title) or INFO_PRODUCT.search(title) or "mdma" not in self.categories:
            return []
        entry = Entry(m.group(), "mdma", "xx", "inferred", "weak", "here", "substances.py", 0)
        return [Hit(m.start(), m.end(), entry)]

    def _inferred_lsd(self, text: str) -> list[Hit]:
        """A microgram dose with no substance named is LSD: the one market drug dosed in micrograms that is
        sold unnamed (NBOMes and clenbuterol, also dosed in µg, are named by their sellers)."""
        m = _MICROGRAM_DOSE.search(text)
        if m is None or _NOT_LSD.search(text) or "lsd" not in self.categories:
            return []
        entry = Entry(m.group(), "lsd", "xx", "inferred", "weak", "here", "substances.py", 0)
        return [Hit(m.start(), m.end(), entry)]

    def _context_ok(self, text: str, hit: Hit, strong: list[Hit],
                    strong_starts: list[int] | None = None) -> bool:
        surface = text[hit.start:hit.end]
        if hit.entry.rule == "upper" and not surface.isupper():
            return False
        key = _key(hit.entry.term)
        veto = self.vetoes.get(key)
        if veto is not None:
            left = text[max(0, hit.start - self.veto_window):hit.start]
            right = text[hit.end:hit.end + self.veto_window]
            if veto.search(left) or veto.search(right):
                return False
        if hit.entry.kind == "measure":  # a trade measure is its own context
            return True
        line_start = text.rfind("\n", 0, hit.start) + 1
        line_end = text.find("\n", hit.end)
        line_end = len(text) if line_end < 0 else line_end
        # another, unambiguous substance on the same line is context enough ("Ice / Crystal Meth"),
        # but an ambiguous form word glued to another substance is that substance's form ("MDMA crystals")
        # strong hits are sorted by start: bisect instead of scanning them all (a page with thousands of
        # mentions on one line must stay near-linear)
        starts = strong_starts if strong_starts is not None else [h.start for h in strong]
        lo = bisect_left(starts, line_start)
        hi = bisect_left(starts, line_end, lo)
        if hit.entry.kind in ("slang", "form"):
            near = bisect_left(starts, hit.start - 64, lo, hi)
            for other in strong[near:bisect_right(starts, hit.end + 2, lo, hi)]:
                gap = min(abs(other.start - hit.end), abs(hit.start - other.end))
                if gap <= 2 and other.canonical != hit.canonical and \
                        self.categories[other.canonical] != self.categories[hit.canonical]:
                    return False
        if lo < hi:
            return True
        left = text[max(line_start, hit.start - self.window):hit.start]
        right = text[hit.end:min(line_end, hit.end + self.window)]
        return bool(_CUE.search(left) or _CUE.search(right))

    def _resolve(self, text: str, hit: Hit) -> Hit:
        alternate = _ALTERNATES.get(hit.canonical)
        if alternate is not None and alternate[0] in self.categories:
            canonical, cue = alternate
            if cue.search(text):
                entry = Entry(hit.entry.term, canonical, hit.entry.lang, hit.entry.kind, hit.entry.rule,
                              hit.entry.source, hit.entry.file, hit.entry.line)
                return Hit(hit.start, hit.end, entry)
        return hit


@lru_cache(maxsize=1)
def default_matcher() -> SubstanceMatcher:
    return SubstanceMatcher()


def mentions(matcher: SubstanceMatcher, text: str) -> list[dict]:
    return [
        {"canonical": h.canonical, "category": matcher.categories[h.canonical], "kind": h.entry.kind,
         "text": text[h.start:h.end], "start": h.start, "end": h.end}
        for h in matcher.find(text)
    ]


class SubstanceComponent(BatchComponent):
    def __init__(self, window: int, veto_window: int, spans: bool = False) -> None:
        self.make_spans = spans
        if (window, veto_window) == (WINDOW, VETO_WINDOW):
            self.matcher = default_matcher()
        else:
            self.matcher = SubstanceMatcher(window, veto_window)

    def __call__(self, doc: Doc) -> Doc:
        found = mentions(self.matcher, doc_text(doc))
        title = doc_text(doc).split("\n", 1)[0]
        topics: list[dict] = []
        if found and INFO_PRODUCT.search(title):
            found, topics = [], found
        doc._.nw_substances = found
        doc._.nw_substance_topics = topics
        if self.make_spans:
            set_spans(doc, "substances", found, "canonical")
            set_spans(doc, "substance_topics", topics, "canonical")
        return doc


@Language.factory(
    "narcowatch_substances",
    default_config={"window": WINDOW, "veto_window": VETO_WINDOW, "spans": False},
)
def make_substances(nlp: Language, name: str, window: int, veto_window: int, spans: bool) -> SubstanceComponent:
    return SubstanceComponent(window, veto_window, spans)
