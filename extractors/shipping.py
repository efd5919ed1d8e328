"""Shipping origin and destinations as ISO 3166-1 alpha-2 codes (plus EU and WW for worldwide).

A country counts only when a shipping phrase governs it ("ships from", "envoi depuis", "desde", "Versand
aus", "To:", "ships to", "verzending naar", ...), so "Dutch MDMA" or "Moroccan hash" say nothing about
shipping. Lists after a phrase are followed ("USA, Canada & EU"), and an exclusion word switches the rest of
the list to `ships_to_except` ("Worldwide except Australia, NZ"). A bare "worldwide" is a destination.

The component `narcowatch_shipping` fills `doc._.nw_shipping` = {"ships_from", "ships_to",
"ships_to_except", "mentions"} and `doc.spans["shipping"]` (labels "from", "to", "except").
"""

from __future__ import annotations

import csv
import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from extractors.lexicon import DATA_DIR, BatchComponent, doc_text, fold, normalise_key, set_spans, trie_regex

COUNTRIES_CSV = DATA_DIR / "countries.csv"
REGIONS = {  # names that stand for several codes
    "scandinavia": ("DK", "NO", "SE"), "scandinavian countries": ("DK", "NO", "SE"),
    "nordic countries": ("DK", "FI", "IS", "NO", "SE"), "nordics": ("DK", "FI", "IS", "NO", "SE"),
    "north america": ("US", "CA"), "benelux": ("BE", "NL", "LU"), "uk/roi": ("GB", "IE"),
    "scandinavie": ("DK", "NO", "SE"), "escandinavia": ("DK", "NO", "SE"), "skandinavien": ("DK", "NO", "SE"),
    "scandinavië": ("DK", "NO", "SE"), "scandinavia ": ("DK", "NO", "SE"),
}

_ORIGIN = (r"ships?\s+from|shipping\s+from|shipped\s+from|sent\s+from|sending\s+from|dispatch(?:ed|es)?\s+from|"
           r"posted\s+from|mailed\s+from|from\s*:|origin\s*:|country\s+of\s+origin\s*:?|location\s*:|located\s+in|"
           r"based\s+in|envoi\s+(?:depuis|de)|exp[ée]di[ée]e?s?\s+(?:depuis|de)|exp[ée]dition\s+(?:depuis|de)|"
           r"livr[ée]\s+depuis|env[íi]os?\s+desde|enviado\s+desde|enviamos\s+desde|versand\s+(?:aus|von|ab)|"
           r"versendet\s+(?:aus|von)|verschickt\s+(?:aus|von)|verzonden\s+(?:vanuit|uit)|"
           r"verzending\s+(?:vanuit|uit)|spedit[oa]\s+da(?:ll[ao]?|l)?|spedizion[ei]\s+da(?:ll[ao]?|l)?|"
           r"spediamo\s+da(?:ll[ao]?|l)?|enviado\s+(?:de|do|da)|envio\s+(?:de|do|da)|enviamos\s+(?:de|do|da)|"
           r"herkunft\s*:|origine\s*:|origen\s*:|herkomst\s*:")
_ORIGIN_BARE = r"from|desde|vanuit|depuis|aus"  # only when the country follows at once
# only when the country follows at once ("in tutta Europa", "para toda a Europa", "naar heel Europa")
_DEST_BARE = (r"to|into|vers|nach|naar(?:\s+heel)?|hacia|verso|para(?:\s+tod[ao]s?(?:\s+[ao]s?)?)?|"
              r"in\s+tutt[ao](?:\s+(?:il|la|l'))?|a\s+tod[ao](?:\s+(?:el|la))?|en\s+toda|in\s+ganz")
