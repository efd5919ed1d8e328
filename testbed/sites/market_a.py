"""Market A ("Cobalt Market"): a classic server-rendered market.

Category tree (parent/child), paginated index pages (?page=N, 20 per page), listing pages with price
tiers, shipping table and escrow badge, vendor pages with PGP key, contacts, terms and feedback.
"""

from __future__ import annotations

from testbed import ids, vocab
from testbed.httpbase import Request, Response, esc, html_response
from testbed.sites.common import (
    State,
    down_page,
    external_links,
    not_found,
    page_slice,
    pager,
    qpath,
    reviews,
    text_block,
)
from testbed.view import slug
from testbed.world import SITE_NAMES

PER_PAGE = 20
NAME = SITE_NAMES["market_a"]
CSS = b"body{font-family:Verdana,sans-serif}.badge{padding:2px 6px;border-radius:3px}.escrow{background:#2a6}"


def _tree() -> dict[str, list[str]]:
    tree: dict[str, list[str]] = {}
    for parent, child in vocab.GROUPS.values():
        tree.setdefault(parent, [])
        if child not in tree[parent]:
            tree[parent].append(child)
    return tree


TREE = _tree()


class MarketA:
    site_id = "market_a"

    def __init__(self, state: State) -> None:
        self.state = state

    def handle(self, req: Request) -> Response:
        v = self.state.view()
        if not v.up[self.site_id]:
            return down_page(NAME)
        p = req.path
        if p == "/":
            return self.home(v)
        if p == "/static/cobalt.css":
            return Response(200, CSS, "text/css")
        if p == "/robots.txt":
            delay = f"Crawl-delay: {self.state.crawl_delay}\n" if self.state.crawl_delay else ""
            return Response(200, f"User-agent: *\nDisallow: /account\n{delay}".encode(), "text/plain")
        if p.startswith("/category/"):
            return self.category(v, p[len("/category/"):].strip("/").split("/"), req.int_arg("page"))
        if p.startswith("/listing/"):
            return self.listing(v, p[len("/listing/"):])
        if p.startswith("/vendor/"):
            return self.vendor(v, p[len("/vendor/"):])
        if p == "/vendors":
            return self.vendors(v, req.int_arg("page"))
        return not_found(f"No page at {p}")

    # ------------------------------------------------------------------ chrome

    def page(self, v, title: str, body: str, crumbs: list[tuple[str, str | None]] | None = None) -> Response:
        nav = "".join(f'<li><a href="/category/{slug(p)}">{esc(p)}</a></li>' for p in TREE)
        crumb_html = ""
        if crumbs:
            items = [f'<a href="{esc(h)}">{esc(t)}</a>' if h else f"<span>{esc(t)}</span>" for t, h in crumbs]
            crumb_html = f'<nav class="breadcrumb">{" &rsaquo; ".join(items)}</nav>'
        rate = v.world.rates[v.day]["BTC"]
        return html_response(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)} | {NAME}</title>
