"""The fixed currency table (reports/rates.json): every price is converted to one reporting currency."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

RATES_FILE = Path(__file__).with_name("rates.json")


@dataclass(frozen=True)
class RateTable:
    currency: str  # the reporting currency, e.g. EUR
    as_of: str
    note: str
    rates: dict[str, Decimal]  # reporting-currency amount per one unit of the key currency

    def convert(self, amount: Decimal, currency: str | None) -> Decimal | None:
        """`amount` of `currency` in the reporting currency; None when the table has no rate for it."""
        if currency is None:
            return None
        rate = self.rates.get(currency.upper())
        return None if rate is None else amount * rate

    def as_dict(self) -> dict:
        return {"reporting_currency": self.currency, "as_of": self.as_of, "note": self.note,
                "rates": {k: str(v) for k, v in sorted(self.rates.items())}}


def load_rates(path: Path = RATES_FILE) -> RateTable:
    data = json.loads(path.read_text(encoding="utf-8"))
    try:
        rates = {code.upper(): Decimal(str(value)) for code, value in data["rates"].items()}
        return RateTable(data["reporting_currency"], data["as_of"], data.get("note", ""), rates)
    except (KeyError, ArithmeticError) as exc:
        raise ValueError(f"{path}: expected reporting_currency, as_of and rates {{CODE: amount}} ({exc})") from exc
