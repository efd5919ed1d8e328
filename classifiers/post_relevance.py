"""Drug-trade relevance of a forum post: a transparent cue score, not a trained model.

No labelled forum data exists (the testbed forum's answer key is generated text, used for evaluation:
scripts/eval_category.py --testbed). The score adds log-odds for selling and buying language, prices,
quantities, contact and shipping cues, orders and vendor reviews, to the evidence that a drug is named, so a
trip report that names LSD scores low and "selling 10 tabs, 5$ each, PM me" scores high. Markets and their
forums are multilingual: the order, shipping and selling words are also listed in German, Spanish, French,
Dutch, Italian and Portuguese.

Where a post stands counts as well: `context` is the thread's title and the board's name. A short reply in a
vendor's sales thread or a reviews board ("Agreed, good call.") is part of the trade; the same words in a
harm-reduction or security board are not. Context cues weigh less than the post's own words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from classifiers.category_lexicon import default_matcher

_TRADE_CUES: list[tuple[re.Pattern[str], float]] = [
    (re.compile(r"\b(?:selling|sell|for sale|wts|in stock|restock(?:ed)?|available now|vendor|shop)\b"), 1.6),
    (re.compile(r"\b(?:buying|buy|wtb|looking for|need a (?:plug|connect|source)|where (?:can|to) (?:i )?"
                r"(?:get|buy|find))\b"), 1.2),
    (re.compile(r"\b(?:pm|dm|msg|message|contact|wickr|telegram|signal|threema|session|jabber|xmpp|"
                r"email)\b(?: me)?"), 1.0),
    (re.compile(r"(?:[$€£]\s?\d|\d\s?(?:usd|eur|gbp|btc|xmr|\$|€|£)\b|\bprice[sd]?\b|\bcheap\b)"), 1.4),
    (re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:g|gr|grams?|kg|oz|mg|ug|µg|mcg|ml|tabs?|pills?|hits?)\b"), 0.8),
    (re.compile(r"\b(?:ship(?:ping|s|ped)?|deliver(?:y|ed)?|stealth|escrow|fe\b|finalize|tracking|"
                r"worldwide|domestic|dead ?drop|pickup|meet ?up)\b"), 1.0),
    (re.compile(r"\b(?:bulk|wholesale|samples?|discount|deal|offer|menu|reship)\b"), 0.8),
    # orders and their outcome: a vendor review is part of the trade
    (re.compile(r"\b(?:order(?:ed|s)?|received|arrived|legit|scam(?:med|mer)?|would (?:buy|order) again|"
                r"short(?:ed)? (?:weight|me)|refund|dispute|lab (?:results?|tests?|reports?))\b"), 1.2),
    # the same in German, Spanish, French, Dutch, Italian and Portuguese
    (re.compile(r"\b(?:verkaufe?n?|kaufen?|versand|versende\w*|bestell\w*|erhalten|angekommen|verkäufer|"
                r"lieferung|preis|vendo|compro|env[ií]\w*|pedido|recib\w*|vendedor|precio|tienda|vends?|"
                r"ach[eè]te|achat|livraison|envoi\w*|exp[ée]di\w*|commande\w*|re[çc]u|vendeur|prix|verkoop|"
                r"koop|verzend\w*|bestelling|besteld|ontvangen|verkoper|prijs|levering|spedi\w*|ordine|"
                r"ricevut\w*|venditore|prezzo|recebid\w*|pre[çc]o|labor(?:werte|ergebnisse?)|"
                r"pruebas de laboratorio|labresultaten|analyses? de labo)\b"), 1.2),
]
_NON_TRADE_CUES: list[tuple[re.Pattern[str], float]] = [
    (re.compile(r"\b(?:trip report|experience|harm reduction|dosage|dose|safe(?:ly|ty)?|test kit|"
                r"reagent|effects?|tolerance|withdrawal|recovery|sober|news|arrested|busted|article)\b"), 0.9),
]
# thread titles and board names: where a post stands
_CONTEXT_TRADE = re.compile(r"\b(?:market(?:place)?s?|vendors?|shops?|stores?|reviews?|feedback|sales?|"
                            r"selling|buying|trade|wts|wtb|orders?|menu|restock|"
                            # German, Spanish, French, Dutch, Italian, Portuguese: for sale, reviews
                            r"verkauf\w*|bewertung\w*|vendo|venta|rese[ñn]as?|[àa] vendre|vends|avis|te koop|"
                            r"verkoop|beoordeling\w*|vendita|recensioni?|avalia[çc][ãa]o)\b")
_CONTEXT_OTHER = re.compile(r"\b(?:harm[ -]?reduction|security|opsec|privacy|lounge|off[ -]?topic|"
                            r"introductions?|news|trip reports?|recovery|tech(?:nical)?)\b")
_CONTEXT_WEIGHT = 1.2
_BIAS = -3.2


def trade_relevance(text: str, substances: Sequence[Mapping[str, Any]] | None = None,
                    context: str = "") -> tuple[float, bool]:
    """(drug-trade relevance in [0, 1], whether a drug is named) for a post's text, read where it stands
    (`context`: thread title and board name, may be empty)."""
    low = (text or "").lower()
    score = _BIAS
    for pattern, weight in _TRADE_CUES:
        score += weight * min(len(pattern.findall(low)), 2)
    for pattern, weight in _NON_TRADE_CUES:
        score -= weight * min(len(pattern.findall(low)), 2)
    where = (context or "").lower()
    if where:
        score += _CONTEXT_WEIGHT * (bool(_CONTEXT_TRADE.search(where)) - bool(_CONTEXT_OTHER.search(where)))
    named = bool(default_matcher().find(low)) or bool(substances)
    score += 1.8 if named else -1.5
    return 1.0 / (1.0 + math.exp(-score)), named


def post_context(record: Mapping[str, Any]) -> str:
    """The context of a post record: its thread's title and its board's name."""
    return " \n ".join(str(record.get(k) or "") for k in ("thread_title", "board")).strip()


__all__ = ["trade_relevance", "post_context"]