<link rel="stylesheet" href="/static/cobalt.css"></head>
<body>
<header><a class="logo" href="/">{NAME}</a>
<span class="rate">1 BTC = ${rate:,.2f}</span>
<a href="/vendors">Vendors</a> <a href="/account/login">Login</a></header>
<ul class="categories">{nav}</ul>
{crumb_html}
<main>
{body}
</main>
<footer><p>{NAME} &copy; 2026 &middot; Day {v.day} &middot; {v.date.isoformat()}</p>
{external_links()}</footer>
</body></html>""")

    def rows(self, v, records: list[dict]) -> str:
        vend = {r["handle"]: r for r in v.vendors[self.site_id]}
        out = ['<table class="listings"><thead><tr><th>Item</th><th>Vendor</th><th>Price</th><th>Ships from</th>'
               "</tr></thead><tbody>"]
        for r in records:
            fb = vend[r["vendor"]]["feedback"]["positive"] if r["vendor"] in vend else 0
            out.append(f'<tr class="listing-row"><td><a class="title" href="{esc(r["url"])}">{esc(r["title"])}</a></td>'
                       f'<td><a href="{esc(r["vendor_url"])}">{esc(r["vendor"])}</a> ({fb})</td>'
                       f'<td class="price">{esc(r["price"])}</td><td>{esc(r["ships_from"])}</td></tr>')
        out.append("</tbody></table>")
        return "\n".join(out)

    # ------------------------------------------------------------------ pages

    def home(self, v) -> Response:
        counts: dict[str, int] = {}
        for r in v.listings[self.site_id]:
            counts[r["breadcrumb"][1]] = counts.get(r["breadcrumb"][1], 0) + 1
        tree = "\n".join(
            f'<li><a href="/category/{slug(p)}">{esc(p)}</a> ({counts.get(p, 0)})<ul>'
            + "".join(f'<li><a href="/category/{slug(p)}/{slug(c)}">{esc(c)}</a></li>' for c in kids)
            + "</ul></li>" for p, kids in TREE.items())
        latest = v.listings[self.site_id][:10]
        body = (f'<h1>Welcome to {NAME}</h1><p class="stats">{len(v.listings[self.site_id])} listings, '
                f'{len(v.vendors[self.site_id])} vendors</p><ul class="tree">{tree}</ul>'
                f"<h2>Latest listings</h2>{self.rows(v, latest)}")
        return self.page(v, "Home", body)

    def category(self, v, parts: list[str], page: int) -> Response:
        parent = next((p for p in TREE if slug(p) == parts[0]), None)
        if parent is None:
            return not_found("Unknown category")
        child = None
        if len(parts) > 1:
            child = next((c for c in TREE[parent] if slug(c) == parts[1]), None)
            if child is None:
                return not_found("Unknown category")
        items = [r for r in v.listings[self.site_id]
                 if r["breadcrumb"][1] == parent and (child is None or r["breadcrumb"][2] == child)]
        chunk, pages = page_slice(items, page, PER_PAGE)
        if page < 1 or (page > pages and items):
            return not_found("No such page")
        base = f"/category/{slug(parent)}" + (f"/{slug(child)}" if child else "")
        subs = "".join(f'<li><a href="/category/{slug(parent)}/{slug(c)}">{esc(c)}</a></li>' for c in TREE[parent])
        crumbs = [("Home", "/"), (parent, f"/category/{slug(parent)}" if child else None)]
        if child:
            crumbs.append((child, None))
        body = (f"<h1>{esc(child or parent)}</h1><ul class=\"subcategories\">{subs}</ul>"
                f'<p class="count">{len(items)} listings &middot; page {page} of {pages}</p>'
                f"{self.rows(v, chunk)}{pager(base, page, pages)}")
        return self.page(v, child or parent, body, crumbs)

    def listing(self, v, ext: str) -> Response:
        r = v.listing_by_id.get((self.site_id, ext))
        if r is None:
            return not_found("This listing does not exist or was removed by the vendor.")
        _, parent, child = r["breadcrumb"]
        vend = v.vendor_by_handle.get((self.site_id, r["vendor"]))
        fb = vend["feedback"] if vend else {"positive": 0, "neutral": 0, "negative": 0}
        opts = "\n".join(f'<option value="{i}">{esc(o["quantity"])} {esc(o["unit"])} - {esc(o["price"])}</option>'
                         for i, o in enumerate(r["price_options"]))
        tiers = " / ".join(f'{o["quantity"]}{o["unit"]}' for o in r["price_options"])
        ships = "".join(f"<li>{esc(s)}</li>" for s in r["ships_to"])
        badge = '<span class="badge escrow">Escrow</span>' if r["escrow"] else '<span class="badge fe">FE (finalize early)</span>'
        revs = "".join(f'<li class="review"><span class="stars">{"★" * s}</span> {esc(b)}: {esc(t)}</li>'
                       for b, t, s in reviews(v.seed, r["external_id"], v.day, r["lang"], r["title"][:20], 3))
        body = f"""<article class="listing" data-id="{esc(r["external_id"])}">
<h1 class="listing-title">{esc(r["title"])}</h1>
<div class="badges">{badge} <span class="badge tiers">{esc(tiers)}</span></div>
<table class="details">
<tr><th>Price</th><td class="price" data-currency="{esc(r["currency"])}">{esc(r["price"])}</td></tr>
<tr><th>Quantity</th><td class="quantity"><span class="qty">{esc(r["quantity"])}</span> <span class="unit">{esc(r["unit"])}</span></td></tr>
<tr><th>In stock</th><td class="stock">{r["stock"]}</td></tr>
<tr><th>Ships from</th><td class="ships-from">{esc(r["ships_from"])}</td></tr>
<tr><th>Ships to</th><td><ul class="ships-to">{ships}</ul></td></tr>
<tr><th>Vendor</th><td><a class="vendor" href="{esc(r["vendor_url"])}">{esc(r["vendor"])}</a>
 <span class="vendor-feedback">({fb["positive"]}/{fb["neutral"]}/{fb["negative"]})</span></td></tr>
