"""Market B ("Bazaar Nova"): a single-page app. The HTML is an empty shell; `app.js` fetches the JSON
API (which wants an `X-Bazaar-Token` header computed in the page) and renders every listing, so a plain
HTTP fetch of a page sees no listings at all.

Conventions differ from A: prices in XMR or BTC with comma decimals and a euro estimate
('0,3120 XMR', '≈ 48,15 €'), quantities with comma decimals, ISO country codes, German UI labels.
Routes (all serve the same shell): /, /all?p=N, /c/<slug>?p=N (24 per page), /item/<id>, /shop/<handle>.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from testbed import vocab
from testbed.httpbase import Request, Response, esc
from testbed.sites.common import State, external_links
from testbed.view import B_NAMES, KEY_ONLY_LISTING, KEY_ONLY_VENDOR, slug
from testbed.world import SITE_NAMES

PER_PAGE = 24
NAME = SITE_NAMES["market_b"]
APP_JS = (Path(__file__).with_name("market_b_app.js")).read_bytes()
CSS = b"body{font-family:sans-serif;background:#fafafa}.grid{display:flex;flex-wrap:wrap}.card{width:220px;margin:6px}"
CATS = {slug(name): name for name in dict.fromkeys(B_NAMES[p] for p, _c in vocab.GROUPS.values())}


def _json(data: object, status: int = 200) -> Response:
    return Response(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")


class MarketB:
    site_id = "market_b"

    def __init__(self, state: State) -> None:
        self.state = state

    def token_key(self, v) -> str:
        return hashlib.sha256(f"bazaar/{v.seed}/{v.day}".encode()).hexdigest()[:24]

    def handle(self, req: Request) -> Response:
        v = self.state.view()
        p = req.path
        if p == "/static/app.js":
            return Response(200, APP_JS, "application/javascript; charset=utf-8")
        if p == "/static/bazaar.css":
            return Response(200, CSS, "text/css")
        if not v.up[self.site_id]:
            if p.startswith("/api/"):
                return _json({"error": "maintenance"}, 503)
            return Response(503, self.shell(v, down=True).encode(), headers=[("Retry-After", "3600")])
        if p.startswith("/api/v1/"):
            if req.headers.get("x-bazaar-token") != self.token_key(v)[::-1]:
                return _json({"error": "forbidden: missing or wrong X-Bazaar-Token"}, 403)
            return self.api(v, p[len("/api/v1/"):], req)
        if p == "/favicon.ico":
            return Response(404, b"", "image/x-icon")
        return Response(200, self.shell(v).encode())

    def shell(self, v, down: bool = False) -> str:
        inner = ('<h1>Bazaar Nova wird gewartet</h1><p>Wartungsarbeiten, bitte später wiederkommen.</p>' if down else
                 '<p class="loading">Bazaar Nova lädt&hellip;</p><noscript>Bazaar Nova braucht JavaScript.</noscript>')
        script = "" if down else '<script src="/static/app.js"></script>'
        return f"""<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>{NAME}</title>
<meta name="bz-k" content="{esc(self.token_key(v))}">
<link rel="stylesheet" href="/static/bazaar.css"></head>
<body>
<div id="app">{inner}</div>
<footer>{external_links()}</footer>
{script}
</body></html>"""

    def summary(self, r: dict) -> dict:
        return {"id": r["external_id"], "title": r["title"], "price": r["price"], "price_fiat": r["price_fiat"],
                "vendor": r["vendor"]}

    def api(self, v, rest: str, req: Request) -> Response:
        items = v.listings[self.site_id]
        if rest == "categories":
            return _json([{"slug": s, "name": n, "count": sum(1 for r in items if r["breadcrumb"][1] == n)}
                          for s, n in CATS.items()])
        if rest == "listings":
            cat = req.arg("cat")
            name = CATS.get(cat, "Alle Angebote") if cat else "Alle Angebote"
            if cat and cat not in CATS:
                return _json({"error": f"unknown category {cat!r}"}, 404)
            chosen = [r for r in items if not cat or r["breadcrumb"][1] == name]
            page = max(1, req.int_arg("page"))
            pages = max(1, (len(chosen) + PER_PAGE - 1) // PER_PAGE)
            chunk = chosen[(page - 1) * PER_PAGE: page * PER_PAGE]
            return _json({"name": name, "page": page, "pages": pages, "total": len(chosen),
                          "items": [self.summary(r) for r in chunk]})
        if rest.startswith("item/"):
            r = v.listing_by_id.get((self.site_id, rest[len("item/"):]))
            if r is None:
                return _json({"error": "not found"}, 404)
            shown = {k: val for k, val in r.items() if k not in KEY_ONLY_LISTING}
            return _json({**shown, "category_slug": slug(r["breadcrumb"][1])})
        if rest.startswith("shop/"):
            handle = rest[len("shop/"):]
            s = v.vendor_by_handle.get((self.site_id, handle))
            if s is None:
                return _json({"error": "not found"}, 404)
            mine = [self.summary(r) for r in items if r["vendor"] == handle]
            mentions = [{**m, "site_name": SITE_NAMES[m["site"]]} for m in s["mentions"]]
            shown = {k: val for k, val in s.items() if k not in KEY_ONLY_VENDOR}
            return _json({**shown, "mentions": mentions, "items": mine})
        return _json({"error": "unknown endpoint"}, 404)
