"""Turning raw account fields into comparable keys.

Handles: vendors re-register on each market under variants of one name: other case, separators
("dr_green", "Dr.Green"), leetspeak ("dr_gr33n"), affixes ("DrGreenUK", "official_drgreen", "drgreen_shop")
and typos. `handle_forms` gives two strings per handle: `full` (everything, leet undone) and `stem`
(affixes and bare numbers removed) so that both "drgreen_uk ~ drgreen" and "dr_green420 ~ drgreen" compare
as the same word while the full form still tells "green_dragon_uk" from "green_dragon_de" when it matters.

Identifiers are reduced to the key under which the same identifier written differently compares equal:
PGP fingerprints to their last 16 hex digits (the long key id, which is all some markets print), contacts
without their app prefix and "@", countries to ISO codes.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache


def _words(text: str) -> list[str]:
    return text.split()


# Tokens that say nothing about who the vendor is: shop words, honorifics, country/region codes.
# Dropped from the stem only when the handle has other tokens left.
AFFIXES = frozenset(_words(
    """official officiel real the original genuine legit verified trusted shop store market markets vendor
    vendors team direct world worldwide ww intl international co ltd inc uk gb us usa eu nl de fr es
    it se au ca ch be at pl cz dk no fi ie pt nz int express
    reloaded returns returned backup restocked v2"""))
# Affixes long and specific enough to strip even when glued to the name ("drgreenshop"). Re-registration
# words ("reloaded", "backup") are what a vendor adds after an exit scam, a ban or a market move.
GLUED_AFFIXES = ("official", "shop", "store", "vendor", "market", "legit", "direct", "reloaded", "backup")
GLUED_PREFIXES = ("official", "real", "the")

LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
                      "@": "a", "$": "s", "!": "i", "|": "l", "€": "e"})
_CAMEL_1 = re.compile(r"([a-z])([A-Z])")
_CAMEL_2 = re.compile(r"([A-Z]+)([A-Z][a-z])")
# Symbols used as letters count as letters only between letters/digits ("ca$h", "gr33n"); elsewhere
# they separate tokens like "_" does.
_SYMBOL_AS_LETTER = re.compile(r"(?<=[0-9A-Za-z])[@$!|€](?=[0-9A-Za-z])")
_SEPARATORS = re.compile(r"[^0-9a-z\x00-\x02]+")
_INNER_DIGITS = re.compile(r"(?<=[a-z])[0-9]+(?=[a-z])")
_EDGE_DIGITS = re.compile(r"^([0-9]+)|([0-9]+)$")


def _ascii_fold(text: str) -> str:
    if text.isascii():  # the common case, and 50x cheaper than the Unicode round trip
        return text
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@dataclass(frozen=True, slots=True)
class HandleForms:
    full: str
    stem: str
    leet: str  # the stem with every digit read as a letter ("K1ngS7on3" -> "kingstone"); else the stem


_MARKUP = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|$)|<[^>]*>|&[a-z]+;|&#\d+;", re.I | re.S)


def handle_tokens(handle: str) -> list[str]:
    """Lower-case word tokens of a handle with leetspeak undone inside words; digit runs at a token's
    edge become their own (numeric) tokens: "DrGr33n_UK420" -> ["dr", "green", "uk", "420"].
    Markup that a hostile page put into a handle ("Name<b>", "Name\"><script>…") is not part of it."""
    if "<" in handle or "&" in handle:
        handle = _MARKUP.sub(" ", handle)
    text = _ascii_fold(handle)
    # Mark symbols standing for letters before separators are split; \x00-\x02 survive the split.
    text = _SYMBOL_AS_LETTER.sub(lambda m: {"@": "\x00", "$": "\x01", "!": "\x02"}.get(m.group(), "l"), text)
    text = _CAMEL_2.sub(r"\1 \2", _CAMEL_1.sub(r"\1 \2", text)).lower()
    text = text.replace("\x00", "a").replace("\x01", "s").replace("\x02", "i")
    out: list[str] = []
    for raw in _SEPARATORS.split(text):
        if not raw:
            continue
        token = _INNER_DIGITS.sub(lambda m: m.group().translate(LEET), raw)
        edge = _EDGE_DIGITS.search(token)
        while edge and token and not token.isdigit():
            digits = edge.group()
            if edge.start() == 0:
                out.append(digits)
                token = token[len(digits):]
            else:
                token, tail = token[: edge.start()], digits
                if token:
                    out.append(token)
                out.append(tail)
                token = ""
                break
            edge = _EDGE_DIGITS.search(token)
        if token:
            out.append(token)
    return out


_DIGIT_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g"})
_LETTER_DIGIT = re.compile(r"[A-Za-z][0-9]|[0-9][A-Za-z]")


def handle_forms(handle: str) -> HandleForms:
    full, stem = _full_and_stem(handle)
    leet = stem
    # Digits at a word's edge are read as numbers ("ghost420"), but "CandyHaz3" means "candyhaze": the
    # all-letters reading is a third form, compared too (the best of the three counts).
    if _LETTER_DIGIT.search(handle):
        leet = _full_and_stem(handle.translate(_DIGIT_LEET))[1]
    return HandleForms(full=full, stem=stem, leet=leet)


def _full_and_stem(handle: str) -> tuple[str, str]:
    tokens = handle_tokens(handle)
    full = "".join(tokens) or handle.lower()
    # "xX_name_Xx" decorations and bare numbers ("_420", "2") are not part of the name either.
    kept = [t for t in tokens if t not in AFFIXES and not t.isdigit() and t.strip("x")]
    if not kept:  # nothing but affixes and numbers ("official_shop"): that is the name
        return full, full
    stem = "".join(kept)
    # Glued affixes: only long, shop-like words, and only when at least 4 characters of name remain.
    for suffix in GLUED_AFFIXES:
        if stem.endswith(suffix) and len(stem) - len(suffix) >= 4:
            stem = stem[: -len(suffix)]
            break
    for prefix in GLUED_PREFIXES:
        if stem.startswith(prefix) and len(stem) - len(prefix) >= 5:
            stem = stem[len(prefix):]
            break
    return full, stem or full


# ---- strong identifiers ---------------------------------------------------------------------------

_HEX = re.compile(r"[^0-9A-F]")


def pgp_key(fingerprint: str) -> str | None:
    """The long key id (last 16 hex digits) of a fingerprint or key id, or None if it is not one."""
    text = fingerprint.strip().upper()
    if text.startswith("0X"):
        text = text[2:]
    hexdigits = _HEX.sub("", text)
    if len(hexdigits) < 16:
        return None
    return hexdigits[-16:]


def pgp_display(fingerprint: str) -> str:
    """'3A1F 9C2B …' : enough of a fingerprint for an investigator to recognise it."""
    hexdigits = _HEX.sub("", fingerprint.strip().upper().removeprefix("0X"))
    return " ".join(hexdigits[i:i + 4] for i in range(0, min(len(hexdigits), 8), 4)) + " …"


def wallet_key(wallet: str) -> str | None:
    text = "".join(wallet.split())
    if len(text) < 16:  # no cryptocurrency address is this short: a typo or a placeholder
        return None
    # Bech32 (bc1…, ltc1…) and Ethereum hex addresses are case-insensitive; base58 and Monero are not.
    lower = text.lower()
    if lower.startswith(("bc1", "tb1", "ltc1", "0x")):
        return lower
    return text


_CONTACT_PREFIX = re.compile(r"^(wickr|wickrme|telegram|tg|signal|session|threema|jabber|xmpp|email|"
                             r"e-mail|mail|icq|kik|tox|element|matrix|whatsapp)\s*[:=]\s*", re.I)


def contact_key(contact: str) -> str | None:
    text = _CONTACT_PREFIX.sub("", contact.strip())
    text = text.strip().lstrip("@").lower()
    text = re.sub(r"\s+", "", text)
    if len(text) < 3:
        return None
    return text


# ---- soft evidence --------------------------------------------------------------------------------

COUNTRIES: dict[str, str] = {
    "uk": "GB", "gb": "GB", "united kingdom": "GB", "great britain": "GB", "england": "GB", "britain": "GB",
    "scotland": "GB", "wales": "GB", "nl": "NL", "netherlands": "NL", "the netherlands": "NL",
    "holland": "NL", "de": "DE", "germany": "DE", "deutschland": "DE", "us": "US", "usa": "US",
    "united states": "US", "united states of america": "US", "america": "US", "fr": "FR", "france": "FR",
    "es": "ES", "spain": "ES", "it": "IT", "italy": "IT", "be": "BE", "belgium": "BE", "ca": "CA",
    "canada": "CA", "au": "AU", "australia": "AU", "se": "SE", "sweden": "SE", "pl": "PL", "poland": "PL",
    "cz": "CZ", "czech republic": "CZ", "czechia": "CZ", "ch": "CH", "switzerland": "CH", "at": "AT",
    "austria": "AT", "dk": "DK", "denmark": "DK", "no": "NO", "norway": "NO", "fi": "FI", "finland": "FI",
    "ie": "IE", "ireland": "IE", "pt": "PT", "portugal": "PT", "cn": "CN", "china": "CN", "in": "IN",
    "india": "IN", "co": "CO", "colombia": "CO", "mx": "MX", "mexico": "MX", "hk": "HK", "hong kong": "HK",
    "nz": "NZ", "new zealand": "NZ",
}
NO_ORIGIN = frozenset({"", "ww", "worldwide", "world", "unknown", "undeclared", "n/a", "na", "none", "eu",
                       "europe", "torland", "internet", "anywhere"})


@lru_cache(maxsize=4096)  # a few hundred distinct spellings in practice
def country_key(origin: str) -> str | None:
    text = re.sub(r"\s+", " ", _ascii_fold(origin).strip().lower().strip("."))
    if text in NO_ORIGIN:
        return None
    return COUNTRIES.get(text, text.upper())


_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)?")
# Words in titles that describe quantity, quality or selling, not the product.
TITLE_STOPWORDS = frozenset(_words(
    """the a an of and or for with in on to by from x g gr gram grams kg mg ml oz ug mcg pcs pc pills pill tabs
    tab piece pieces free shipping ship ships express fast stealth quality high best top grade pure purity
    premium new sale offer deal special bulk sample discount price cheap uncut fishscale lab tested
    worldwide ww eu uk us usa escrow fe listing order"""))


def title_words(title: str) -> list[str]:
    return _WORD.findall(_ascii_fold(title).lower())


def title_key(title: str, words: list[str] | None = None) -> str | None:
    """The order-free bag of a title's words: copies of a listing across markets keep it even when
    reworded lightly ("Cocaine 1g 90%" ~ "1g cocaine 90%"). Titles of fewer than 3 words are too generic."""
    unique = sorted(set(title_words(title) if words is None else words))
    if len(unique) < 3:
        return None
    return " ".join(unique)


def product_words(title: str, words: list[str] | None = None) -> set[str]:
    return {w for w in (title_words(title) if words is None else words)
            if len(w) >= 3 and w.isalpha() and w not in TITLE_STOPWORDS}


def profile_shingles(profile: str) -> frozenset[int]:
    """Hashes of the word 3-grams of a profile text; profiles of fewer than 8 words give none.
    crc32 rather than hash(): stable across processes, so sketches can be stored and compared later."""
    if "<" in profile or "&" in profile:
        profile = _MARKUP.sub(" ", profile)
    words = title_words(profile)
    if len(words) < 8:
        return frozenset()
    crc = zlib.crc32
    return frozenset(crc(f"{a} {b} {c}".encode()) for a, b, c in zip(words, words[1:], words[2:], strict=False))
