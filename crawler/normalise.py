"""Turning text as a page shows it into stored values: money, counts, countries, dates.

Fields shown on a page are stored as shown, only normalised (ISO 3166 codes, Decimal prices), so that a
stored row can be compared with the page field for field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from storage.units import unit_basis

CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "₿": "BTC", "ɱ": "XMR", "US$": "USD"}
CURRENCY_CODES = {"EUR", "USD", "GBP", "BTC", "XMR", "ETH", "LTC", "CAD", "AUD", "CHF"}

# English names (and common variants) -> ISO 3166-1 alpha-2; regions kept as the markets say them
COUNTRIES = {
    "netherlands": "NL", "the netherlands": "NL", "holland": "NL", "nederland": "NL",
    "germany": "DE", "deutschland": "DE", "united kingdom": "GB", "uk": "GB", "great britain": "GB",
    "england": "GB", "britain": "GB", "france": "FR", "spain": "ES", "españa": "ES", "belgium": "BE",
    "united states": "US", "united states of america": "US", "usa": "US", "us": "US", "canada": "CA",
    "australia": "AU", "poland": "PL", "czech republic": "CZ", "czechia": "CZ", "italy": "IT",
    "austria": "AT", "switzerland": "CH", "sweden": "SE", "ireland": "IE", "portugal": "PT",
    "india": "IN", "china": "CN", "colombia": "CO", "denmark": "DK", "norway": "NO", "finland": "FI",
    "greece": "GR", "hungary": "HU", "romania": "RO", "bulgaria": "BG", "slovakia": "SK", "slovenia": "SI",
    "croatia": "HR", "serbia": "RS", "ukraine": "UA", "russia": "RU", "turkey": "TR", "mexico": "MX",
    "brazil": "BR", "argentina": "AR", "peru": "PE", "bolivia": "BO", "new zealand": "NZ", "japan": "JP",
    "south korea": "KR", "thailand": "TH", "vietnam": "VN", "philippines": "PH", "pakistan": "PK",
    "afghanistan": "AF", "morocco": "MA", "south africa": "ZA", "nigeria": "NG", "luxembourg": "LU",
    "estonia": "EE", "latvia": "LV", "lithuania": "LT", "hong kong": "HK", "singapore": "SG",
    "worldwide": "WW", "world wide": "WW", "world": "WW", "ww": "WW", "europe": "EU", "european union": "EU",
    "eu": "EU", "undeclared": "XX",
}
_EXCEPT = re.compile(r"^(worldwide|ww)\s*(?:except|excl\.?|but not|-)\s*(.+)$", re.I)


def clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = re.sub(r"[ \t\r\f\v\u00a0]+", " ", text)
    text = re.sub(r" *\n[ \n]*", "\n", text).strip()
    return text or None


def parse_decimal(text: str | None, number_format: str = "dot") -> Decimal | None:
    """'€1,234.50' -> 1234.50 (dot) ; '1.234,50 €' -> 1234.50 (comma). None when no number is there."""
    if not text:
        return None
    match = re.search(r"-?\d[\d.,' ]*", text)
    if not match:
        return None
    number = match.group(0).strip().replace(" ", "").replace("'", "")
    if number_format == "comma":
        number = number.replace(".", "").replace(",", ".")
    else:
        number = number.replace(",", "")
    number = number.rstrip(".")
    try:
        return Decimal(number)
    except InvalidOperation:
        return None


def currency_of(text: str | None) -> str | None:
    """'EUR', '€ 30', '0.0012 BTC' -> ISO-ish code; None when the text names no currency."""
    if not text:
        return None
    upper = text.upper()
    for code in re.findall(r"[A-Z]{3}", upper):
        if code in CURRENCY_CODES:
            return code
    for symbol, code in sorted(CURRENCY_SYMBOLS.items(), key=lambda kv: -len(kv[0])):
        if symbol in text:
            return code
    return None


def parse_int(text: str | None) -> int | None:
    """'12 in stock' -> 12; 'out of stock'/'sold out' -> 0; None when nothing numeric is shown."""
    if text is None:
        return None
    lowered = text.lower()
    match = re.search(r"-?\d[\d,.]*", lowered)
    if match:
        return int(re.sub(r"[,.]", "", match.group(0)))
    if any(w in lowered for w in ("out of stock", "sold out", "unavailable", "none left")):
        return 0
    return None


def parse_float(text: str | None, number_format: str = "dot") -> float | None:
    value = parse_decimal(text, number_format)
    return float(value) if value is not None else None


def country(text: str | None) -> str | None:
    """'Netherlands' -> 'NL', 'nl' -> 'NL', 'Worldwide except USA' -> 'WW-US'; unknown text kept as shown."""
    text = clean(text)
    if not text:
        return None
    key = text.lower().strip(" .")
    if key in COUNTRIES:
        return COUNTRIES[key]
    m = _EXCEPT.match(text)
    if m:
        rest = country(m.group(2))
        return f"WW-{rest}" if rest else "WW"
    if re.fullmatch(r"[A-Za-z]{2}", text):
        return text.upper()
    if re.fullmatch(r"WW-[A-Za-z]{2}", text, re.I):
        return text.upper()
    return text


def countries(text: str | list[str] | None) -> list[str] | None:
    """'Germany, Austria & Switzerland' -> ['DE', 'AT', 'CH'] (order kept, duplicates dropped)."""
    if text is None:
        return None
    parts = text if isinstance(text, list) else re.split(r"\s*(?:,|;|/|\||&|\band\b|\n)\s*", text)
    out: list[str] = []
    for part in parts:
        code = country(part)
        if code and code not in out:
            out.append(code)
    return out or None


DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M",
                "%b %d, %Y %H:%M", "%d %b %Y %H:%M", "%Y-%m-%d")


def parse_datetime(text: str | None, fmt: str | None = None) -> datetime | None:
    """A timezone-aware UTC datetime (naive page times are taken as UTC); None when unreadable."""
    text = clean(text)
    if not text:
        return None
    candidates = [fmt] if fmt else []
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        value = None
        for f in candidates + list(DATE_FORMATS):
            try:
                value = datetime.strptime(text, f)
                break
            except ValueError:
                continue
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


PRICE_PER_UNIT_PLACES = Decimal("0.00000001")  # the storage column's scale (Numeric(24, 8))


def price_per_unit(price: Decimal | None, quantity: float | Decimal | None, unit: str | None) -> Decimal | None:
    """The shown price divided by the shown quantity in grams, millilitres or units (in the price's currency,
    rounded half-up to 8 places); None when price, a positive quantity or a known unit is missing."""
    basis = unit_basis(unit)
    if price is None or quantity is None or basis is None:
        return None
    amount = Decimal(str(quantity)) * basis[1]
    if not amount.is_finite() or amount <= 0:
        return None
    try:
        return (price / amount).quantize(PRICE_PER_UNIT_PLACES, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than a Decimal context holds: a nonsense figure, not a price
        return None
