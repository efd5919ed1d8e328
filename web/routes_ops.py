"""Cyber unit (sites, schedules, runs), drug desk (weekly reports) and admin (audit log, users) routes."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import FileResponse

from storage.audit import verify_chain
from web.app import DB, OptStr, PageNo, Registrar, context_of, render
from web.auth import record
from web.ops_view import audit_page, report_path, reports_index, site_detail, sites_overview, users_overview

# how each report file is served: generated HTML is shown sandboxed (no scripts, opaque origin) because it
# quotes scraped titles; everything else is a download
REPORT_TYPES = {".html": ("text/html; charset=utf-8", False), ".pdf": ("application/pdf", True),
                ".csv": ("text/csv; charset=utf-8", True), ".json": ("application/json", False),
                ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", True)}
REPORT_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"


def register(reg: Registrar) -> None:
    @reg.page("/sites", "sites")
    def sites_page(session: DB, request: Request):
        return render(request, "sites.html", sites_overview(session), title="Sites")

    @reg.api("/sites", "sites", tag="sites", summary="Sites with their schedules, last run and active listings")
    def sites_api(session: DB):
        return sites_overview(session)

    @reg.page("/sites/{site_id}", "site")
    def site_page(request: Request, session: DB, site_id: int):
        data = site_detail(session, site_id)
        return render(request, "site.html", data, title=data["site"]["name"])

    @reg.api("/sites/{site_id}", "site", tag="sites", summary="A site: schedules, crawl runs, job runs, errors")
    def site_api(session: DB, site_id: int):
        return site_detail(session, site_id)

    @reg.page("/reports", "reports")
    def reports_page(request: Request):
        return render(request, "reports.html", reports_index(context_of(request).reports_dir), title="Reports")

    @reg.api("/reports", "reports", tag="reports", summary="Weekly reports on disk with their files")
    def reports_api(request: Request):
        return reports_index(context_of(request).reports_dir)

    @reg.download("/reports/{week}/{name}", "report_file", tag="reports", summary="One file of a weekly report")
    def report_file(request: Request, week: str, name: str):
        path = report_path(context_of(request).reports_dir, week, name)
        media, attach = REPORT_TYPES.get(path.suffix.lower(), ("application/octet-stream", True))
        record(request, "download_report", f"report:{week}/{name}")
        headers = {"Content-Security-Policy": REPORT_CSP, "X-Content-Type-Options": "nosniff"}
        if attach:
            headers["Content-Disposition"] = f'attachment; filename="{week}-{name}"'
        return FileResponse(path, media_type=media, headers=headers)

    @reg.page("/admin/audit", "audit")
    def audit_view(request: Request, session: DB, user: OptStr = None, action: OptStr = None,
                   page: PageNo = 1):
        data = audit_page(session, user or None, action or None, page)
        record(request, "view_audit", None, {k: v for k, v in {"user": user, "action": action, "page": page}.items() if v})
        return render(request, "audit.html", {**data, "user": user or "", "action": action or "",
                                              "problems": None}, title="Audit log")

    @reg.api("/admin/audit", "audit", tag="admin", summary="The audit log, newest first (admins only)")
    def audit_api(request: Request, session: DB, user: OptStr = None, action: OptStr = None,
                  page: PageNo = 1):
        record(request, "view_audit", None, {k: v for k, v in {"user": user, "action": action, "page": page}.items() if v})
        return audit_page(session, user or None, action or None, page)

    @reg.page("/admin/audit/verify", "audit_verify")
    def audit_verify_page(session: DB, request: Request):
        problems = verify_chain(session)
        record(request, "verify_audit", None, {"problems": len(problems)})
        data = audit_page(session, None, None, 1)
        return render(request, "audit.html", {**data, "user": "", "action": "", "problems": problems},
                      title="Audit log")

    @reg.api("/admin/audit/verify", "audit_verify", tag="admin",
             summary="Recompute the audit log's hash chain; lists every problem found")
    def audit_verify_api(session: DB, request: Request):
        problems = verify_chain(session)
        record(request, "verify_audit", None, {"problems": len(problems)})
        return {"intact": not problems, "problems": problems}

    @reg.page("/admin/users", "users")
    def users_page(session: DB, request: Request):
        return render(request, "users.html", users_overview(session), title="Users")

    @reg.api("/admin/users", "users", tag="admin", summary="Users, roles and API tokens (never the tokens)")
    def users_api(session: DB):
        return users_overview(session)
