"""Site profiles: one YAML file per site, validated with errors that name the file, line and field.

A profile says how to reach a site (base URL, fetch mode, proxy), how politely (delay, concurrency, caps,
robots.txt) and how to read it: for each page type (index, listing, vendor, thread) which selectors give
which field and which links lead to which page type. Spiders navigate by those links; page objects
(crawler/pages.py) extract the fields.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PAGE_TYPES = ("index", "listing", "vendor", "thread")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


class ProfileError(ValueError):
    """A profile that cannot be used; the message names file:line: field and what to do."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Model(BaseModel):
    # a misspelt key is an error, not a silently ignored line
    model_config = ConfigDict(extra="forbid")


class Selector(_Model):
    """Where a value is on the page. A bare string in YAML is a CSS selector (`xpath:` prefix for XPath)."""

    css: str | None = None
    xpath: str | None = None
    re: str | None = Field(None, description="regular expression; its first group (or whole match) is kept")
    all: bool = Field(False, description="keep every match (a list) instead of the first")
    join: str | None = Field(None, description="join every match with this string (e.g. a newline)")
    from_url: str | None = Field(None, description="regular expression applied to the page URL instead")
    value: str | None = Field(None, description="a constant")
    default: str | None = None
    multiline: bool = Field(False, description="keep line breaks (PGP blocks); otherwise whitespace collapses")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"xpath": data[6:].strip()} if data.startswith("xpath:") else {"css": data}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> Selector:
        sources = [s for s in (self.css, self.xpath, self.from_url, self.value) if s is not None]
        if len(sources) != 1:
            raise ValueError("give exactly one of css, xpath, from_url or value")
        for pattern in (self.re, self.from_url):
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
        return self


class Group(_Model):
    """Repeated elements (price tiers, contacts, quotes): `each` finds them, `fields` are read inside each."""

    each: Selector
    fields: dict[str, Selector]


Links = dict[Literal["index", "listing", "vendor", "thread"], list[Selector]]


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (v if isinstance(v, list) else [v]) for k, v in value.items()}
    return value


class IndexPage(_Model):
    page_object: str | None = None
    links: Links = Field(default_factory=dict)

    _lists = field_validator("links", mode="before")(_listify)


class ListingFields(_Model):
    external_id: Selector
    title: Selector
    description: Selector | None = None
    price: Selector | None = None
    currency: Selector | None = None
    price_options: Group | None = Field(None, description="tiers: fields quantity, unit, price (and label)")
    quantity: Selector | None = None
    unit: Selector | None = None
    ships_from: Selector | None = None
    ships_to: Selector | None = None
    stock: Selector | None = None
    vendor: Selector | None = None


class ListingPage(_Model):
    page_object: str | None = None
    fields: ListingFields | None = None
    links: Links = Field(default_factory=dict)
    screenshot: bool = Field(True, description="browser mode: keep a full-page screenshot as evidence")

    _lists = field_validator("links", mode="before")(_listify)


class VendorFields(_Model):
    handle: Selector
    identifiers: dict[str, Selector] = Field(
        default_factory=dict, description="kind -> selector: pgp, btc, xmr, eth, telegram, wickr, session, ...")
    identifier_items: Group | None = Field(None, description="contacts listed with their kind: fields kind, value")
    pgp_key: Selector | None = Field(None, description="the armored key block; its fingerprint becomes an identifier")
    profile: dict[str, Selector] = Field(default_factory=dict, description="free fields kept as shown")
    wallets_in: list[str] = Field(default_factory=list,
                                  description="profile fields whose text is scanned for btc/xmr/eth wallets")
    identifiers_in: list[str] = Field(
        default_factory=list, description="profile fields (a forum signature) scanned for every identifier the "
        "extractors know: contacts, e-mail, wallets, and PGP fingerprints written out")


class VendorPage(_Model):
    page_object: str | None = None
    fields: VendorFields | None = None
    links: Links = Field(default_factory=dict)

    _lists = field_validator("links", mode="before")(_listify)


class ThreadFields(_Model):
    external_id: Selector
    title: Selector
    board: Selector | None = None


class PostFields(_Model):
    external_id: Selector
    author: Selector
    text: Selector
    posted_at: Selector | None = None
    signature: Selector | None = None
    quotes: Group | None = Field(None, description="quoted posts: fields post_id, author, text")
    lang: Selector | None = None


class Posts(_Model):
    each: Selector = Field(description="one element per post; the post fields are read inside it")
    fields: PostFields


class ThreadPage(_Model):
    page_object: str | None = None
    fields: ThreadFields | None = None
    posts: Posts | None = None
    links: Links = Field(default_factory=dict)

    _lists = field_validator("links", mode="before")(_listify)


