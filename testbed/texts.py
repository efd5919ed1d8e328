"""Listing titles, descriptions, vendor terms and feedback lines in five languages.

An actor's style (separator, capitalisation, emoji, sign-off, favourite title shape) is applied on every
site it sells on: for some actors that style and the products are the only thing linking their accounts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from testbed import vocab
from testbed.pricing import fmt_qty


@dataclass(frozen=True)
class Style:
    signoff: str
    emoji: str
    sep: str
    caps: str  # "normal", "upper" or "lower"
    title_shape: int
    stealth: str
    ship_days: str
    refund: str
    fe: str
    shouty: bool  # "!!!" instead of "."


def make_style(rng: random.Random) -> Style:
    return Style(
        signoff=rng.choice(vocab.SIGNOFFS), emoji=rng.choice(vocab.EMOJI), sep=rng.choice(vocab.TITLE_SEPS),
        caps=rng.choices(["normal", "upper", "lower"], [6, 2, 1])[0], title_shape=rng.randrange(6),
        stealth=rng.choice(vocab.STEALTH), ship_days=rng.choice(vocab.SHIP_DAYS), refund=rng.choice(vocab.REFUND),
        fe=rng.choice(vocab.FE_POLICY), shouty=rng.random() < 0.25,
    )


UNIT_WORD = {"g": "g", "kg": "kg", "ml": "ml", "L": "L", "pills": "pills", "tabs": "tabs", "pcs": "pcs",
             "seeds": "seeds", "vials": "vials", "strips": "strips", "kits": "kits", "bottles": "bottles"}
GLUED_UNITS = {"g", "kg", "ml", "L"}

LANG_TITLE = {
    "fr": ("{name} {extra} - {qty} - livraison rapide", "{qty} {name} qualité top {extra}", "{name} ({extra}) {qty} envoi discret"),
    "es": ("{name} {extra} {qty} - envío discreto", "{qty} de {name} {extra} calidad", "{name} {extra} | {qty} envío rápido"),
    "de": ("{name} {extra} {qty} - schneller Versand", "{qty} {name} {extra} Top Qualität", "{name} ({extra}) {qty} diskret"),
    "nl": ("{name} {extra} {qty} - snelle levering", "{qty} {name} {extra} topkwaliteit", "{name} ({extra}) {qty} discreet verzonden"),
}

LANG_DESC = {
    "en": ("Our {name} is {adj}.", "Every batch is checked before it ships.", "Prices include shipping.",
           "Bulk buyers get better tiers, message us.", "Please finalize after you receive your order.",
           "Leave honest feedback, it helps us grow."),
    "fr": ("Notre {name} est de qualité supérieure.", "Chaque lot est testé avant l'envoi.", "Livraison incluse dans le prix.",
           "Merci de finaliser après réception.", "Pour les grosses commandes, contactez-nous."),
    "es": ("Nuestra {name} es de la mejor calidad.", "Cada lote se prueba antes del envío.", "El envío está incluido.",
           "Por favor finaliza cuando recibas tu pedido.", "Descuentos por volumen, escríbenos."),
    "de": ("Unser {name} ist beste Qualität.", "Jede Charge wird vor dem Versand getestet.", "Versand ist im Preis enthalten.",
           "Bitte nach Erhalt finalisieren.", "Großabnehmer bitte per PM melden."),
    "nl": ("Onze {name} is van topkwaliteit.", "Elke batch wordt getest voor verzending.", "Verzending is inbegrepen.",
           "Graag finaliseren na ontvangst.", "Voor grote bestellingen, stuur een bericht."),
}

FEEDBACK = {
    "en": ("Fast delivery, great stealth. 5/5", "Product as described, will order again.", "Took 9 days but arrived, good stuff.",
           "Best {name} I had this year!", "Weight was a bit short, vendor fixed it.", "Stealth on point, thanks!",
           "Average quality, ok price.", "Never arrived. Vendor reshipped. Respect."),
    "fr": ("Livraison rapide, très bon produit.", "Conforme à la description, merci!", "Stealth parfait, je recommande."),
    "es": ("Llegó rápido y bien escondido.", "Producto tal como se describe, repetiré.", "Buena calidad, gracias!"),
    "de": ("Schnelle Lieferung, Top Ware!", "Alles wie beschrieben, gerne wieder.", "Gute Qualität, fairer Preis."),
    "nl": ("Snel geleverd, goede kwaliteit.", "Precies zoals beschreven, top!", "Netjes verpakt, aanrader."),
}


def apply_caps(text: str, caps: str) -> str:
    if caps == "upper":
        return text.upper()
    if caps == "lower":
        return text.lower()
    return text


def qty_text(q: float, unit: str) -> str:
    return f"{fmt_qty(q)}{unit}" if unit in GLUED_UNITS else f"{fmt_qty(q)} {UNIT_WORD[unit]}"


def title(rng: random.Random, style: Style, product: vocab.Product, qty: float, lang: str) -> tuple[str, str]:
    """(title, product name used in it)."""
    name = rng.choice(product.names)
    extra = rng.choice(product.extras) if product.extras else rng.choice(vocab.ADJ)
    qty_s = qty_text(qty, product.unit)
    if lang != "en" and product.intl.get(lang) and lang in LANG_TITLE:
        local = rng.choice(product.intl[lang])
        # local word plus the brand-like English name half the time: "Kokain Peruvian Cocaine 5g" is real
        shown = local if rng.random() < 0.5 or local.lower() in name.lower() else f"{local} {name}"
        text = rng.choice(LANG_TITLE[lang]).format(name=shown, extra=extra, qty=qty_s)
    else:
        slang = rng.choice(product.slang) if product.slang and rng.random() < 0.35 else ""
        adj = rng.choice(vocab.ADJ)
        sep = style.sep
        shapes = (
            f"{name}{sep}{qty_s}{sep}{extra}",
            f"{name} {extra} {qty_s}",
            f"{qty_s} {name} ({extra})",
            f"[{adj.upper()}] {name} {extra}",
            f"{name} {extra}{sep}{adj}",
            f"{slang.upper() if slang else adj.capitalize()} {name}{sep}{qty_s}",
        )
        text = shapes[style.title_shape]
        if slang and style.title_shape != 5:
            text = f"{text} ({slang})" if rng.random() < 0.5 else f"{slang.upper()} {text}"
    text = apply_caps(text, style.caps)
    if style.emoji:
        text = f"{style.emoji} {text} {style.emoji}"
    return " ".join(text.split()), name


def description(rng: random.Random, style: Style, product: vocab.Product | None, lang: str,
                name: str, contact_line: str | None) -> str:
    lang = lang if lang in LANG_DESC else "en"
    pool = list(LANG_DESC[lang])
    rng.shuffle(pool)
    sentences = [s.format(name=name, adj=rng.choice(vocab.ADJ)) for s in pool[: rng.randrange(2, 5)]]
    if product is not None and product.extras:
        sentences.insert(1, f"{rng.choice(product.extras).capitalize()}.")
    sentences.append(style.stealth)
    if rng.random() < 0.6:
        sentences.append(style.ship_days)
    if contact_line:
        sentences.append(contact_line)
    sentences.append(style.signoff)
    if style.shouty:
        sentences = [s[:-1] + "!!!" if s.endswith(".") else s for s in sentences]
    return " ".join(" ".join(sentences).split())


def terms(rng: random.Random, style: Style, extra: list[str]) -> str:
    parts = [style.stealth, style.ship_days, style.refund, style.fe, *extra, style.signoff]
    return " ".join(" ".join(parts).split())


def feedback_line(rng: random.Random, lang: str, name: str) -> str:
    pool = FEEDBACK.get(lang, FEEDBACK["en"]) if rng.random() < 0.5 else FEEDBACK["en"]
    return rng.choice(pool).format(name=name)
