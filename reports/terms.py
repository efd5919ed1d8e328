"""Emerging terms: substance ids and unknown drug-like words seen this week and rare before.

An "unknown drug-like term" is a token of a new listing's title or a forum post's text (or an entry of the
extractor's `unknown_terms` output, when it provides one) that looks like a research-chemical name and is
not a known substance name: see docs/report.md for the exact rule, which this module implements.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

LEXICON_DIR = Path(__file__).resolve().parents[1] / "extractors" / "data"

# Word parts of systematic and street names of new psychoactive substances (synthetic cannabinoids,
# benzodiazepines, nitazene opioids, cathinones, phenethylamines, tryptamines, fentanyl analogues).
CHEM_AFFIXES = ("pinaca", "binaca", "inaca", "pica", "mica", "bica", "zolam", "zepam", "azepam", "nitazene", "fentanil",
                "fentanyl", "cathinone", "pentedrone", "hexedrone", "ylone", "nbome", "nboh", "phenidate", "tryptamine",
                "amphetamine", "amfetamine", "pyrrolidin", "benzofuran", "fluoro", "chloro", "bromo", "methoxy",
                "ethyl", "methyl", "propyl", "phenyl", "piperidin")
_TOKEN = re.compile(r"[0-9A-Za-zÀ-ÿ]+(?:[-‐‑][0-9A-Za-zÀ-ÿ]+)*")
_QUANTITY = re.compile(r"^\d+(?:[.,]\d+)?(?:mg|g|kg|ml|l|ug|mcg|µg|x|pcs|pills|tabs|caps|lb|oz)?$", re.I)
_LETTER_CODE = re.compile(r"^(?:[A-Z]{1,2}-[A-Z]{2,6}|[A-Z]{2,6}-[A-Z]{1,2})$")  # A-PVP, HHC-P, O-DSMT
_WEEKISH = re.compile(r"^\d{4}-w\d{1,2}$|^w\d{1,2}-\d{4}$|^ww-[a-z]{2}$")  # week ids, "WW-US" shipping codes
STOP = frozenset({"x-mas", "covid-19", "e-mail", "t-shirt", "24-7", "mp3", "mp4", "3d", "4k", "usb-c"})


def normalise(term: str) -> str:
    return re.sub(r"[‐‑]", "-", term.strip().lower())


@cache
def known_terms(directory: Path = LEXICON_DIR) -> frozenset[str]:
    """Every canonical id and lexicon term (lower-case) the extractors know: those are not "unknown"."""
    known: set[str] = set()
    paths = [directory / "canonical.csv", *sorted((directory / "lexicon").glob("*.csv"))]
    for path in paths:
        if not path.exists():
            continue
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
        for row in csv.DictReader(lines):
            for key in ("id", "term", "canonical"):
                if row.get(key):
                    known.add(normalise(row[key]))
    return frozenset(known)


def _drug_like(token: str) -> bool:
    low = normalise(token)
    if len(low) < 3 or low in STOP or _QUANTITY.match(low) or _WEEKISH.match(low):
        return False
    if "-" in low and re.search(r"[a-z]", low) and re.search(r"\d", low):
        return True
    if _LETTER_CODE.match(token):
        return True
    return any(affix in low and len(low) >= len(affix) + 3 for affix in CHEM_AFFIXES)


def candidate_terms(text: str, known: frozenset[str]) -> set[str]:
    """Drug-like tokens of `text` that are not known substance names (normalised, lower-case)."""
    found = set()
    for match in _TOKEN.finditer(text or ""):
        token = match.group(0)
        low = normalise(token)
        if _drug_like(token) and low not in known:
            found.add(low)
    return found