_DEST = (r"ships?\s+to|shipping\s+to|shipped\s+to|we\s+ship\s+to|deliver(?:y|s|ing)?\s+to|"
         r"destinations?\s*:|to\s*:|ships?\s+only\s+(?:to|within)|shipping\s+only\s+to|"
         r"envoi\s+(?:vers|en|au|aux)|livraison\s+(?:en|vers|à|a|au|aux)|exp[ée]dition\s+vers|"
         r"env[íi]os?\s+a|enviamos\s+a|versand\s+(?:nach|in|innerhalb)|liefer(?:n|ung)\s+nach|"
         r"verzend(?:ing|en)\s+naar|verzonden\s+naar|wij\s+verzenden\s+naar|spedizion[ei]\s+(?:in|verso)|"
         r"spediamo\s+(?:in|verso)|envio\s+para|enviamos\s+para|entrega\s+em|ziel\s*:|destino\s*:")
_NEGDEST = (r"(?:we\s+)?(?:do\s+not|don'?t|dont|cannot|can'?t|will\s+not|won'?t)\s+ship\s+to|"
            r"no\s+shipping\s+to|not\s+shipping\s+to|no\s+ship(?:ping)?\s+to|kein\s+versand\s+nach|"
            r"no\s+enviamos\s+a|ne\s+livrons\s+pas|niet\s+naar")
_EXCL = (r"except(?:\s+for|\s+to)?|excluding|exclude[sd]?|excl\.?|exept|expect|exluding|not\s+to|no|not|"
         r"sauf|except[ée]|excepto|salvo|menos|au(?:ß|ss)er|ausgenommen|behalve|uitgezonderd|tranne|eccetto|"
         r"exceto|sin|sem|ohne|zonder|senza")
CUE_RE = re.compile(
    rf"(?P<negdest>(?<![\w])(?:{_NEGDEST}))(?![\w])|(?P<origin>(?<![\w])(?:{_ORIGIN}))|"
    rf"(?P<dest>(?<![\w])(?:{_DEST}))|(?P<excl>(?<![\w])(?:{_EXCL})(?![\w]))|"
    rf"(?P<bare>(?<![\w])(?:{_ORIGIN_BARE})(?![\w]))|(?P<baredest>(?<![\w])(?:{_DEST_BARE})(?![\w]))",
    re.IGNORECASE,
)
_BREAK = re.compile(r"[;!?|\n<>]|\.(?:\s|$)|\s-\s|\b(?:and\s+)?(?:price|ships?|payment|escrow)\b", re.I)
MAX_GAP_WORDS = 4
MAX_GAP_CHARS = 200  # a gap this long always holds more than MAX_GAP_WORDS words or a break in practice
MAX_BARE_GAP = 5


_CUE_LOWER = re.compile(CUE_RE.pattern)


@dataclass(frozen=True)
class Gazetteer:
    names: re.Pattern[str]  # IGNORECASE, for text whose length changes when lower-cased
    names_lower: re.Pattern[str]  # for lower-cased text
    codes: re.Pattern[str]
    name_codes: dict[str, tuple[str, ...]]  # normalise_key(name) -> codes
    code_codes: dict[str, str]


def _boundary(alts: list[str]) -> str:
    body = "|".join(re.escape(a) for a in sorted(set(alts), key=len, reverse=True))
    return rf"(?<![\w])(?:{body})(?![\w])"


