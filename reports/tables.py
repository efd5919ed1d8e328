"""The report's tables, defined once: CSV files, the XLSX workbook, the HTML and the PDF all render these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    name: str  # file stem and sheet name
    title: str
    columns: list[tuple[str, str]]  # (key in the row, header)
    rows: list[dict]
    note: str = ""

    def values(self, row: dict) -> list:
        return [row.get(key) for key, _ in self.columns]

    @property
    def headers(self) -> list[str]:
        return [header for _, header in self.columns]


def _trend_cols(summary: dict) -> list[tuple[str, str]]:
    return [(f"trend:{w}", w) for w in summary["trend_weeks"]]


def _flat_trend(rows: list[dict]) -> list[dict]:
    return [{**r, **{f"trend:{w}": v for w, v in r["trend"].items()}} for r in rows]


def build_tables(summary: dict) -> list[Table]:
    cur = summary["currency"]["reporting_currency"]
    t = summary["totals"]
    q = summary["data_quality"]
    activity = [("active", "Active"), ("active_prev", "Active prev. week"), ("active_change", "Change"),
                ("new", "New"), ("new_prev", "New prev. week"), ("vanished", "Vanished"),
                ("vanished_prev", "Vanished prev. week")]
    totals = [
        {"metric": "Active listings", "value": t["active"], "prev": t["active_prev"]},
        {"metric": "New listings", "value": t["new"], "prev": t["new_prev"]},
        {"metric": "Vanished listings", "value": t["vanished"], "prev": t["vanished_prev"]},
        {"metric": "Vendor accounts with active listings", "value": t["active_vendors"],
         "prev": t["active_vendors_prev"]},
        {"metric": "New vendor accounts", "value": summary["vendors"]["new_accounts"],
         "prev": summary["vendors"]["new_accounts_prev"]},
        {"metric": "Forum posts", "value": t["forum_posts"], "prev": t["forum_posts_prev"]},
    ]
    for row in totals:
        row["change"] = row["value"] - row["prev"]
    price_cols = [("listings", "Listings"), ("median", f"Median {cur}"), ("median_prev", "Median prev. week"),
                  ("change_pct", "Change %")]
    clusters = summary["clusters"]
    cluster_rows = [{**r, "accounts": ", ".join(r["accounts"]), "sites_active": ", ".join(r["sites_active"]),
                     "n_sites": len(r["sites_active"])} for r in clusters["top_by_listings"]]
    multi_rows = [{**r, "accounts": ", ".join(r["accounts"]), "sites_active": ", ".join(r["sites_active"]),
                   "n_sites": len(r["sites_active"])} for r in clusters["multi_site"]]
    no_clusters = "" if clusters["computed"] else "No vendor clusters computed yet."
    cov = [{**r, "failed_days": ", ".join(r["failed_days"]), "reasons": "; ".join(r["reasons"]),
            "last_ok_run": r["last_ok_run"][:16].replace("T", " ") + " UTC" if r["last_ok_run"] else "never"}
           for r in summary["coverage"]["sites"]]
    quality = [
        {"measure": "Active listings", "listings": q["active_listings"], "pct": 100.0 if q["active_listings"] else 0.0},
        {"measure": "Without usable price", "listings": q["without_price"], "pct": q["without_price_pct"]},
        {"measure": "Without origin", "listings": q["without_origin"], "pct": q["without_origin_pct"]},
        {"measure": "Without identified substance", "listings": q["without_substance"],
         "pct": q["without_substance_pct"]},
        {"measure": "Without category", "listings": q["unclassified"], "pct": q["unclassified_pct"]},
    ]
    emerging = summary["emerging_terms"]
    em_cols = [("mentions", "Mentions this week"), ("listings", "New listings"), ("posts", "Forum posts"),
               ("mentions_before", "Mentions in 8 weeks before")]
    return [
        Table("totals", "Key figures", [("metric", "Measure"), ("value", "This week"), ("prev", "Previous week"),
                                        ("change", "Change")], totals),
        Table("by_category", "Listings by category", [("category", "Category"), *activity], summary["by_category"]),
        Table("by_substance", "Listings by substance", [("substance", "Substance"), *activity], summary["by_substance"]),
        Table("prices_by_substance", f"Median price per gram / ml / unit by substance ({cur})",
              [("substance", "Substance"), ("basis", "Per"), *price_cols, *_trend_cols(summary)],
              _flat_trend(summary["prices_by_substance"])),
        Table("prices_by_substance_origin", f"Median price per gram / ml / unit by substance and origin ({cur})",
              [("substance", "Substance"), ("origin", "Origin"), ("basis", "Per"), *price_cols, *_trend_cols(summary)],
              _flat_trend(summary["prices_by_substance_origin"])),
        Table("routes", "Routes: origin to destination (active listings)",
              [("origin", "Origin"), ("destination", "Destination"), ("listings", "Listings"),
               ("listings_prev", "Listings prev. week")], summary["routes"]["matrix"]),
        Table("top_corridors", "Top corridors", [("origin", "Origin"), ("destination", "Destination"),
                                                 ("listings", "Listings"), ("listings_prev", "Listings prev. week")],
              summary["routes"]["top_corridors"]),
        Table("new_vendors", "New vendor accounts", [("site", "Site"), ("handle", "Handle"),
                                                     ("first_seen", "First seen"),
                                                     ("active_listings", "Active listings")],
              summary["vendors"]["new"]),
        Table("clusters_top", "Vendor clusters with most active listings",
              [("cluster", "Cluster"), ("listings", "Active listings"), ("n_sites", "Sites"),
               ("sites_active", "Active on"), ("accounts", "Accounts"), ("confidence", "Confidence")],
              cluster_rows, no_clusters),
        Table("clusters_multi_site", "Vendor clusters active on two or more sites",
              [("cluster", "Cluster"), ("n_sites", "Sites"), ("sites_active", "Active on"),
               ("listings", "Active listings"), ("accounts", "Accounts"), ("confidence", "Confidence")],
              multi_rows, no_clusters),
        Table("emerging_substances", "Emerging substances", [("substance", "Substance"), *em_cols],
              emerging["substances"]),
        Table("emerging_terms", "Unknown drug-like terms", [("term", "Term"), *em_cols], emerging["unknown_terms"]),
        Table("forum_signals", "Forum mentions per substance",
              [("substance", "Substance"), ("posts", "Posts"), ("posts_prev", "Posts prev. week"),
               ("change", "Change"), ("threads", "Threads")], summary["forum"]),
        Table("coverage", "Crawl coverage by site",
              [("site", "Site"), ("name", "Name"), ("kind", "Kind"), ("status", "Status"), ("runs", "Runs"),
               ("ok_runs", "Successful"), ("failed_runs", "Failed"), ("days_crawled", "Days crawled"),
               ("failed_days", "Failed on"), ("last_ok_run", "Last successful crawl"),
               ("listings_active", "Active listings"), ("reasons", "Failure reasons")], cov),
        Table("data_quality", "Data quality (active listings)",
              [("measure", "Measure"), ("listings", "Listings"), ("pct", "%")], quality),
    ]
