"""Coverage (which sites were crawled, which failed or went dark), data quality, and the plain-words notes
that tell the reader what a figure can and cannot show this week."""

from __future__ import annotations

from reports.data import RunRow
from reports.summary import NO_ORIGIN, Summary, _origin, _share
from reports.weeks import Week

PROBLEM_WORDS = {"no_price": "no price", "no_quantity": "no quantity", "unknown_unit": "a unit we cannot convert",
                 "no_rate": "a currency without a rate in the table"}


def _runs(s: Summary, site_id: int, week: Week) -> list[RunRow]:
    return [r for r in s.ds.runs if r.site_id == site_id and week.contains(r.started_at)]


def site_status(s: Summary, site_id: int, week: Week) -> str:
    runs = _runs(s, site_id, week)
    if not any(r.ok for r in runs):
        return "dark"
    return "failed" if any(r.status == "failed" for r in runs) else "ok"


def coverage(s: Summary) -> dict:
    rows = []
    active_by_site: dict[int, int] = {}
    for li in s._listings(s.act.active[s.w]):
        active_by_site[li.site_id] = active_by_site.get(li.site_id, 0) + 1
    for site in sorted(s.sites.values(), key=lambda x: x.slug):
        first = s.ds.first_run_at.get(site.id)
        if first is not None and first >= s.w.end:
            continue  # not monitored yet in this week
        runs = _runs(s, site.id, s.w)
        ok = [r for r in runs if r.ok]
        failed = [r for r in runs if r.status == "failed"]
        last_ok = max((r.started_at for r in s.ds.runs if r.site_id == site.id and r.ok and r.started_at < s.w.end),
                      default=None)
        rows.append({
            "site": site.slug, "name": site.name, "kind": site.kind, "status": site_status(s, site.id, s.w),
            "status_prev": site_status(s, site.id, s.prev), "runs": len(runs), "ok_runs": len(ok),
            "failed_runs": len(failed), "days_crawled": len({r.started_at.date() for r in ok}),
            "failed_days": sorted({r.started_at.date().isoformat() for r in failed}),
            "last_ok_run": last_ok.isoformat() if last_ok else None,
            "first_monitored_this_week": first is not None and s.w.contains(first),
            "reasons": sorted({(r.reason or "no reason recorded")[:300] for r in failed}),
            "listings_active": active_by_site.get(site.id, 0),
        })
    slug = s.slug
    jobs = [{"name": j["name"], "site": slug.get(j["site_id"]), "started_at": j["started_at"].isoformat(),
             "status": j["status"], "reason": (j["reason"] or "")[:300]} for j in s.ds.job_failures]
    alerts = [{"kind": a["kind"], "site": slug.get(a["site_id"]), "created_at": a["created_at"].isoformat(),
               "message": a["message"][:500]} for a in s.ds.alerts]
    return {"sites": rows, "failed_sites": [r["site"] for r in rows if r["status"] == "failed"],
            "dark_sites": [r["site"] for r in rows if r["status"] == "dark"], "job_failures": jobs, "alerts": alerts}


def data_quality(s: Summary, price_problems: dict[str, int]) -> dict:
    active = s._listings(s.act.active[s.w])
    n = len(active)
    no_price = sum(price_problems.values())
    no_origin = sum(1 for li in active if _origin(s.act.state(li, s.w).ships_from) == NO_ORIGIN)
    no_substance = sum(1 for li in active if not li.substances)
    unclassified = sum(1 for li in active if not li.category)
    return {"active_listings": n,
            "without_price": no_price, "without_price_pct": _share(no_price, n), "without_price_by_reason": price_problems,
            "without_origin": no_origin, "without_origin_pct": _share(no_origin, n),
            "without_substance": no_substance, "without_substance_pct": _share(no_substance, n),
            "unclassified": unclassified, "unclassified_pct": _share(unclassified, n)}


def notes(s: Summary, cov: dict, totals: dict, quality: dict, clusters: dict, emerging: dict) -> list[str]:
    out: list[str] = []
    w = str(s.w)
    if not cov["sites"] or all(r["status"] == "dark" for r in cov["sites"]):
        out.append(f"No crawl succeeded in {w}: this week has no market figures. The tables below are empty "
                   "for that reason, not because the markets were empty.")
    elif totals["active"] == 0:
        out.append(f"Crawls ran in {w} but found no active listings.")
    for r in cov["sites"]:
        label = f"{r['name']} ({r['site']})"
        if r["status"] == "failed":
            out.append(f"{label}: crawl failed on {', '.join(r['failed_days'])} ({r['failed_runs']} of {r['runs']} "
                       f"runs); its figures come from the {r['ok_runs']} successful crawl(s) this week.")
        elif r["status"] == "dark":
            last = r["last_ok_run"][:10] if r["last_ok_run"] else "never"
            tried = f"{r['failed_runs']} failed run(s)" if r["runs"] else "no crawl run"
            out.append(f"{label}: site down or not crawled this week ({tried}; last successful crawl: {last}). "
                       "Its listings are missing from this week's figures, so week-over-week drops for it are "
                       "not market changes.")
        elif r["status_prev"] == "dark" and not r["first_monitored_this_week"]:
            out.append(f"{label}: no successful crawl the week before, so week-over-week rises for it are not "
                       "market changes.")
        if r["first_monitored_this_week"]:
            out.append(f"{label}: monitoring started this week, so all of its listings and vendors count as new."
                       if r["listings_active"] else f"{label}: monitoring started this week.")
    forums = [r for r in cov["sites"] if r["kind"] == "forum" and r["ok_runs"]]
    if forums and not totals["forum_posts"]:
        out.append(f"{', '.join(r['name'] for r in forums)} crawled this week, but none of the posts collected is "
                   f"dated in {w}: forum figures count posts by the date they were posted, not by the crawl date.")
    if quality["without_price"]:
        reasons = ", ".join(f"{n} with {PROBLEM_WORDS.get(k, k)}" for k, n in quality["without_price_by_reason"].items())
        out.append(f"{quality['without_price_pct']}% of active listings ({reasons}) have no usable price per "
                   "gram/ml/unit and are left out of the price medians.")
    if quality["without_origin"]:
        out.append(f"{quality['without_origin_pct']}% of active listings state no origin country "
                   f"(shown as {NO_ORIGIN} in the routes).")
    if not clusters["computed"]:
        out.append("No vendor clusters computed yet: the cluster tables are empty until vendor clustering has "
                   "been run and stored.")
    if emerging["baseline_weeks"] == 0:
        out.append("No baseline for emerging terms: there is no crawl data in the 8 weeks before this week.")
    elif emerging["baseline_weeks"] < 8:
        out.append(f"Emerging terms are compared with only {emerging['baseline_weeks']} week(s) of earlier data "
                   "(8 wanted).")
    return out
