"""summary.json: every figure of one week, as one dict with a fixed key order."""

from __future__ import annotations

from sqlalchemy.orm import Session

from reports import coverage as cov_mod
from reports.data import load
from reports.rates import RateTable, load_rates
from reports.summary import TREND_WEEKS, Summary
from reports.weeks import Week

SCHEMA = 1


def build_summary(session: Session, week: Week, rates: RateTable | None = None) -> dict:
    rates = rates or load_rates()
    s = Summary(load(session, week), rates)
    totals = s.totals()
    by_substance_prices, by_origin_prices, problems = s.prices()
    clusters = s.clusters()
    emerging = s.emerging()
    cov = cov_mod.coverage(s)
    quality = cov_mod.data_quality(s, problems)
    return {
        "schema": SCHEMA,
        "report": "weekly",
        "week": str(week),
        "period": {"start": week.monday.isoformat(), "end": week.sunday.isoformat(),
                   "timezone": "UTC", "data_as_of": week.end.isoformat()},
        "previous_week": str(week.shift(-1)),
        "trend_weeks": [str(week.shift(-i)) for i in range(TREND_WEEKS - 1, -1, -1)],
        "currency": rates.as_dict(),
        "notes": cov_mod.notes(s, cov, totals, quality, clusters, emerging),
        "totals": totals,
        "by_category": s._activity_table("category", lambda li: [li.category or "unclassified"]),
        "by_substance": s._activity_table("substance", lambda li: li.substances or ["(none)"]),
        "prices_by_substance": by_substance_prices,
        "prices_by_substance_origin": by_origin_prices,
        "routes": s.routes(),
        "vendors": s.vendors(),
        "clusters": clusters,
        "emerging_terms": emerging,
        "forum": s.forum(),
        "coverage": cov,
        "data_quality": quality,
    }
