"""Money and quantity as each site displays them, and the day's exchange rates.

Prices are Decimals quantized to the currency's displayed precision, so a price shown on a page, the
answer key and the JSON API can never disagree by a rounding step.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

# Fixed fiat cross rates (per 1 USD); crypto rates move daily (see day_rates).
FIAT_PER_USD = {"USD": Decimal("1"), "EUR": Decimal("0.92"), "GBP": Decimal("0.79")}
SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£"}
DECIMALS = {"USD": 2, "EUR": 2, "GBP": 2, "BTC": 6, "XMR": 4}


def q(value: Decimal | float, currency: str) -> Decimal:
    """Round to what the site displays: cents for fiat, 6 decimals for BTC, 4 for XMR."""
    exp = Decimal(1).scaleb(-DECIMALS[currency])
    return Decimal(str(value)).quantize(exp, rounding=ROUND_HALF_UP)


def nice_fiat(value: float) -> Decimal:
    """Vendors price in round numbers: .00 or .50 above 20, tenths below."""
    step = Decimal("0.5") if value >= 20 else Decimal("0.1")
    d = (Decimal(str(value)) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    return max(d, step).quantize(Decimal("0.01"))


def day_rates(seed: int, days: int) -> dict[int, dict[str, Decimal]]:
    """USD price of BTC and XMR for day 1..days: a seeded random walk (a few percent per day)."""
    rng = random.Random(f"{seed}/rates")
    btc, xmr = 64000.0, 158.0
    out: dict[int, dict[str, Decimal]] = {}
    for day in range(1, days + 1):
        out[day] = {"BTC": Decimal(str(round(btc, 2))), "XMR": Decimal(str(round(xmr, 2)))}
        btc *= 1 + rng.uniform(-0.035, 0.035)
        xmr *= 1 + rng.uniform(-0.04, 0.04)
    return out


def comma(d: Decimal) -> str:
    """'1234.50' -> '1.234,50' (market B's continental convention)."""
    whole, _, frac = f"{d:f}".partition(".")
    neg = whole.startswith("-")
    whole = whole.lstrip("-")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return ("-" if neg else "") + ".".join(groups) + ("," + frac if frac else "")


def fmt_qty(x: float) -> str:
    """3.5 -> '3.5', 28.0 -> '28', 0.25 -> '0.25'."""
    text = f"{x:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def show_a(d: Decimal, currency: str) -> str:
    """Market A: '$45.00', '€39.90', '£35.00', '0.000692 BTC'."""
    if currency in SYMBOL:
        return f"{SYMBOL[currency]}{d:,.2f}"
    return f"{d:f} {currency}"


def show_b(d: Decimal, currency: str) -> str:
    """Market B: '0,3120 XMR' or '0,000692 BTC' (comma decimals, thousands dots)."""
    return f"{comma(d)} {currency}"


def show_b_fiat(eur: Decimal) -> str:
    return f"≈ {comma(eur)} €"


def show_c(d: Decimal, currency: str) -> str:
    """Market C: 'BTC 0.000692' (code first)."""
    return f"{currency} {d:f}"


def show_c_fiat(usd: Decimal) -> str:
    return f"(~ ${usd:,.2f} USD)"
