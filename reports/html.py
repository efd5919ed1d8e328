"""report.html: one self-contained page (inline CSS, charts as base64 SVG images, no scripts, no external
assets). Every scraped string (titles, handles, terms, failure reasons) is HTML-escaped."""

from __future__ import annotations

import base64
from html import escape

from reports.tables import Table

CSS = """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;color:#1d1d1d;margin:0;background:#f4f6f8;font-size:14px}
main{max-width:1060px;margin:0 auto;background:#fff;padding:28px 40px 48px}
header{border-bottom:3px solid #1f4e79;padding-bottom:12px;margin-bottom:18px}
h1{font-size:24px;margin:0 0 4px;color:#1f4e79}
h2{font-size:19px;color:#1f4e79;border-bottom:1px solid #d5dde6;padding-bottom:4px;margin-top:34px}
h3{font-size:15px;margin:20px 0 6px}
.sub{color:#555;margin:2px 0}
.notes{background:#fff8e1;border-left:5px solid #e0a526;padding:10px 16px;margin:14px 0}
.notes.clear{background:#edf7ed;border-left-color:#2e7d32}
.notes li{margin:4px 0}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{flex:1 1 150px;border:1px solid #d5dde6;border-radius:6px;padding:10px 12px}
.card .v{font-size:24px;font-weight:bold;color:#1f4e79}
.card .l{color:#555;font-size:12px}
.card .d{font-size:12px;color:#555}
table{border-collapse:collapse;width:100%;margin:6px 0 4px;font-size:12.5px}
th,td{border-bottom:1px solid #e3e7ec;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef2f7;font-weight:bold}
td:first-child{white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr:nth-child(even) td{background:#fafbfc}
.more{color:#666;font-size:12px;margin:2px 0 10px}
figure{margin:14px 0}
figure img{width:100%;height:auto;border:1px solid #eef0f3}
.empty{color:#555;font-style:italic}
.pos{color:#2e7d32}.neg{color:#c62828}
footer{margin-top:36px;color:#555;font-size:12px;border-top:1px solid #d5dde6;padding-top:10px}
code{background:#f0f2f5;padding:0 3px}
@media print{body{background:#fff}main{padding:0}figure{break-inside:avoid}}
"""


def fmt(value, key: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if key.endswith("pct") or key == "pct":
            return f"{value:+.1f}" if "change" in key else f"{value:.1f}"
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:+,d}" if "change" in key else f"{value:,d}"
    return str(value)


