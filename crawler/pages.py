"""Page objects: one class per page type reads a fetched page with the profile's selectors and returns
records (storage.records) and the links it shows. They know nothing of Scrapy, requests or databases, so
each is tested against saved HTML (tests/data/pages/<site>/<name>.html + expected .json).

A site too odd for selectors gets its own small class, registered by name and named in its profile:

    @register("market_x_listing")
    class MarketXListing(ListingPageObject):
        def listing(self) -> ListingRecord: ...

    # sites/market_x.yaml
    pages: {listing: {page_object: market_x_listing}}

Custom classes live in crawler/custom/ (imported when a profile names one).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin

from parsel import Selector as Html

from crawler import normalise as nz
from crawler.profile import PAGE_TYPES, Group, Profile, Selector
from storage.records import ListingRecord, PostRecord, ThreadRecord, VendorRecord

logger = logging.getLogger(__name__)
REGISTRY: dict[str, type[PageObject]] = {}


def register(name: str):
    def deco(cls: type[PageObject]) -> type[PageObject]:
        REGISTRY[name] = cls
        return cls
    return deco


def lookup(name: str) -> type[PageObject]:
    if name not in REGISTRY:
        import crawler.custom as custom

        for info in pkgutil.iter_modules(custom.__path__):
            importlib.import_module(f"crawler.custom.{info.name}")
    if name not in REGISTRY:
        raise KeyError(f"no page object registered as {name!r} (known: {', '.join(sorted(REGISTRY)) or 'none'})")
    return REGISTRY[name]


@dataclass
class PageResult:
    """What one page gave: records in page order, and links by the page type they lead to."""

    records: list[Any] = field(default_factory=list)
    links: dict[str, list[str]] = field(default_factory=dict)


def select(root: Html, spec: Selector | None, url: str = "") -> list[str]:
    """Every string the selector gives (stripped, empty ones dropped), after its regular expression."""
    if spec is None:
        return []
    if spec.value is not None:
        values = [spec.value]
    elif spec.from_url is not None:
        m = re.search(spec.from_url, url)
        values = [m.group(1) if m and m.groups() else m.group(0)] if m else []
    else:
        nodes = root.css(spec.css) if spec.css is not None else root.xpath(spec.xpath)
        values = []
        for node in nodes:
            text = node.get()
            # an element (not ::text / @attr) means its visible text, laid out as a browser would
            values.append(element_text(node.root) if not isinstance(node.root, str) else text)
    if spec.re is not None:
        out = []
        for v in values:
            m = re.search(spec.re, v or "", re.S)
            if m:
                out.append(m.group(1) if m.groups() else m.group(0))
        values = out
    if spec.multiline:
        values = [c for c in ((v or "").strip() for v in values) if c]
    else:
        values = [c for c in (" ".join((v or "").split()) for v in values) if c]
    if not values and spec.default is not None:
        values = [spec.default]
    return values


BLOCKS = {"p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
          "section", "article", "header", "footer", "dd", "dt", "dl", "pre"}


def element_text(el: Any) -> str:
    """Visible text of an lxml element: whitespace collapsed as HTML does, line breaks at <br> and block
    boundaries, <pre> kept verbatim (PGP key blocks), scripts and styles skipped."""
    out: list[str] = []

    def keep(text: str) -> str:  # <pre> line breaks survive the tidying below
        return text.replace("\n", "\x00")

    def walk(node: Any, pre: bool) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("script", "style", "template"):
            return
        pre = pre or tag == "pre"
        if tag == "br" or tag in BLOCKS:
            out.append("\n")
        if node.text and tag:
            out.append(keep(node.text) if pre else re.sub(r"\s+", " ", node.text))
        for child in node:
            walk(child, pre)
            if child.tail:
                out.append(keep(child.tail) if pre else re.sub(r"\s+", " ", child.tail))
        if tag in BLOCKS:
            out.append("\n")

    walk(el, False)
    text = "".join(out)
    text = "\n".join(line.strip() for line in re.sub(r"\n\s*\n+", "\n", text).split("\n")).strip()
    return text.replace("\x00", "\n")


def group(root: Html, spec: Group | None, url: str = "") -> list[dict[str, str | None]]:
    """One dict per repeated element (tiers, contacts, quotes), each field read inside its element."""
    if spec is None:
        return []
    nodes = root.css(spec.each.css) if spec.each.css is not None else root.xpath(spec.each.xpath or ".")
    return [{name: value(node, sub, url) for name, sub in spec.fields.items()} for node in nodes]


def value(root: Html, spec: Selector | None, url: str = "") -> str | None:
    values = select(root, spec, url)
    if not values:
        return None
    if spec is not None and spec.join is not None:
        return spec.join.join(values)
    return values[0]


class PageObject:
    """Base: the page's URL and parsed HTML, the profile, and this page type's section of it."""

    page_type = "index"

    def __init__(self, url: str, html: str | bytes | Html, profile: Profile):
        self.url = url
        if isinstance(html, Html):
            self.root = html
        else:
            text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
            self.root = Html(text=text)
        self.profile = profile
        self.spec = getattr(profile.pages, self.page_type)

    def links(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for target, specs in (self.spec.links if self.spec else {}).items():
            seen: list[str] = []
            for spec in specs:
                for href in select(self.root, spec, self.url):
                    absolute = urldefrag(urljoin(self.url, href.strip()))[0]
                    if absolute.startswith(("http://", "https://")) and absolute not in seen:
                        seen.append(absolute)
            out[target] = seen
        return out

    def records(self) -> list[Any]:
        return []

    def result(self) -> PageResult:
        return PageResult(self.records(), self.links())

    # helpers for subclasses
    def v(self, spec: Selector | None, root: Html | None = None) -> str | None:
        return value(self.root if root is None else root, spec, self.url)


class IndexPageObject(PageObject):
    page_type = "index"


class ListingPageObject(PageObject):
    page_type = "listing"

    def listing(self) -> ListingRecord | None:
        f = self.spec.fields
        if f is None:
            return None
        external_id, title = self.v(f.external_id), self.v(f.title)
        if not external_id or not title:
            return None  # not a listing page after all (removed item, error page): nothing to store
        fmt = self.profile.number_format
        price_text = self.v(f.price)
        currency = nz.currency_of(self.v(f.currency)) or nz.currency_of(price_text)
        options = None
        if f.price_options is not None:
            options = []
            for tier in group(self.root, f.price_options, self.url):
                price = nz.parse_decimal(tier.get("price"), fmt)
                quantity = nz.parse_decimal(tier.get("quantity"), fmt)  # "1.000" is 1000 in comma format
                options.append({"label": tier.get("label") or tier.get("quantity"),
                                "quantity": str(quantity) if quantity is not None else tier.get("quantity"),
                                "unit": tier.get("unit"), "price": str(price) if price is not None else None})
            options = options or None
        price, unit = nz.parse_decimal(price_text, fmt), self.v(f.unit)
        quantity = nz.parse_float(self.v(f.quantity), fmt)
        return ListingRecord(
            external_id=external_id, url=self.url, title=title,
            description=self.v(f.description),
            price=price, currency=currency, price_options=options, quantity=quantity, unit=unit,
            # from the fields the page shows, so it is there whatever the text says (the extractors only
            # find a price per unit when the title or description states a price)
            price_per_unit=nz.price_per_unit(price, quantity, unit),
            ships_from=nz.country(self.v(f.ships_from)),
            ships_to=nz.countries(select(self.root, f.ships_to, self.url) if f.ships_to and f.ships_to.all
                                  else self.v(f.ships_to)),
            stock=nz.parse_int(self.v(f.stock)), vendor_handle=self.v(f.vendor))

    def records(self) -> list[Any]:
        record = self.listing()
        if record is None:
            return []
        out: list[Any] = []
        if record.vendor_handle:
            vendor_links = self.links().get("vendor") or []
            # the account exists (with its profile URL) even before its own page is read
            out.append(VendorRecord(handle=record.vendor_handle, url=vendor_links[0] if vendor_links else None))
        out.append(record)
        return out


class VendorPageObject(PageObject):
    page_type = "vendor"

    def vendor(self) -> VendorRecord | None:
        f = self.spec.fields
        if f is None:
            return None
        handle = self.v(f.handle)
        if not handle:
            return None
        identifiers: list[tuple[str, str]] = []
        for kind, spec in f.identifiers.items():
            for found in select(self.root, spec, self.url) if spec.all else [self.v(spec)]:
                if found:
                    identifiers.append((kind, normalise_identifier(kind, found)))
        for item in group(self.root, f.identifier_items, self.url):
            if item.get("kind") and item.get("value"):
                identifiers.append((item["kind"].lower(), normalise_identifier(item["kind"].lower(), item["value"])))
        profile: dict[str, Any] = {name: self.v(spec) for name, spec in f.profile.items()}
        for name in f.wallets_in:
            identifiers += wallets_in(profile.get(name))
        for name in f.identifiers_in:
            identifiers += identifiers_in(profile.get(name))
        key = self.v(f.pgp_key)
        if key:
            profile["pgp_key"] = key
            if not any(kind == "pgp" for kind, _ in identifiers):
                fingerprint = key_fingerprint(key)
                if fingerprint:
                    identifiers.append(("pgp", fingerprint))
        identifiers = list(dict.fromkeys(identifiers))
        return VendorRecord(handle=handle, url=self.url, profile={k: v for k, v in profile.items() if v is not None}
                            or None, identifiers=identifiers)

    def records(self) -> list[Any]:
        record = self.vendor()
        return [record] if record else []


WALLET_KINDS = ("btc", "xmr", "eth")


def wallets_in(text: str | None) -> list[tuple[str, str]]:
    """Checksum-valid wallet addresses in free text (vendor terms often carry one)."""
    if not text:
        return []
    try:
        from extractors.identifiers import find_identifiers
    except Exception as exc:  # the extractors are another package: a broken one must not stop a crawl
        logger.warning("wallet extraction unavailable: %s", exc)
        return []
    return [(f["kind"], f["value"]) for f in find_identifiers(text) if f["kind"] in WALLET_KINDS]


# a v4 fingerprint written out: 40 hex digits, often in groups of four ("PGP 3A1F 9C2B ...")
_FINGERPRINT = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{4} ?){9}[0-9A-Fa-f]{4}(?![0-9A-Fa-f])")


def identifiers_in(text: str | None) -> list[tuple[str, str]]:
    """Every identifier in free text (a forum signature): what the extractors find (contacts, e-mail,
    checksum-valid wallets) and PGP fingerprints written out."""
    if not text:
        return []
    try:
        from extractors.identifiers import find_identifiers
    except Exception as exc:  # the extractors are another package: a broken one must not stop a crawl
        logger.warning("identifier extraction unavailable: %s", exc)
        found = []
    else:
        found = [(f["kind"], normalise_identifier(f["kind"], f["value"])) for f in find_identifiers(text)]
    found += [("pgp", normalise_identifier("pgp", m.group())) for m in _FINGERPRINT.finditer(text)]
    return list(dict.fromkeys(found))


def key_fingerprint(block: str) -> str | None:
    """The fingerprint of an armored public key as shown (RFC 4880 v4 / RFC 9580 v6)."""
    try:
        from extractors.identifiers import pgp_fingerprint
    except Exception as exc:  # pragma: no cover - a broken extractors package must not stop a crawl
        logger.warning("PGP fingerprinting unavailable: %s", exc)
        return None
    return pgp_fingerprint(block)


def normalise_identifier(kind: str, text: str) -> str:
    """PGP fingerprints without spaces in upper case; other identifiers as shown (trimmed)."""
    if kind in ("pgp", "pgp_fingerprint"):
        compact = re.sub(r"\s+", "", text)
        if re.fullmatch(r"(0x)?[0-9A-Fa-f]{16,40}", compact):
            return compact.upper().removeprefix("0X")
    return text.strip()


class ThreadPageObject(PageObject):
    page_type = "thread"

    def thread(self) -> ThreadRecord | None:
        f = self.spec.fields
        if f is None:
            return None
        external_id, title = self.v(f.external_id), self.v(f.title)
        if not external_id or not title:
            return None
        return ThreadRecord(external_id=external_id, title=title, url=self.url, board=self.v(f.board))

    def posts(self, thread: ThreadRecord) -> list[PostRecord]:
        spec = self.spec.posts
        if spec is None:
            return []
        nodes = self.root.css(spec.each.css) if spec.each.css else self.root.xpath(spec.each.xpath or ".")
        out = []
        for node in nodes:
            f = spec.fields
            external_id, author, text = self.v(f.external_id, node), self.v(f.author, node), self.v(f.text, node)
            if not external_id or not author or text is None:
                continue
            quotes = group(node, f.quotes, self.url)
            out.append(PostRecord(external_id=external_id, thread_external_id=thread.external_id, author=author,
                                  text=text, posted_at=nz.parse_datetime(self.v(f.posted_at, node),
                                                                         self.profile.date_format),
                                  lang=self.v(f.lang, node), quotes=quotes or None,
                                  signature=self.v(f.signature, node), thread_title=thread.title,
                                  board=thread.board))
        return out

    def records(self) -> list[Any]:
        thread = self.thread()
        return [thread, *self.posts(thread)] if thread else []


DEFAULTS: dict[str, type[PageObject]] = {"index": IndexPageObject, "listing": ListingPageObject,
                                         "vendor": VendorPageObject, "thread": ThreadPageObject}


def page_object_for(profile: Profile, page_type: str) -> type[PageObject]:
    assert page_type in PAGE_TYPES, page_type
    spec = getattr(profile.pages, page_type)
    if spec is not None and spec.page_object:
        return lookup(spec.page_object)
    return DEFAULTS[page_type]


def parse_page(profile: Profile, page_type: str, url: str, html: str | bytes | Html) -> PageResult:
    return page_object_for(profile, page_type)(url, html, profile).result()
