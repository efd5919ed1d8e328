"""Market C ("Silk Lantern"): an onion market, old-school table layout, BTC prices with a USD estimate.

Served on a Unix domain socket only; the testbed's SOCKS5 proxy routes `<onion>:80` there.
URLs: /, /category?name=<slug>&p=N (15 per page), /product?id=N, /vendor?name=<handle>, /vendors.
"""

from __future__ import annotations

from testbed import vocab
from testbed.httpbase import Request, Response, esc, html_response
from testbed.sites.common import State, down_page, external_links, not_found, page_slice, pager, text_block
from testbed.view import slug
from testbed.world import SITE_NAMES

PER_PAGE = 15
NAME = SITE_NAMES["market_c"]
CHILDREN = sorted({child for _p, child in vocab.GROUPS.values()})


class MarketC:
    site_id = "market_c"

    def __init__(self, state: State) -> None:
        self.state = state

    def handle(self, req: Request) -> Response:
        v = self.state.view()
        if not v.up[self.site_id]:
            return down_page(NAME)
        p = req.path
        if p in ("/", "/index.php"):
            return self.home(v)
        if p == "/category":
            return self.category(v, req.arg("name"), req.int_arg("p"))
        if p == "/product":
            return self.product(v, req.arg("id"))
        if p == "/vendor":
            return self.vendor(v, req.arg("name"))
        if p == "/vendors":
            rows = "".join(f'<tr><td><a href="{esc(r["url"])}">{esc(r["handle"])}</a></td><td>{r["listings"]}</td></tr>'
                           for r in v.vendors[self.site_id])
            return self.page(v, "Vendors", f'<table class="vendors" border="1">{rows}</table>')
        return not_found(p)

    def page(self, v, title: str, body: str) -> Response:
        cats = "".join(f'<tr><td><a href="/category?name={slug(c)}">{esc(c)}</a></td></tr>' for c in CHILDREN)
        rate = v.world.rates[v.day]["BTC"]
        return html_response(f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{esc(title)} :: {NAME}</title></head>
<body bgcolor="#111" text="#ddd">
<table width="100%" cellpadding="4"><tr><td><b><a href="/">{NAME}</a></b> &middot; onion market since 2024</td>
<td align="right">BTC/USD {rate:f} &middot; <a href="/vendors">vendors</a></td></tr></table>
<table width="100%"><tr><td valign="top" width="180"><table class="cats">{cats}</table></td>
<td valign="top" class="content">
{body}
</td></tr></table>
<hr><small>{NAME} &middot; {v.date.isoformat()} &middot; PGP-signed mirrors only.</small>
{external_links()}
</body></html>""")

    def table(self, records: list[dict]) -> str:
        rows = "".join(f'<tr class="product"><td><a href="{esc(r["url"])}">{esc(r["title"])}</a></td>'
                       f'<td>{esc(r["price"])}</td><td><a href="{esc(r["vendor_url"])}">{esc(r["vendor"])}</a></td></tr>'
                       for r in records)
        return f'<table class="products" border="1" cellspacing="0"><tr><th>Product</th><th>Price</th><th>Vendor</th></tr>{rows}</table>'

    def home(self, v) -> Response:
        latest = v.listings[self.site_id][:30]
        return self.page(v, "Index", f"<h2>Fresh products</h2>{self.table(latest)}")

    def category(self, v, name: str, page: int) -> Response:
        child = next((c for c in CHILDREN if slug(c) == name), None)
        if child is None:
            return not_found("unknown category")
        items = [r for r in v.listings[self.site_id] if r["breadcrumb"][1] == child]
        chunk, pages = page_slice(items, page, PER_PAGE)
        body = (f'<div class="crumbs"><a href="/">Index</a> &raquo; {esc(child)}</div><h2>{esc(child)}</h2>'
                f"{self.table(chunk)}{pager(f'/category?name={slug(child)}', page, pages, 'p', '&')}")
        return self.page(v, child, body)

    def product(self, v, ext: str) -> Response:
        r = v.listing_by_id.get((self.site_id, ext))
        if r is None:
            return not_found("product gone")
        rows = "".join(f'<tr class="tier"><td class="qty">{esc(o["quantity"])}</td><td class="unit">{esc(o["unit"])}</td>'
                       f'<td class="tier-price">{esc(o["price"])}</td></tr>' for o in r["price_options"])
        body = f"""<div class="crumbs"><a href="/">Index</a> &raquo; <a href="/category?name={slug(r["breadcrumb"][1])}">{esc(r["breadcrumb"][1])}</a></div>
<h2 class="product-title">{esc(r["title"])}</h2>
<table class="product" border="1" cellspacing="0">
<tr><td>Vendor</td><td><a class="vendor" href="{esc(r["vendor_url"])}">{esc(r["vendor"])}</a></td></tr>
<tr><td>Price</td><td><span class="price">{esc(r["price"])}</span> <span class="fiat">{esc(r["price_fiat"])}</span></td></tr>
<tr><td>Amount</td><td class="amount">{esc(r["quantity"])} {esc(r["unit"])}</td></tr>
<tr><td>Stock</td><td class="stock">{r["stock"]}</td></tr>
<tr><td>Origin</td><td class="origin">{esc(r["ships_from"])}</td></tr>
<tr><td>Destinations</td><td class="destinations">{esc("; ".join(r["ships_to"]))}</td></tr>
<tr><td>Payment</td><td class="payment">{"Escrow" if r["escrow"] else "FE"}</td></tr>
</table>
<h3>Tiers</h3><table class="tiers" border="1">{rows}</table>
<h3>Info</h3>
{text_block(r["description"], "div", "info")}"""
        return self.page(v, r["title"], body)

    def vendor(self, v, handle: str) -> Response:
        r = v.vendor_by_handle.get((self.site_id, handle))
        if r is None:
            return not_found("no such vendor")
        contact = "".join(f"<tr><td>{esc(k)}</td><td class=\"contact-{k}\">{esc(val)}</td></tr>"
                          for k, val in r["contacts"].items())
        key = ""
        if r["pgp_key"]:
            fp = f'<p>fpr: <tt class="fingerprint">{esc(r["pgp_fingerprint"].lower())}</tt></p>' if r["pgp_fingerprint"] else ""
            key = f'<h3>PGP</h3>{fp}<pre class="pgp">{esc(r["pgp_key"])}</pre>'
        fb = r["feedback"]
        mine = [x for x in v.listings[self.site_id] if x["vendor"] == handle]
        mentions = "".join(f'<p class="mention">Also on {esc(SITE_NAMES[m["site"]])} as {esc(m["handle"])}</p>'
                           for m in r["mentions"])
        body = f"""<h2 class="vendor-name">{esc(r["handle"])}</h2>
<table class="vendor" border="1"><tr><td>Since</td><td class="since">{esc(r["member_since"])}</td></tr>
<tr><td>From</td><td class="from">{esc(r["ships_from"])}</td></tr>
<tr><td>Rating</td><td class="rating">+{fb["positive"]} ={fb["neutral"]} -{fb["negative"]}</td></tr>
{contact}</table>
{key}
<h3>Policy</h3>
{text_block(r["terms"], "div", "policy")}
{mentions}
<h3>Products</h3>{self.table(mine)}"""
        return self.page(v, r["handle"], body)

