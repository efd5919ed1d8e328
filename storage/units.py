"""Units of a listing's quantity as pages show them, and what a price per unit is per.

One table for the whole product: the crawler's price per unit (crawler/normalise.py) and the weekly report's
price per gram (reports/activity.py) must agree on which units are mass, volume or counted things.
Mass goes per gram, volume per millilitre, counted things (pills, blotters, vials, seeds) per unit.
"""

from __future__ import annotations

from decimal import Decimal

# unit (lower-case, no trailing dot) -> how many grams / millilitres one of it is
MASS_G = {"g": "1", "gr": "1", "grs": "1", "gram": "1", "grams": "1", "gramm": "1", "gm": "1", "gms": "1",
          "kg": "1000", "kgs": "1000", "kilo": "1000", "kilos": "1000", "mg": "0.001", "ug": "0.000001",
          "mcg": "0.000001", "oz": "28.349523125", "lb": "453.59237", "lbs": "453.59237"}
VOLUME_ML = {"ml": "1", "l": "1000", "ltr": "1000", "litre": "1000", "liter": "1000", "cl": "10"}
COUNTED = {"unit", "units", "pill", "pills", "tab", "tabs", "tablet", "tablets", "cap", "caps", "capsule",
           "capsules", "blotter", "blotters", "pcs", "pc", "piece", "pieces", "strip", "strips", "vial", "vials",
           "amp", "amps", "ampoule", "ampoules", "bottle", "bottles", "kit", "kits", "seed", "seeds", "hit",
           "hits", "pack", "packs", "box", "boxes", "bar", "bars", "stk", "stück", "stuks", "x"}


def unit_basis(unit: str | None) -> tuple[str, Decimal] | None:
    """'kg' -> ('g', 1000), 'L' -> ('ml', 1000), 'pills' -> ('unit', 1); None for a unit we cannot place."""
    key = (unit or "").strip().lower().rstrip(".")
    if key in MASS_G:
        return "g", Decimal(MASS_G[key])
    if key in VOLUME_ML:
        return "ml", Decimal(VOLUME_ML[key])
    if key in COUNTED:
        return "unit", Decimal(1)
    return None