</table>
<form class="buy" method="post" action="/cart/add"><label>Options <select name="option">
{opts}
</select></label><button type="submit">Add to cart</button></form>
<h2>Description</h2>
{text_block(r["description"], "div", "description")}
<h2>Shipping options</h2>
<table class="shipping"><tr><th>Method</th><th>Days</th><th>Cost</th></tr>
<tr><td>Standard (tracked)</td><td>2-5</td><td>included</td></tr>
<tr><td>Express</td><td>1-2</td><td>+10%</td></tr></table>
<h2>Feedback</h2><ul class="reviews">{revs}</ul>
</article>"""
        crumbs = [("Home", "/"), (parent, f"/category/{slug(parent)}"), (child, f"/category/{slug(parent)}/{slug(child)}")]
        return self.page(v, r["title"], body, crumbs)

    def vendor(self, v, handle: str) -> Response:
        r = v.vendor_by_handle.get((self.site_id, handle))
        if r is None:
            return not_found("Vendor not found, banned or on vacation.")
        mine = [x for x in v.listings[self.site_id] if x["vendor"] == handle]
        contacts = "".join(f'<li class="contact" data-kind="{k}">{k.capitalize()}: <span class="value">{esc(val)}</span></li>'
                           for k, val in r["contacts"].items())
        pgp = ""
        if r["pgp_key"]:
            fpr = (f'<p class="fingerprint">Fingerprint: <code>{ids.grouped(r["pgp_fingerprint"])}</code></p>'
                   if r["pgp_fingerprint"] else "")
            pgp = f'<section class="pgp"><h2>PGP public key</h2>{fpr}<pre class="pgp-key">{esc(r["pgp_key"])}</pre></section>'
        mentions = ""
        if r["mentions"]:
            items = []
            for m in r["mentions"]:
                if m["site"] == "market_c":
                    href = f'http://{v.world.onion_host}/vendor?name={qpath(m["handle"])}'
                    items.append(f'<li>Silk Lantern: <a href="{esc(href)}">{esc(m["handle"])}</a></li>')
                else:
                    items.append(f'<li>{esc(SITE_NAMES[m["site"]])}: {esc(m["handle"])}</li>')
            mentions = f'<section class="mentions"><h2>Also find me on</h2><ul>{"".join(items)}</ul></section>'
        fb = r["feedback"]
        revs = "".join(f'<li class="review"><span class="stars">{"★" * s}</span> {esc(b)}: {esc(t)}</li>'
                       for b, t, s in reviews(v.seed, r["account_id"], v.day, "en", "stuff", 5))
        body = f"""<article class="vendor-profile">
<h1 class="vendor-name">{esc(r["handle"])}</h1>
<dl class="vendor-info">
<dt>Member since</dt><dd class="member-since">{esc(r["member_since"])}</dd>
<dt>Ships from</dt><dd class="ships-from">{esc(r["ships_from"])}</dd>
<dt>Feedback</dt><dd class="feedback"><span class="positive">{fb["positive"]}</span> positive /
<span class="neutral">{fb["neutral"]}</span> neutral / <span class="negative">{fb["negative"]}</span> negative</dd>
<dt>Listings</dt><dd class="listing-count">{r["listings"]}</dd>
</dl>
<section class="contacts"><h2>Contact</h2><ul>{contacts}</ul></section>
{pgp}
<section class="terms-section"><h2>Terms &amp; conditions</h2>
{text_block(r["terms"], "div", "terms")}</section>
{mentions}
<h2>Listings</h2>
{self.rows(v, mine)}
<h2>Recent feedback</h2><ul class="reviews">{revs}</ul>
</article>"""
        return self.page(v, r["handle"], body, [("Home", "/"), ("Vendors", "/vendors"), (r["handle"], None)])

    def vendors(self, v, page: int) -> Response:
        items = v.vendors[self.site_id]
        chunk, pages = page_slice(items, page, 25)
        rows = "".join(f'<tr><td><a href="{esc(r["url"])}">{esc(r["handle"])}</a></td><td>{r["listings"]}</td>'
                       f'<td>{r["feedback"]["positive"]}</td><td>{esc(r["ships_from"])}</td></tr>' for r in chunk)
        body = (f'<h1>Vendors</h1><table class="vendors"><tr><th>Vendor</th><th>Listings</th><th>Feedback</th>'
                f"<th>Ships from</th></tr>{rows}</table>{pager('/vendors', page, pages)}")
        return self.page(v, "Vendors", body, [("Home", "/"), ("Vendors", None)])
