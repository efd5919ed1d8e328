// Bazaar Nova front end: every listing is rendered here from the JSON API; the HTML has none.
(function () {
  "use strict";
  var app = document.getElementById("app");
  var key = document.querySelector('meta[name="bz-k"]').getAttribute("content");
  var token = key.split("").reverse().join("");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function link(href, cls, text) { var a = el("a", cls, text); a.setAttribute("href", href); return a; }
  function api(path) {
    return fetch("/api/v1/" + path, { headers: { "X-Bazaar-Token": token, "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); });
  }
  function done() { document.body.setAttribute("data-ready", "1"); }
  function fail(err) { app.textContent = ""; app.appendChild(el("p", "error", "Error: " + err.message)); done(); }
  function pageArg() { var m = /[?&]p=(\d+)/.exec(location.search); return m ? parseInt(m[1], 10) : 1; }

  function crumbs(items) {
    var nav = el("nav", "crumbs");
    items.forEach(function (it, i) {
      if (i) { nav.appendChild(document.createTextNode(" › ")); }
      nav.appendChild(it[1] ? link(it[1], "crumb", it[0]) : el("span", "crumb", it[0]));
    });
    return nav;
  }
  function card(it) {
    var c = el("div", "card");
    c.setAttribute("data-id", it.id);
    var a = link("/item/" + encodeURIComponent(it.id), "item-link");
    a.appendChild(el("h3", "item-title", it.title));
    c.appendChild(a);
    c.appendChild(el("div", "price", it.price));
    c.appendChild(el("div", "fiat", it.price_fiat));
    c.appendChild(link("/shop/" + encodeURIComponent(it.vendor), "shop", it.vendor));
    return c;
  }
  function pager(base, page, pages) {
    var nav = el("nav", "pager");
    if (page > 1) { nav.appendChild(link(base + "?p=" + (page - 1), "prev", "‹ zurück")); }
    nav.appendChild(el("span", "pos", "Seite " + page + " / " + pages));
    if (page < pages) { nav.appendChild(link(base + "?p=" + (page + 1), "next", "weiter ›")); }
    return nav;
  }
  function grid(data, base) {
    var g = el("div", "grid");
    data.items.forEach(function (it) { g.appendChild(card(it)); });
    app.appendChild(el("p", "total", data.total + " Angebote"));
    app.appendChild(g);
    app.appendChild(pager(base, data.page, data.pages));
  }
  function home() {
    return api("categories").then(function (cats) {
      app.textContent = "";
      app.appendChild(el("h1", null, "Bazaar Nova"));
      var ul = el("ul", "categories");
      cats.forEach(function (c) {
        var li = el("li");
        li.appendChild(link("/c/" + c.slug, "cat", c.name));
        li.appendChild(el("span", "count", " (" + c.count + ")"));
        ul.appendChild(li);
      });
      app.appendChild(ul);
      app.appendChild(link("/all", "all", "Alle Angebote"));
    });
  }
  function listPage(cat) {
    var page = pageArg();
    var q = "listings?page=" + page + (cat ? "&cat=" + encodeURIComponent(cat) : "");
    return api(q).then(function (data) {
      app.textContent = "";
      app.appendChild(crumbs([["Bazaar Nova", "/"], [data.name, null]]));
      app.appendChild(el("h1", null, data.name));
      grid(data, cat ? "/c/" + cat : "/all");
    });
  }
  function row(dl, label, cls, value) {
    dl.appendChild(el("dt", null, label));
    dl.appendChild(el("dd", cls, value));
  }
  function item(id) {
    return api("item/" + encodeURIComponent(id)).then(function (it) {
      app.textContent = "";
      app.appendChild(crumbs([[it.breadcrumb[0], "/"], [it.breadcrumb[1], "/c/" + it.category_slug]]));
      var art = el("article", "item");
      art.setAttribute("data-id", it.external_id);
      art.appendChild(el("h1", "item-title", it.title));
      var price = el("div", "pricebox");
      price.appendChild(el("span", "price", it.price));
      price.appendChild(document.createTextNode(" "));
      price.appendChild(el("span", "fiat", it.price_fiat));
      art.appendChild(price);
      var dl = el("dl", "facts");
      row(dl, "Menge", "quantity", it.quantity + " " + it.unit);
      row(dl, "Lager", "stock", it.stock);
      row(dl, "Versand ab", "ships-from", it.ships_from);
      row(dl, "Versand nach", "ships-to", it.ships_to.join(", "));
      row(dl, "Treuhand", "escrow", it.escrow ? "Multisig-Escrow" : "FE");
      var dd = el("dd", "vendor");
      dd.appendChild(link(it.vendor_url, "shop", it.vendor));
      dl.appendChild(el("dt", null, "Verkäufer"));
      dl.appendChild(dd);
      art.appendChild(dl);
      var tiers = el("table", "tiers");
      it.price_options.forEach(function (o) {
        var tr = el("tr", "tier");
        tr.appendChild(el("td", "qty", o.quantity + " " + o.unit));
        tr.appendChild(el("td", "tier-price", o.price));
        tiers.appendChild(tr);
      });
      art.appendChild(tiers);
      art.appendChild(el("h2", null, "Beschreibung"));
      art.appendChild(el("div", "description", it.description));
      app.appendChild(art);
    });
  }
  function shop(handle) {
    return api("shop/" + encodeURIComponent(handle)).then(function (s) {
      app.textContent = "";
      app.appendChild(crumbs([["Bazaar Nova", "/"], [s.handle, null]]));
      var prof = el("section", "shop-profile");
      prof.appendChild(el("h1", "shop-name", s.handle));
      var dl = el("dl", "facts");
      row(dl, "Dabei seit", "member-since", s.member_since);
      row(dl, "Versand ab", "ships-from", s.ships_from);
      row(dl, "Angebote", "listing-count", s.listings);
      row(dl, "Bewertungen", "feedback", "+" + s.feedback.positive + " / ~" + s.feedback.neutral + " / -" + s.feedback.negative);
      Object.keys(s.contacts).forEach(function (k) { row(dl, k, "contact contact-" + k, s.contacts[k]); });
      prof.appendChild(dl);
      if (s.pgp_key) {
        if (s.pgp_fingerprint) { prof.appendChild(el("p", "fingerprint", s.pgp_fingerprint)); }
        prof.appendChild(el("pre", "pgp", s.pgp_key));
      }
      prof.appendChild(el("h2", null, "AGB"));
      prof.appendChild(el("div", "terms", s.terms));
      s.mentions.forEach(function (m) { prof.appendChild(el("p", "mention", "Auch auf " + m.site_name + ": " + m.handle)); });
      app.appendChild(prof);
      var g = el("div", "grid");
      s.items.forEach(function (it) { g.appendChild(card(it)); });
      app.appendChild(g);
    });
  }
  var path = location.pathname, m, job;
  if (path === "/") { job = home(); }
  else if (path === "/all") { job = listPage(null); }
  else if ((m = /^\/c\/([^\/]+)$/.exec(path))) { job = listPage(decodeURIComponent(m[1])); }
  else if ((m = /^\/item\/([^\/]+)$/.exec(path))) { job = item(decodeURIComponent(m[1])); }
  else if ((m = /^\/shop\/(.+)$/.exec(path))) { job = shop(decodeURIComponent(m[1])); }
  else { app.textContent = "Seite nicht gefunden"; done(); }
  if (job) { job.then(done, fail); }
})();
