"""Investigators' routes: search, listings with evidence, vendor accounts, clusters and link feedback.

Scraped bodies are never served as HTML from this origin: downloads are attachments, text views are
text/plain, screenshots are images whose type is checked from their bytes; all with `CSP: sandbox`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from storage.evidence import sha256_hex
from storage.evidence_bundle import ExportError, export_listing
from storage.models import ClusterFeedback, ClusterLink, utcnow
from web.app import DB, PageNo, Registrar, context_of, render
from web.auth import record
from web.entity_view import (
    cluster_detail,
    cluster_list,
    listing_detail,
    run_of_page,
    thread_detail,
    vendor_detail,
)
from web.exports import cluster_graphml, cluster_i2_csv, search_csv
from web.search_view import CATEGORIES, SearchParams, run_search, search_params, site_slugs, substance_ids

Params = Annotated[SearchParams, Depends(search_params)]
Singles = Annotated[bool, Query(description="Also list clusters of a single account (hidden by default)")]

SANDBOX = {"Content-Security-Policy": "sandbox; default-src 'none'", "X-Content-Type-Options": "nosniff"}
CSV_LIMIT = 10_000


class Decision(BaseModel):
    decision: Literal["confirm", "reject"] = Field(description="confirm: same trafficker; reject: not the same")
    note: str = Field("", max_length=2000, description="Why (kept in the feedback record and the audit log)")


def _attachment(name: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{name}"', **SANDBOX}


def _decide(request: Request, session: Session, link_id: int, decision: Decision) -> ClusterLink:
    from storage import audit

    who = request.state.principal.username
    # audit first: on SQLite it takes the write lock, so the chain and the decision land together
    audit.append(session, who, "feedback", f"link:{link_id}", {"decision": decision.decision,
                                                                "note": decision.note[:500]},
                 request.client.host if request.client else "unknown")
    link = session.get(ClusterLink, link_id)
    if link is None:
        session.rollback()
        raise HTTPException(404, f"no cluster link {link_id}")
    now = utcnow()
    session.add(ClusterFeedback(kind=decision.decision, account_a_id=link.account_a_id,
                                account_b_id=link.account_b_id, who=who, at=now, note=decision.note or None))
    link.decision = "confirmed" if decision.decision == "confirm" else "rejected"
    link.decided_by, link.decided_at = who, now
    session.commit()
    return link


def register(reg: Registrar) -> None:
    # --- search -----------------------------------------------------------------------------------------
    def searched(request: Request, session: Session, params: SearchParams) -> dict:
        result = run_search(session, params)
        record(request, "search", params.kind, {**params.audit_detail(), "total": result["total"]})
        return result

    @reg.page("/search", "search")
    def search_page(request: Request, params: Params,
                    session: DB):
        asked = bool(request.query_params)
        result = searched(request, session, params) if asked else None
        return render(request, "search.html", {
            "params": params, "result": result, "sites": site_slugs(session), "categories": CATEGORIES,
            "substances": substance_ids()}, title="Search")

    @reg.api("/search", "search", tag="search", summary="Full-text search of listings or forum posts")
    def search_api(request: Request, session: DB, params: Params):
        return searched(request, session, params)

    @reg.download("/search.csv", "search_csv", summary="Search results as CSV (up to 10,000 rows)")
    def search_export(request: Request, params: Params,
                      session: DB):
        params.page = 1
        result = run_search(session, params, limit=CSV_LIMIT, offset=0, count_limit=CSV_LIMIT)
        record(request, "export_search_csv", params.kind, {**params.audit_detail(), "total": result["total"],
                                                            "rows": len(result["results"])})
        headers = _attachment(f"narcowatch-{params.kind}.csv")
        headers["X-Total-Results"] = str(result["total"])
        return Response(search_csv(params.kind, result["results"]), media_type="text/csv; charset=utf-8",
                        headers=headers)

    # --- listings and their evidence -------------------------------------------------------------------
    def listing_data(request: Request, session: Session, listing_id: int) -> dict:
        data = listing_detail(session, listing_id)
        store = context_of(request).store
        for page in data["pages"]:
            # re-hash the stored body on every view: the page says whether the evidence still matches
            try:
                page["body_verified"] = sha256_hex(store.read_body(page["sha256"])) == page["sha256"]
            except OSError:
                page["body_verified"] = False
        record(request, "view_listing", f"listing:{listing_id}")
        return data

    @reg.page("/listings/{listing_id}", "listing")
    def listing_page(request: Request, session: DB, listing_id: int):
        data = listing_data(request, session, listing_id)
        return render(request, "listing.html", data, title=data["listing"]["title"][:80])

    @reg.api("/listings/{listing_id}", "listing", tag="listings", summary="A listing, its history and evidence")
    def listing_api(request: Request, session: DB, listing_id: int):
        return listing_data(request, session, listing_id)

    @reg.download("/listings/{listing_id}/bundle.zip", "listing_bundle", tag="evidence",
                  summary="The listing's evidence bundle (pages, WARC records, manifest, SHA256SUMS)")
    def listing_bundle(request: Request, session: DB, listing_id: int):
        who = request.state.principal.username
        fd, tmp = tempfile.mkstemp(suffix=".zip", prefix="nw-bundle-")
        os.close(fd)
        try:
            manifest = export_listing(session, context_of(request).store, listing_id, Path(tmp), exported_by=who)
        except ExportError as exc:
            os.unlink(tmp)
            raise HTTPException(404, str(exc)) from exc
        record(request, "export_evidence_bundle", f"listing:{listing_id}",
               {"pages": len(manifest["pages"]), "manifest_sha256": sha256_hex(
                   str(sorted(manifest["files"].items())).encode())})
        return FileResponse(tmp, media_type="application/zip", headers=_attachment(
            f"narcowatch-listing-{listing_id}-evidence.zip"), background=BackgroundTask(os.unlink, tmp))

    def _body(request: Request, session: Session, page_id: int, action: str) -> tuple[object, bytes]:
        page, _run = run_of_page(session, page_id)
        try:
            body = context_of(request).store.read_body(page.sha256)
        except OSError as exc:
            raise HTTPException(410, f"the body of page {page_id} ({page.sha256}) is missing from the evidence "
                                     "store; run `narcowatch evidence verify`") from exc
        record(request, action, f"page:{page_id}", {"sha256": page.sha256})
        return page, body

    @reg.download("/pages/{page_id}/body", "page_body", tag="evidence",
                  summary="A fetched body exactly as stored (attachment, never rendered)")
    def page_body(request: Request, session: DB, page_id: int):
        page, body = _body(request, session, page_id, "download_page_body")
        return Response(body, media_type="application/octet-stream",
                        headers=_attachment(f"page-{page_id}-{page.sha256[:12]}.bin"))

    @reg.download("/pages/{page_id}/text", "page_text", tag="evidence",
                  summary="A fetched body shown as plain text (source view; nothing is rendered or run)")
    def page_text(request: Request, session: DB, page_id: int):
        _page, body = _body(request, session, page_id, "view_page_text")
        return Response(body.decode("utf-8", errors="replace"), media_type="text/plain; charset=utf-8",
                        headers=SANDBOX)

    @reg.download("/pages/{page_id}/screenshot", "page_screenshot", tag="evidence",
                  summary="The page's screenshot (PNG or JPEG, type checked from the bytes)")
    def page_screenshot(request: Request, session: DB, page_id: int):
        page, _run = run_of_page(session, page_id)
        if not page.screenshot_sha256:
            raise HTTPException(404, f"page {page_id} has no screenshot (fetched in {page.fetch_mode} mode)")
        data = context_of(request).store.read_body(page.screenshot_sha256)
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            kind = "image/png"
        elif data.startswith(b"\xff\xd8\xff"):
            kind = "image/jpeg"
        else:  # not an image we know: never let a browser guess
            return Response(data, media_type="application/octet-stream",
                            headers=_attachment(f"screenshot-{page_id}.bin"))
        return Response(data, media_type=kind, headers={**SANDBOX, "Cache-Control": "private, max-age=3600"})

    # --- vendors, threads ------------------------------------------------------------------------------
    def vendor_data(request: Request, session: Session, account_id: int) -> dict:
        data = vendor_detail(session, account_id)
        record(request, "view_vendor", f"vendor:{account_id}", {"handle": data["account"]["handle"][:200],
                                                                 "site": data["account"]["site"]})
        return data

    @reg.page("/vendors/{account_id}", "vendor")
    def vendor_page(request: Request, session: DB, account_id: int):
        data = vendor_data(request, session, account_id)
        return render(request, "vendor.html", data, title=data["account"]["handle"][:80])

    @reg.api("/vendors/{account_id}", "vendor", tag="vendors", summary="A vendor account: identifiers, listings")
    def vendor_api(request: Request, session: DB, account_id: int):
        return vendor_data(request, session, account_id)

    @reg.page("/threads/{thread_id}", "thread")
    def thread_page(request: Request, session: DB, thread_id: int):
        data = thread_detail(session, thread_id)
        record(request, "view_thread", f"thread:{thread_id}")
        return render(request, "thread.html", data, title=data["thread"]["title"][:80])

    @reg.api("/threads/{thread_id}", "thread", tag="posts", summary="A forum thread with its posts")
    def thread_api(request: Request, session: DB, thread_id: int):
        data = thread_detail(session, thread_id)
        record(request, "view_thread", f"thread:{thread_id}")
        return data

    # --- clusters --------------------------------------------------------------------------------------
    @reg.page("/clusters", "clusters")
    def clusters_page(request: Request, session: DB, page: PageNo = 1, singles: Singles = False):
        return render(request, "clusters.html", cluster_list(session, page, min_size=1 if singles else 2),
                      title="Vendor clusters")

    @reg.api("/clusters", "clusters", tag="clusters", summary="Vendor clusters, largest first")
    def clusters_api(session: DB, page: PageNo = 1, singles: Singles = False):
        return cluster_list(session, page, min_size=1 if singles else 2)

    def cluster_data(request: Request, session: Session, cluster_id: str, action: str = "view_cluster") -> dict:
        data = cluster_detail(session, cluster_id)
        record(request, action, f"cluster:{cluster_id}", {"members": len(data["members"])})
        return data

    @reg.page("/clusters/{cluster_id}", "cluster")
    def cluster_page(request: Request, session: DB, cluster_id: str):
        data = cluster_data(request, session, cluster_id)
        return render(request, "cluster.html", data, title=f"Cluster {cluster_id}")

    @reg.api("/clusters/{cluster_id}", "cluster", tag="clusters",
             summary="A cluster: members across sites, links with evidence and confidence, feedback")
    def cluster_api(request: Request, session: DB, cluster_id: str):
        return cluster_data(request, session, cluster_id)

    @reg.download("/clusters/{cluster_id}/graph.graphml", "cluster_graphml",
                  summary="The cluster's link chart as GraphML (Gephi, Maltego)")
    def cluster_graph(request: Request, session: DB, cluster_id: str):
        data = cluster_data(request, session, cluster_id, "export_cluster_graphml")
        return Response(cluster_graphml(data), media_type="application/graphml+xml",
                        headers=_attachment(f"cluster-{cluster_id}.graphml"))

    @reg.download("/clusters/{cluster_id}/i2.csv", "cluster_i2",
                  summary="The cluster's links as CSV for i2 Analyst's Notebook import")
    def cluster_i2(request: Request, session: DB, cluster_id: str):
        data = cluster_data(request, session, cluster_id, "export_cluster_i2")
        return Response(cluster_i2_csv(data), media_type="text/csv; charset=utf-8",
                        headers=_attachment(f"cluster-{cluster_id}-i2.csv"))

    @reg.page("/links/{link_id}/decision", "link_decision", methods=("POST",))
    def decide_form(request: Request, session: DB, link_id: int,
                    decision: Annotated[Literal["confirm", "reject"], Form()],
                    note: Annotated[str, Form(max_length=2000)] = "", back: Annotated[str, Form()] = ""):
        _decide(request, session, link_id, Decision(decision=decision, note=note))
        target = back if back.startswith("/clusters/") and "//" not in back else "/clusters"
        return RedirectResponse(f"{target}#link-{link_id}", status_code=303)

    @reg.api("/links/{link_id}/decision", "link_decision", methods=("POST",), tag="clusters",
             summary="Confirm or reject a link (writes cluster feedback; re-clustering replays it)")
    def decide_api(request: Request, session: DB, link_id: int, decision: Decision):
        link = _decide(request, session, link_id, decision)
        return {"id": link.id, "decision": link.decision, "decided_by": link.decided_by,
                "decided_at": link.decided_at}