def table_html(table: Table, limit: int | None = None, empty: str = "None this week.") -> str:
    if not table.rows:
        return f'<p class="empty">{escape(table.note or empty)}</p>'
    rows = table.rows if limit is None else table.rows[:limit]
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    body = []
    for row in rows:
        cells = []
        for key, _ in table.columns:
            value = row.get(key)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            css = ["n"] if numeric or value is None else []
            if numeric and "change" in key and value:
                css.append("pos" if value > 0 else "neg")
            cls = f' class="{" ".join(css)}"' if css else ""
            cells.append(f"<td{cls}>{escape(fmt(value, key))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if limit is not None and len(table.rows) > limit:
        more = (f'<p class="more">Showing {limit} of {len(table.rows)} rows; all rows are in '
                f"<code>{escape(table.name)}.csv</code> and the workbook.</p>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def figure_html(svg: bytes, alt: str) -> str:
    data = base64.b64encode(svg).decode("ascii")
    return f'<figure><img alt="{escape(alt)}" src="data:image/svg+xml;base64,{data}"></figure>'


def render_html(summary: dict, tables: dict[str, Table], charts: dict[str, bytes]) -> str:
    s = summary
    t = s["totals"]
    cur = s["currency"]["reporting_currency"]
    period = f"{s['period']['start']} to {s['period']['end']} (Monday to Sunday, UTC)"
    notes = s["notes"]
    if notes:
        notes_html = ('<div class="notes"><strong>What to know about this week</strong><ul>'
                      + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul></div>")
    else:
        notes_html = '<div class="notes clear">All monitored sites were crawled successfully this week.</div>'

    def card(label: str, value: int, prev: int) -> str:
        d = value - prev
        return (f'<div class="card"><div class="v">{value:,d}</div><div class="l">{escape(label)}</div>'
                f'<div class="d">{d:+,d} vs previous week ({prev:,d})</div></div>')
    cards = "".join([card("active listings", t["active"], t["active_prev"]),
                     card("new listings", t["new"], t["new_prev"]),
                     card("vanished listings", t["vanished"], t["vanished_prev"]),
                     card("vendor accounts active", t["active_vendors"], t["active_vendors_prev"]),
                     card("forum posts", t["forum_posts"], t["forum_posts_prev"])])
    em = s["emerging_terms"]
    if em["baseline_weeks"] == 0:
        emerging = ('<p class="empty">No baseline yet: there is no crawl data in the 8 weeks before this week, so '
                    "no term can be called emerging.</p>")
    else:
        emerging = ("<h3>Substances</h3>" + table_html(tables["emerging_substances"], 30,
                                                          "No substance was seen this week that was rare before.")
                    + "<h3>Unknown drug-like terms</h3>" + table_html(tables["emerging_terms"], 30,
                                                                     "No unknown drug-like term this week."))
    clusters = s["clusters"]
    if clusters["computed"]:
        cluster_html = (f"<p>{clusters['clusters']:,d} clusters stored.</p><h3>Most active listings</h3>"
                        + table_html(tables["clusters_top"], 10, "No cluster had active listings this week.")
                        + "<h3>Active on two or more sites</h3>"
                        + table_html(tables["clusters_multi_site"], 25, "No cluster was active on two or more sites."))
    else:
        cluster_html = '<p class="empty">No vendor clusters computed yet.</p>'
    cov = s["coverage"]
    extra = ""
    if cov["job_failures"]:
        extra += "<h3>Failed scheduled jobs</h3><ul>" + "".join(
            f"<li>{escape(j['started_at'][:16])} {escape(j['name'])}: {escape(j['status'])} {escape(j['reason'])}</li>"
            for j in cov["job_failures"]) + "</ul>"
    if cov["alerts"]:
        extra += "<h3>Alerts</h3><ul>" + "".join(
            f"<li>{escape(a['created_at'][:16])} {escape(a['kind'])} {escape(a['site'] or '')}: {escape(a['message'])}</li>"
            for a in cov["alerts"]) + "</ul>"
    rates = ", ".join(f"1 {escape(k)} = {escape(v)} {escape(cur)}" for k, v in s["currency"]["rates"].items())
    files = ", ".join(f"<code>{escape(name)}.csv</code>" for name in tables)
    body = f"""
<header><h1>Weekly drug-market trend report: {escape(s['week'])}</h1>
<p class="sub">{escape(period)}. Compared with {escape(s['previous_week'])}. Prices in {escape(cur)} at fixed
reference rates.</p></header>
{notes_html}
<h2>Key figures</h2>
<div class="cards">{cards}</div>
{table_html(tables['totals'])}

<h2>1. Listings by category and substance</h2>
{figure_html(charts['activity_by_category'], 'Active listings by category, this week and the previous week')}
{figure_html(charts['churn_by_category'], 'New and vanished listings by category')}
<h3>By category</h3>{table_html(tables['by_category'])}
<h3>By substance</h3>{table_html(tables['by_substance'], 30)}

<h2>2. Prices</h2>
<p>Median asking price per gram, millilitre or unit (pill, blotter, vial...) of the listings active this week,
in {escape(cur)}, with the previous 7 weeks.</p>
{figure_html(charts['price_trend'], 'Median price trend of the most listed substances over 8 weeks')}
<h3>By substance</h3>{table_html(_no_trend(tables['prices_by_substance']), 30)}
<h3>By substance and origin country</h3>{table_html(_no_trend(tables['prices_by_substance_origin']), 30)}

<h2>3. Routes</h2>
{figure_html(charts['routes_heatmap'], 'Origin to destination matrix of active listings')}
{figure_html(charts['top_corridors'], 'Top corridors')}
{table_html(tables['top_corridors'])}

<h2>4. Vendors</h2>
<h3>New vendor accounts ({s['vendors']['new_accounts']:,d}; previous week {s['vendors']['new_accounts_prev']:,d})</h3>
{table_html(tables['new_vendors'], 30, 'No new vendor account this week.')}
<h3>Vendor clusters</h3>{cluster_html}

<h2>5. Emerging terms (early warning)</h2>
<p>Substances and unknown drug-like terms mentioned in new listings or forum posts this week and at most once in
the 8 weeks before ({em['baseline_weeks']} of those weeks have data).</p>
{emerging}

<h2>6. Forum signals</h2>
{figure_html(charts['forum_signals'], 'Forum mentions per substance')}
{table_html(tables['forum_signals'], 30, 'No forum post mentioned a substance this week.')}

<h2>7. Coverage and data quality</h2>
{figure_html(charts['coverage'], 'Successful and failed crawl runs per site')}
{table_html(tables['coverage'], None, 'No site is monitored.')}
{extra}
<h3>Data quality</h3>{table_html(tables['data_quality'])}

<footer>
<p><strong>Definitions.</strong> Week: ISO week, Monday 00:00 to Sunday 24:00 UTC. Active: seen in at least one
crawl of the week. New: first seen this week. Vanished: no longer shown by its site at a crawl this week. Price:
asking price divided by the quantity offered (first price tier), converted at fixed rates ({rates}; as of
{escape(s['currency']['as_of'])}). Full definitions: docs/report.md.</p>
<p>Files: <code>summary.json</code> (every figure), <code>report.xlsx</code> (one sheet per table), {files},
<code>report.pdf</code>.</p>
</footer>"""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>narcowatch weekly report {escape(s['week'])}</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")


def _no_trend(table: Table) -> Table:
    cols = [c for c in table.columns if not c[0].startswith("trend:")]
    return Table(table.name, table.title, cols, table.rows, table.note)