class Pages(_Model):
    index: IndexPage = Field(default_factory=IndexPage)
    listing: ListingPage | None = None
    vendor: VendorPage | None = None
    thread: ThreadPage | None = None


class Politeness(_Model):
    delay: float = Field(1.0, ge=0, description="seconds between requests to the site")
    concurrency: int = Field(2, ge=1, le=64, description="requests in flight to the site at once")
    autothrottle: bool = True
    robots: Literal["obey", "ignore"] = "obey"
    max_pages: int = Field(5000, ge=1, description="stop after this many responses")
    max_items: int = Field(0, ge=0, description="stop after this many items (0: no cap)")
    max_depth: int = Field(10, ge=0, description="links followed from a start URL (0: no cap)")
    timeout: float = Field(30, gt=0, description="seconds for one download (slow-drip guard)")
    max_size: int = Field(10 * 2**20, gt=0, description="bytes per response, decompressed (gzip-bomb guard)")
    max_redirects: int = Field(5, ge=0)
    retries: int = Field(2, ge=0)
    max_seconds: float = Field(0, ge=0, description="stop the crawl after this long (0: no cap)")


class Allow(_Model):
    hosts: list[str] = Field(default_factory=list, description="hosts besides the base URL's")
    private: bool | list[str] = Field(
        False, description="loopback/private addresses the crawler may reach: false (none, the default), "
                           "a list of addresses or networks (127.0.0.1, 10.0.0.0/8), or true (all of them; "
                           "testbeds and lab sites only)")

    @field_validator("private")
    @classmethod
    def _networks(cls, v: bool | list[str]) -> bool | list[str]:
        if isinstance(v, list):
            for entry in v:
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError as exc:
                    raise ValueError(f"{entry!r} is not an IP address or network (e.g. 127.0.0.1, "
                                     "10.0.0.0/8)") from exc
        return v

    def permits(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        """Whether this allow-list opens a non-global address."""
        if self.private is True:
            return True
        if not self.private:
            return False
        return any(ip in ipaddress.ip_network(n, strict=False) for n in self.private)


def non_global_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address when `host` is a loopback/private/reserved IP literal (or localhost), else None."""
    host = host.lower().strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return ipaddress.ip_address("127.0.0.1")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    return None if ip.is_global else ip


class Browser(_Model):
    max_pages: int = Field(4, ge=1, description="open tabs at once")
    max_contexts: int = Field(1, ge=1)
    wait_for: str | None = Field(None, description="CSS selector to wait for before reading a page")


class Profile(_Model):
    slug: str = ""  # the file stem; set by the loader
    path: str = ""
    name: str
    kind: Literal["market", "forum"]
    base_url: str
    start_urls: list[str] = Field(default_factory=lambda: ["/"])
    fetch: Literal["http", "browser"] = "http"
    proxy: str = Field("none", description="none, tor, or a socks5h:// URL")
    number_format: Literal["dot", "comma"] = Field(
        "dot", description="dot: 1,234.56; comma: 1.234,56 (continental)")
    date_format: str | None = Field(None, description="strptime format of post dates; unset: ISO 8601")
    allow: Allow = Field(default_factory=Allow)
    politeness: Politeness = Field(default_factory=Politeness)
    browser: Browser = Field(default_factory=Browser)
    pages: Pages
    user_agent: str | None = None

    @field_validator("base_url")
    @classmethod
    def _base(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL, e.g. http://example.onion/")
        return v if v.endswith("/") else v + "/"

    @field_validator("proxy")
    @classmethod
    def _proxy(cls, v: str) -> str:
        if v in ("none", "tor"):
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("socks5h", "socks5") or not parts.hostname or not parts.port:
            raise ValueError("must be none, tor, or socks5h://host:port (remote DNS)")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if self.kind == "market" and (self.pages.listing is None or
                                      (self.pages.listing.fields is None and not self.pages.listing.page_object)):
            raise ValueError("pages.listing: a market needs listing fields or a page_object")
        if self.kind == "forum" and (self.pages.thread is None or
                                     (self.pages.thread.posts is None and not self.pages.thread.page_object)):
            raise ValueError("pages.thread: a forum needs thread posts or a page_object")
        if self.is_onion and self.proxy == "none":
            raise ValueError("proxy: an .onion site needs `proxy: tor` (or a socks5h:// URL); "
                             "onion hosts are never fetched directly")
        return self

    # ------------------------------------------------------------------ derived
    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @property
    def is_onion(self) -> bool:
        return self.host.endswith(".onion")

    def absolute_start_urls(self) -> list[str]:
        return [urljoin(self.base_url, u.lstrip("/") if not urlsplit(u).scheme else u) for u in self.start_urls]

    def allowed_hosts(self) -> set[str]:
        return {self.host, *(h.lower() for h in self.allow.hosts)}

    def with_overrides(self, base_url: str | None = None, proxy: str | None = None,
                       fetch: str | None = None, **politeness: Any) -> Profile:
        """A copy pointing elsewhere (tests, testbeds on free ports), validated again."""
        data = self.model_dump()
        if base_url:
            data["base_url"] = base_url
        if proxy:
            data["proxy"] = proxy
        if fetch:
            data["fetch"] = fetch
        data["politeness"].update({k: v for k, v in politeness.items() if v is not None})
        profile = Profile.model_validate(data)
        problems = private_targets(profile)
        if problems:
            where = f"{self.path or self.slug}: " if (self.path or self.slug) else ""
            raise ProfileError([f"{where}{'.'.join(map(str, loc))}: {msg}" for loc, msg in problems])
        return profile


def private_targets(profile: Profile) -> list[tuple[tuple, str]]:
    """(field location, problem) for every start address that is loopback/private and not allow-listed:
    a profile cannot aim the crawler at the analyst's own network unless it says so explicitly."""
    found = []
    targets = [(("base_url",), profile.base_url)]
    targets += [(("start_urls", i), u) for i, u in enumerate(profile.start_urls) if urlsplit(u).scheme]
    for loc, url in targets:
        host = urlsplit(url).hostname or ""
        ip = non_global_ip(host)
        if ip is not None and not profile.allow.permits(ip):
            found.append((loc, f"{host} is a loopback/private address; the crawler only goes there when the "
                               f"profile allows it explicitly (allow: {{private: [{ip}]}}, see "
                               "docs/site-profiles.md)"))
    return found


# ---------------------------------------------------------------------- loading with line numbers


def _line_map(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """(key, key, index, ...) -> 1-based line of that node, from the YAML node tree."""
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value
            out[path + (k,)] = key.start_mark.line + 1
            _line_map(value, path + (k,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _line_map(value, path + (i,), out)
    return out


def _line_of(lines: dict[tuple, int], loc: tuple) -> int:
    loc = tuple(loc)
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def _field_name(loc: tuple) -> str:
    # pydantic puts validator names (e.g. "function-before[...]") into loc for unions; drop them
    parts = [str(p) for p in loc if not (isinstance(p, str) and ("[" in p or p in ("str",)))]
    return ".".join(parts) or "(top level)"


def parse_profile(text: str, path: str | Path = "<profile>") -> Profile:
    path = str(path)
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ProfileError([f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from exc
    if not isinstance(data, dict) or node is None:
        raise ProfileError([f"{path}:1: a profile is a YAML mapping (name:, kind:, base_url:, pages: ...)"])
    lines = _line_map(node)
    slug = Path(path).stem
    if not SLUG_RE.match(slug):
        raise ProfileError([f"{path}:1: file name {slug!r} is not a valid site id (lower case, digits, _ -)"])
    data = {**data, "slug": slug, "path": path}
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = err["loc"]
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "field required"
            elif err["type"] == "extra_forbidden":
                msg = "unknown field (misspelt? see docs/site-profiles.md)"
            problems.append(f"{path}:{_line_of(lines, loc)}: {_field_name(loc)}: {msg}")
        raise ProfileError(sorted(set(problems), key=lambda p: int(p.split(":")[1]))) from exc
    problems = private_targets(profile)
    if problems:
        raise ProfileError([f"{path}:{_line_of(lines, loc)}: {_field_name(loc)}: {msg}" for loc, msg in problems])
    return profile


def load_profile(path: str | Path) -> Profile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError([f"{path}: cannot read the profile: {exc.strerror}"]) from exc
    return parse_profile(text, path)


def sites_dir() -> Path:
    from narcowatch import settings

    return Path(settings.get("NARCOWATCH_SITES_DIR") or "./sites")


def find_profile(site: str) -> Profile:
    """A site by id (file stem in the sites folder) or by path to a YAML file."""
    candidate = Path(site)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return load_profile(candidate)
    path = sites_dir() / f"{site}.yaml"
    if not path.exists():
        known = ", ".join(p.stem for p in sorted(sites_dir().glob("*.yaml"))) or "none"
        raise ProfileError([f"{path}: no profile for site {site!r} (known sites: {known})"])
    return load_profile(path)


def all_profiles() -> list[Profile]:
    return [load_profile(p) for p in sorted(sites_dir().glob("*.yaml"))]
