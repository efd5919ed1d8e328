"""Quantities (amounts, counts, doses) and prices, and the price per gram or unit.

Everything works on the raw text with precompiled regexes (why: see extractors/lexicon.py). The component
`narcowatch_quantities` fills `doc._.nw_quantities`, `doc._.nw_prices`, `doc._.nw_quantity` (the listing's
primary quantity) and `doc._.nw_price_per_unit`, and `doc.spans["quantities"]` / `doc.spans["prices"]`.

A quantity is `{"value", "unit", "role", "grams", "units", "ml", "text", "start", "end"}`:
- role `count`: a number of units (pills, tabs, blotters, "10x", "(25)Pill", "#500"); unit "unit", `units` = value.
- role `amount`: a mass or volume offered (g, kg, mg, ug, oz, lb, ml, l); `grams` (mass) or `ml` (volume).
- role `dose`: a mass per unit ("10x200mg", "2mg/tab", or any mass when the same line states a count).
The primary quantity is the first count, else the first amount (doses never).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from spacy.language import Language
from spacy.tokens import Doc

from extractors.lexicon import BatchComponent, doc_text, fold, same_line, set_spans

GRAMS_PER = {"g": 1.0, "kg": 1000.0, "mg": 0.001, "ug": 0.000001, "oz": 28.349523125, "lb": 453.59237}
ML_PER = {"ml": 1.0, "l": 1000.0}

_UNIT_WORDS: dict[str, tuple[str, ...]] = {
    "g": ("g", "gr", "grs", "gram", "grams", "gramm", "gramme", "grammes", "grammi", "grammo", "gramos",
          "gramo", "gramas", "grama", "gm", "gms", "gramos"),
    "kg": ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramm", "kilogramme", "kilogrammes",
           "kilogramos", "kilogramo", "chilo", "chili"),
    "mg": ("mg", "mgs", "milligram", "milligrams", "milligramm", "milligramme", "milligrammes", "miligramos",
           "miligramo", "milligrammi"),
    "ug": ("ug", "µg", "μg", "mcg", "microgram", "micrograms", "mikrogramm", "microgramme", "microgrammes",
           "microgramos"),
    "oz": ("oz", "ozs", "ounce", "ounces", "onza", "onzas", "unze", "unzen"),
    "lb": ("lb", "lbs", "pound", "pounds", "libbra"),
    "ml": ("ml", "mls", "milliliter", "milliliters", "millilitre", "millilitres", "mililitros"),
    "l": ("l", "liter", "liters", "litre", "litres", "ltr", "litro", "litros", "liter"),
}
_COUNT_WORDS = (
    "pills", "pill", "tabs", "tab", "tablets", "tablet", "blotters", "blotter", "caps", "cap", "capsules",
    "capsule", "hits", "hit", "pcs", "pc", "pieces", "piece", "units", "unit", "stk", "stück", "stuks", "stuk",
    "pastillas", "pastilla", "comprimés", "comprimé", "comprimidos", "comprimido", "compresse", "pillen",
    "pillole", "tabletten", "tablette", "tabletas", "vials", "vial", "amps", "ampoules", "ampoule", "ampules",
    "ampule", "microdots", "doses", "squares", "strips", "strip", "softgels", "gel tabs", "gelcaps", "bars",
    "blister", "seeds", "bags", "bottles", "bottle", "drops", "patches", "sheets",
)
# words that make a bare mg/µg figure a per-unit strength ("Opana 40mg Pills", "10MG Oxycodone IR")
_FORM_RE = re.compile(r"\b(?:pills?|tabs?|tablets?|caps|capsules?|bars?|blotters?|vials?|amps?|ampoules?|strips?|"
                      r"patch(?:es)?|ir|xr|er|sr|cr|dragees?|softgels?)\b", re.IGNORECASE)
# ... unless the listing sells the substance in bulk form ("Alprazolam Powder 1000mg")
_BULK_RE = re.compile(r"\b(?:powder|crystals?|raw|bulk|freebase|hcl|rocks?|shards?|paste)\b", re.IGNORECASE)
_UNIT_OF = {w: u for u, ws in _UNIT_WORDS.items() for w in ws}

_NUM = r"(?:\d{1,3}(?:,\d{3})+(?![\d])|\d+(?:[.,]\d+)?|(?<!\d)\.\d+)"
# market fractions only ("1/2 oz", "3/4 lb", "1/16"): "10/325mg" is a combination strength, not a fraction
_FRACTION = r"(?:\d{1,2}\s*/\s*(?:2|3|4|8|16|32)(?!\d))"


def _alternation(words) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s") for w in sorted(set(words), key=len, reverse=True))


_B = r"(?![^\W\d_])"  # right edge: no letter follows
# a number starts a token (not inside "0.5.1" or "24/7"), or follows a multiplier ("10x200mg")
_LEFT = r"(?:(?<![\w.,/])|(?<=[x×X]))"
QUANTITY_RE = re.compile(same_line(
    # 1. amount/dose: "3.5g", "1/2 oz", "180-200MG", "220+mg", "0,5G"
    rf"{_LEFT}(?<!#)(?P<num>{_FRACTION}|{_NUM})(?:\s*(?:-|–|to)\s*(?P<num2>{_NUM}))?\)?\+*\s*"
    rf"(?P<unit>{_alternation(_UNIT_OF)}){_B}(?P<per>\s*(?:/|per\s+|a\s+)(?:tab|pill|cap|blotter|hit|unit|piece|"
    rf"tablet|capsule|ml|each)\b|\s+each\b)?"
    # 2. count with a unit word: "100 tabs", "20 st"
    rf"|{_LEFT}(?P<cnum>{_NUM})\)?[\s-]*(?P<cunit>{_alternation(_COUNT_WORDS)}|(?<=\s)st|(?<=[02-9])st){_B}"
    # 3. count with a multiplier: "10x", "10 X Brown", "x50"
    rf"|{_LEFT}(?P<xnum>{_NUM})\s*[x×](?![^\W\d_])|(?<![^\W\d_])(?:[x×]|qty|quantity)\s*:?\s*(?P<xnum2>\d+)"
    rf"(?![\d.,]*\s*(?:{_alternation(_UNIT_OF)}){_B})"
    # "#500": a count when the number has two or more digits ("#4" is a heroin grade)
    rf"|(?<![\w#])#\s?(?P<hnum>\d{{2,5}})(?![\d.,]|\s*(?:{_alternation(_UNIT_OF)}){_B})"
    rf"|(?<![^\W\d_])(?P<single>single|one)\s+(?:pill|tab|tablet|capsule|cap|blotter|hit){_B}"
    # 4. cannabis-market slang amounts: QP = quarter pound, eighth = 1/8 oz, half/quarter ounce
    rf"|(?P<slang>(?:{_LEFT}(?P<snum>\d+)\s*)?(?<![^\W\d_])(?:qp|qps){_B}|(?<![^\W\d_])(?:eighth|8th|1/8th){_B}"
    rf"|(?<![^\W\d_])(?:half|quarter)[\s-]+(?:oz|ounce|pound|lb|kilo|kg|gram|g){_B})"
    # 5. a leading number before a few words and a count noun: "100 YELLOW BITCOIN PILLS", "25 XTC pills"
    rf"|{_LEFT}(?P<lnum>\d+)\s+(?:[\w'’*-]+\s+){{1,4}}(?P<lunit>pills|tabs|tablets|blotters|caps|capsules|bars|"
    rf"pillen|pastillas|seeds){_B}"),
    re.IGNORECASE | re.MULTILINE,
)
# For lower-cased text: a first-character guard lets the regex engine skip most positions at once (x4 faster)
_QUANTITY_LOWER = re.compile(r"(?=[0-9.×#]|(?<![^\W\d_])[xqehso])(?:" + QUANTITY_RE.pattern + ")", re.MULTILINE)
# nothing to find without a digit or one of the word-only amounts
_MAYBE_QUANTITY = re.compile(r"\d|qp|eighth|half|quarter|single|one\s")

_CURRENCY_OF = {
    "$": "USD", "us$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "bucks": "USD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "£": "GBP", "gbp": "GBP", "quid": "GBP",
    "฿": "BTC", "btc": "BTC", "bitcoin": "BTC", "bitcoins": "BTC", "mbtc": "mBTC", "xbt": "BTC",
    "xmr": "XMR", "monero": "XMR",
}
_SYMBOLS = r"us\$|[$€£฿]"
_CODES = r"usd|eur|gbp|btc|xbt|xmr|mbtc"
_WORDS = r"dollars?|bucks|euros?|quid|bitcoins?|monero"
PRICE_RE = re.compile(same_line(
    rf"(?P<bsym>{_SYMBOLS}|(?<![^\W\d_])(?:{_CODES}){_B})\s*(?P<bnum>{_NUM})(?![\d])"
    rf"|{_LEFT}(?P<anum>{_NUM})[\s-]*(?P<asym>{_SYMBOLS}|(?:{_CODES}|{_WORDS}){_B})(?!\s*\d)"),
    re.IGNORECASE,
)
_PRICE_LOWER = re.compile(PRICE_RE.pattern)


def parse_number(raw: str) -> Decimal | None:
    """"1,000" -> 1000, "0,5" -> 0.5, "3.5" -> 3.5, "1/2" -> 0.5; None when unreadable."""
    s = raw.replace(" ", "")
    try:
        if "/" in s:
            num, den = s.split("/", 1)
            return Decimal(num) / Decimal(den) if Decimal(den) != 0 else None
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+", s):
            return Decimal(s.replace(",", ""))
        return Decimal(s.replace(",", "."))
    except (InvalidOperation, ValueError):
        return None


def _num_out(value: Decimal) -> float | int:
    f = float(value)
    return int(f) if f.is_integer() and abs(f) < 1e15 else round(f, 6)


def find_quantities(text: str, brand_named: bool = False) -> list[dict]:
    found: list[dict] = []
    low, same = fold(text)
    if not _MAYBE_QUANTITY.search(low):
        return found
    for m in (_QUANTITY_LOWER.finditer(low) if same else QUANTITY_RE.finditer(text)):
        item: dict | None = None
        if m.group("unit"):
            value = parse_number(m.group("num"))
            if value is None:
                continue
            unit = _UNIT_OF[m.group("unit").lower()]
            item = {"value": _num_out(value), "unit": unit, "role": "dose" if m.group("per") else "amount"}
            if m.group("num2"):
                high = parse_number(m.group("num2"))
                if high is not None and high > value:
                    item["max"] = _num_out(high)
            _normalise(item, value, unit)
        elif (m.group("cnum") or m.group("xnum") or m.group("xnum2") or m.group("lnum") or m.group("hnum")
              or m.group("single")):
            raw = m.group("cnum") or m.group("xnum") or m.group("xnum2") or m.group("lnum") or m.group("hnum") or "1"
            value = parse_number(raw)
            if value is None or value == 0:
                continue
            item = {"value": _num_out(value), "unit": "unit", "role": "count"}
            _normalise(item, value, "unit")
        elif m.group("slang"):
            word = m.group("slang").lower()
            times = Decimal(m.group("snum")) if m.group("snum") else Decimal(1)
            if "qp" in word:
                value, unit = Decimal("0.25") * times, "lb"
            elif "half" in word or "quarter" in word:
                unit = _UNIT_OF.get(re.split(r"[\s-]+", word)[-1], "oz")
                value = Decimal("0.5") if "half" in word else Decimal("0.25")
            else:
                value, unit = Decimal("0.125"), "oz"
            item = {"value": _num_out(value), "unit": unit, "role": "amount"}
            _normalise(item, value, unit)
        if item is not None:
            start, end = m.span()
            while end > start and text[end - 1].isspace():
                end -= 1
            item.update(text=text[start:end], start=start, end=end)
            found.append(item)
    _mark_doses(text, found, brand_named)
    return found


def _normalise(item: dict, value: Decimal, unit: str) -> None:
    grams = GRAMS_PER.get(unit)
    item["grams"] = round(float(value) * grams, 9) if grams is not None else None
    item["ml"] = round(float(value) * ML_PER[unit], 6) if unit in ML_PER else None
    item["units"] = _num_out(value) if unit == "unit" else None


def _mark_doses(text: str, found: list[dict], brand_named: bool = False) -> None:
    """Which masses are per-unit strengths rather than the amount on offer.

    - any mass on a line that also states a count ("10 tabs ... 2mg");
    - mg on a line that states a volume: a concentration ("300mg x 10ml", "250mg/ml, 10ml");
    - a bare mg/µg figure with a dosage-form word ("Opana 40mg Pills", "Oxycodone IR") or a brand name
      ("Anadrol 25mg"), unless the line sells bulk ("Alprazolam Powder 1000mg").
    """
    if not found:
        return
    # line numbers by bisecting line starts, and one regex test per line (not per item): a hostile page
    # with thousands of amounts on one long line must stay linear
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    line_of = {id(q): bisect_right(starts, q["start"]) - 1 for q in found}
    count_lines = {line_of[id(q)] for q in found if q["role"] == "count"}
    volume_lines = {line_of[id(q)] for q in found if q["ml"] is not None}
    lines = text.split("\n")
    strength_line: dict[int, bool] = {}
    for q in found:
        if q["role"] != "amount" or q["grams"] is None:
            continue
        line_no = line_of[id(q)]
        small = q["unit"] in ("mg", "ug")
        if small and line_no not in strength_line:
            line = lines[line_no]
            strength_line[line_no] = bool((brand_named or _FORM_RE.search(line)) and not _BULK_RE.search(line))
        strength = small and strength_line[line_no]
        if line_no in count_lines or (small and line_no in volume_lines) or strength:
            q["role"] = "dose"


def primary_quantity(quantities: list[dict]) -> dict | None:
    for role in ("count", "amount"):
        for q in quantities:
            if q["role"] == role:
                return q
    return None


def find_prices(text: str) -> list[dict]:
    found = []
    low, same = fold(text)
    if not any(ch.isdigit() for ch in low):
        return found
    for m in (_PRICE_LOWER.finditer(low) if same else PRICE_RE.finditer(text)):
        raw_num = m.group("bnum") or m.group("anum")
        raw_sym = (m.group("bsym") or m.group("asym")).lower()
        value = parse_number(raw_num)
        currency = _CURRENCY_OF.get(raw_sym)
        if value is None or currency is None:
            continue
        if currency == "mBTC":
            value, currency = value / 1000, "BTC"
        found.append({"amount": _amount_str(value), "currency": currency, "text": text[m.start():m.end()],
                      "start": m.start(),
                      "end": m.end()})
    return found


def _amount_str(value: Decimal) -> str:
    return format(value, "f")


def price_per_unit(price: dict | None, quantity: dict | None) -> dict | None:
    if price is None or quantity is None:
        return None
    amount = Decimal(price["amount"])
    if quantity.get("grams"):
        per, divisor = "g", Decimal(str(quantity["grams"]))
    elif quantity.get("units"):
        per, divisor = "unit", Decimal(str(quantity["units"]))
    elif quantity.get("ml"):
        per, divisor = "ml", Decimal(str(quantity["ml"]))
    else:
        return None
    if divisor == 0:
        return None
    places = Decimal("0.00000001") if price["currency"] in ("BTC", "XMR") else Decimal("0.0001")
    value = (amount / divisor).quantize(places, rounding=ROUND_HALF_UP)
    return {"amount": _amount_str(value), "currency": price["currency"], "per": per}


class QuantityComponent(BatchComponent):
    def __init__(self, spans: bool = False) -> None:
        self.make_spans = spans

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        brand_named = any(s.get("kind") == "brand" for s in (doc._.nw_substances or []))
        quantities = find_quantities(text, brand_named)
        prices = _drop_overlaps(find_prices(text), quantities)
        doc._.nw_quantities = quantities
        doc._.nw_prices = prices
        doc._.nw_quantity = primary_quantity(quantities)
        doc._.nw_price_per_unit = price_per_unit(prices[0] if prices else None, doc._.nw_quantity)
        if self.make_spans:
            set_spans(doc, "quantities", quantities, "role")
            set_spans(doc, "prices", prices, "currency")
        return doc


def _drop_overlaps(prices: list[dict], quantities: list[dict]) -> list[dict]:
    return [p for p in prices if not any(q["start"] < p["end"] and p["start"] < q["end"] and q["role"] != "count"
                                         for q in quantities)]


@Language.factory("narcowatch_quantities", default_config={"spans": False})
def make_quantities(nlp: Language, name: str, spans: bool) -> QuantityComponent:
    return QuantityComponent(spans)