def _all_names() -> list[list[str]]:
    with COUNTRIES_CSV.open(encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return [[n for n in row["names"].split("|") if n] for row in rows]


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    name_codes: dict[str, tuple[str, ...]] = {}
    code_codes: dict[str, str] = {}
    with COUNTRIES_CSV.open(encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        for row in rows:
            for name in row["names"].split("|"):
                if name:
                    name_codes[normalise_key(name)] = (row["code"],)
            for code in row["codes"].split("|"):
                if code:
                    code_codes[code] = row["code"]
    names = [name for row_names in _all_names() for name in row_names] + list(REGIONS)
    for name, codes in REGIONS.items():
        name_codes[normalise_key(name)] = codes
    return Gazetteer(
        names=trie_regex(names, r"(?<![\w])", r"(?![\w])", re.IGNORECASE),
        names_lower=trie_regex(names, r"(?<![\w])", r"(?![\w])"),
        codes=re.compile(_boundary(list(code_codes))),
        name_codes=name_codes,
        code_codes=code_codes,
    )


class _Intervals:
    """Sorted, non-overlapping (start, end) spans with an O(log n) overlap test (pages can hold thousands
    of place names; a pairwise test was quadratic)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.starts = [s for s, _ in spans]
        self.ends = [e for _, e in spans]

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_left(self.starts, end) - 1  # the last span starting before `end`
        return i >= 0 and self.ends[i] > start


def find_shipping(text: str) -> dict:
    gaz = gazetteer()
    items: list[tuple[int, int, str, tuple[str, ...]]] = []  # start, end, kind, codes
    low, same = fold(text)
    for m in (gaz.names_lower.finditer(low) if same else gaz.names.finditer(text)):
        codes = gaz.name_codes.get(normalise_key(m.group()))
        if codes:
            items.append((m.start(), m.end(), "place", codes))
    taken = _Intervals([(s, e) for s, e, _, _ in items])
    for m in gaz.codes.finditer(text):
        if not taken.overlaps(m.start(), m.end()):
            items.append((m.start(), m.end(), "place", (gaz.code_codes[m.group()],)))
    if not items:
        return {"ships_from": [], "ships_to": [], "ships_to_except": [], "mentions": []}
    places = _Intervals(sorted((s, e) for s, e, _, _ in items))
    for m in (_CUE_LOWER.finditer(low) if same else CUE_RE.finditer(text)):
        if places.overlaps(m.start(), m.end()):
            continue  # "no" inside a place name, "to" inside "Toronto"...
        items.append((m.start(), m.end(), m.lastgroup or "", ()))
    items.sort(key=lambda i: (i[0], -i[1]))

    ships_from: list[str] = []
    ships_to: list[str] = []
    excluded: list[str] = []
    mentions: list[dict] = []
    state, exclude, last_end = "", False, 0
    for start, end, kind, codes in items:
        if start - last_end > MAX_GAP_CHARS:  # cheap: never slice a long stretch of text per item
            gap, broken = "", True
        else:
            gap = text[last_end:start]
            broken = bool(_BREAK.search(gap)) or len(gap.split()) > MAX_GAP_WORDS
        if broken:
            state, exclude = "", False
        if kind in ("origin", "dest", "negdest", "bare", "baredest"):
            state, exclude, last_end = kind, kind == "negdest", end
            continue
        if kind == "excl":
            if state in ("dest", "negdest"):
                exclude, last_end = True, end
            continue
        if state in ("bare", "baredest") and len(gap.strip()) > MAX_BARE_GAP:
            state = ""
        role = ""
        if state in ("origin", "bare") and codes == ("WW",):
            role, state = "to", "dest"  # worldwide is never an origin: "Versand aus Deutschland, weltweit"
        elif state in ("origin", "bare"):
            role = "from"
        elif state in ("dest", "negdest", "baredest"):
            role = "except" if exclude else "to"
        elif codes == ("WW",):
            role, state = "to", "dest"  # a bare "worldwide" is a destination and opens a list
        if role:
            target = {"from": ships_from, "to": ships_to, "except": excluded}[role]
            target.extend(c for c in codes if c not in target)
            mentions.append({"role": role, "codes": list(codes), "text": text[start:end], "start": start,
                             "end": end})
            last_end = end
    return {"ships_from": ships_from, "ships_to": ships_to, "ships_to_except": excluded, "mentions": mentions}


class ShippingComponent(BatchComponent):
    def __init__(self, spans: bool = False) -> None:
        self.make_spans = spans

    def __call__(self, doc: Doc) -> Doc:
        found = find_shipping(doc_text(doc))
        doc._.nw_shipping = found
        if self.make_spans:
            set_spans(doc, "shipping", found["mentions"], "role")
        return doc


@Language.factory("narcowatch_shipping", default_config={"spans": False})
def make_shipping(nlp: Language, name: str, spans: bool) -> ShippingComponent:
    return ShippingComponent(spans)
