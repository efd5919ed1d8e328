"""Exports: search results as CSV, a cluster's link chart as GraphML (Gephi, Maltego) and as an i2 Analyst's
Notebook import CSV (one row per link: entity 1, link, entity 2).

Scraped text goes into spreadsheets, so every CSV cell that a spreadsheet would read as a formula
(=, +, -, @, tab, CR) is prefixed with an apostrophe: a vendor's title cannot run a formula on an
investigator's machine.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import datetime
from decimal import Decimal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        value = ";".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    elif isinstance(value, (bool, int, float, Decimal)):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(header: list[str], rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


LISTING_COLUMNS = ["id", "site", "title", "url", "vendor", "category", "substances", "price", "currency", "quantity",
                   "unit", "price_per_unit", "ships_from", "ships_to", "first_seen", "last_seen", "active"]
POST_COLUMNS = ["id", "site", "thread", "author", "posted_at", "category", "substances", "text"]


def search_csv(kind: str, rows: list[dict]) -> str:
    columns = POST_COLUMNS if kind == "posts" else LISTING_COLUMNS
    return "\ufeff" + to_csv(columns, [[r.get(c) for c in columns] for r in rows])  # BOM: Excel reads UTF-8


def _node_id(account: dict) -> str:
    return f"account-{account['id']}"


def _label(account: dict) -> str:
    return f"{account['handle']} @ {account['site']}"


def cluster_graphml(detail: dict) -> bytes:
    """Nodes: vendor accounts (site, handle, url, member of this cluster or not). Edges: links with score,
    decision, the evidence sentence and the evidence as JSON."""
    ns = "http://graphml.graphdrawing.org/xmlns"
    ET.register_namespace("", ns)
    root = ET.Element(f"{{{ns}}}graphml")
    keys = [("label", "node", "string"), ("site", "node", "string"), ("handle", "node", "string"),
            ("url", "node", "string"), ("member", "node", "boolean"), ("first_seen", "node", "string"),
            ("last_seen", "node", "string"),
            ("label", "edge", "string"), ("score", "edge", "double"), ("decision", "edge", "string"),
            ("sentence", "edge", "string"), ("evidence", "edge", "string")]
    for name, domain, kind in keys:
        ET.SubElement(root, f"{{{ns}}}key", {"id": f"{domain[0]}_{name}", "for": domain, "attr.name": name,
                                              "attr.type": kind})
    graph = ET.SubElement(root, f"{{{ns}}}graph", {"id": f"cluster-{detail['cluster']['id']}",
                                                   "edgedefault": "undirected"})
    member_ids = {m["id"] for m in detail["members"]}
    links = detail["links"] + detail["outside_links"]
    accounts = {m["id"]: m for m in detail["members"]}
    for link in links:
        accounts.setdefault(link["a"]["id"], link["a"])
        accounts.setdefault(link["b"]["id"], link["b"])

    def data(parent: ET.Element, key: str, value) -> None:
        if value is not None:
            ET.SubElement(parent, f"{{{ns}}}data", {"key": key}).text = str(value)

    for account in sorted(accounts.values(), key=lambda a: a["id"]):
        node = ET.SubElement(graph, f"{{{ns}}}node", {"id": _node_id(account)})
        data(node, "n_label", _label(account))
        data(node, "n_site", account["site"])
        data(node, "n_handle", account["handle"])
        data(node, "n_url", account.get("url"))
        data(node, "n_member", "true" if account["id"] in member_ids else "false")
        data(node, "n_first_seen", cell(account.get("first_seen")))
        data(node, "n_last_seen", cell(account.get("last_seen")))
    for link in links:
        edge = ET.SubElement(graph, f"{{{ns}}}edge", {"id": f"link-{link['id']}", "source": _node_id(link["a"]),
                                                      "target": _node_id(link["b"])})
        data(edge, "e_label", f"same trafficker? {link['score']:.2f}")
        data(edge, "e_score", f"{link['score']:.4f}")
        data(edge, "e_decision", link["decision"] or "undecided")
        data(edge, "e_sentence", link["sentence"])
        data(edge, "e_evidence", json.dumps(link["evidence"], ensure_ascii=False, sort_keys=True))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


I2_COLUMNS = ["Entity1_ID", "Entity1_Type", "Entity1_Label", "Entity1_Site", "Entity1_Handle",
              "Link_ID", "Link_Label", "Link_Score", "Link_Decision", "Link_Evidence",
              "Entity2_ID", "Entity2_Type", "Entity2_Label", "Entity2_Site", "Entity2_Handle", "Cluster_ID"]


def cluster_i2_csv(detail: dict) -> str:
    """i2 Analyst's Notebook: import with one entity type 'Vendor Account' on both ends, identity from
    Entity*_ID, label from Entity*_Label, link label from Link_Label, attributes from the other columns."""
    rows = []
    for link in detail["links"] + detail["outside_links"]:
        a, b = link["a"], link["b"]
        rows.append([_node_id(a), "Vendor Account", _label(a), a["site"], a["handle"],
                     f"link-{link['id']}", f"same trafficker? {link['score']:.2f} ({link['decision'] or 'undecided'})",
                     f"{link['score']:.4f}", link["decision"] or "undecided", link["sentence"],
                     _node_id(b), "Vendor Account", _label(b), b["site"], b["handle"], detail["cluster"]["id"]])
    return "\ufeff" + to_csv(I2_COLUMNS, rows)
