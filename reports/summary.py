"""All figures of one weekly report as one JSON-ready dict (summary.json); the tables and charts are
views of it. Everything is sorted explicitly so the same database always gives the same bytes."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from reports.activity import PER_MEDIAN, Activity, price_per_basis
from reports.data import Dataset, ListingRow
from reports.rates import RateTable
from reports.terms import candidate_terms, known_terms, normalise
from reports.weeks import Week

TREND_WEEKS = 8
TOP_CORRIDORS = 15
TOP_CLUSTERS = 10
EMERGING_MAX_BEFORE = 1  # at most this many mentions in the 8 weeks before W
NO_CATEGORY, NO_SUBSTANCE, NO_ORIGIN, NO_DESTINATION = "unclassified", "(none)", "(unknown)", "(unspecified)"


def _median(values: list[Decimal]) -> float | None:
    if not values:
        return None
    return float(Decimal(statistics.median(sorted(values))).quantize(PER_MEDIAN, rounding=ROUND_HALF_UP))


def _pct(now: float | None, before: float | None) -> float | None:
    if now is None or not before:
        return None
    return float((Decimal(str(now)) / Decimal(str(before)) * 100 - 100).quantize(Decimal("0.1"), ROUND_HALF_UP))


def _share(part: int, whole: int) -> float:
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)) if whole else 0.0


def _origin(value: str | None) -> str:
    return value.strip() if value and value.strip() and value.strip().upper() != "XX" else NO_ORIGIN


class Summary:
    def __init__(self, ds: Dataset, rates: RateTable) -> None:
        self.ds, self.rates = ds, rates
        self.act = Activity(ds)
        self.w = ds.week
        self.prev = ds.week.shift(-1)
        self.sites = ds.sites
        self.slug = {sid: s.slug for sid, s in ds.sites.items()}

    # -- helpers -------------------------------------------------------------------------------------------
    def _listings(self, ids: Iterable[int]) -> list[ListingRow]:
        return [self.act.by_id[i] for i in sorted(ids)]

    def _by_key(self, key_of, weeks: dict[str, set[int]]) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(weeks, 0))
        for name, ids in weeks.items():
            for li in self._listings(ids):
                for key in key_of(li):
                    counts[key][name] += 1
        return counts

    def _activity_table(self, key_name: str, key_of) -> list[dict]:
        w, p = self.w, self.prev
        counts = self._by_key(key_of, {"active": self.act.active[w], "active_prev": self.act.active[p],
                                       "new": self.act.new[w], "new_prev": self.act.new[p],
                                       "vanished": self.act.vanished[w], "vanished_prev": self.act.vanished[p]})
        rows = []
        for key, c in counts.items():
            rows.append({key_name: key, "active": c["active"], "active_prev": c["active_prev"],
                         "active_change": c["active"] - c["active_prev"], "new": c["new"], "new_prev": c["new_prev"],
                         "vanished": c["vanished"], "vanished_prev": c["vanished_prev"]})
        return sorted(rows, key=lambda r: (-r["active"], -r["active_prev"], r[key_name]))

    # -- sections ------------------------------------------------------------------------------------------
    def totals(self) -> dict:
        a, w, p = self.act, self.w, self.prev
        def vendors(week: Week) -> int:
            return len({li.vendor_account_id for li in self._listings(a.active[week]) if li.vendor_account_id})
        return {"active": len(a.active[w]), "active_prev": len(a.active[p]),
                "active_change": len(a.active[w]) - len(a.active[p]),
                "new": len(a.new[w]), "new_prev": len(a.new[p]),
                "vanished": len(a.vanished[w]), "vanished_prev": len(a.vanished[p]),
                "active_vendors": vendors(w), "active_vendors_prev": vendors(p),
                "forum_posts": sum(1 for post in self.ds.posts if w.contains(post.at)),
                "forum_posts_prev": sum(1 for post in self.ds.posts if p.contains(post.at))}

    def prices(self) -> tuple[list[dict], list[dict], dict]:
        trend = [self.w.shift(-i) for i in range(TREND_WEEKS - 1, -1, -1)]
        by_group: dict[tuple[str, str, str], dict[Week, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
        by_substance: dict[tuple[str, str], dict[Week, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
        problems: Counter[str] = Counter()
        for week in trend:
            for li in self._listings(self.act.active[week]):
                state = self.act.state(li, week)
                basis, value, problem = price_per_basis(li, state, self.rates)
                if week == self.w and problem:
                    problems[problem] += 1
                if value is None or basis is None:
                    continue
                for substance in li.substances or [NO_SUBSTANCE]:
                    by_group[(substance, _origin(state.ships_from), basis)][week].append(value)
                    by_substance[(substance, basis)][week].append(value)
        labels = [str(x) for x in trend]

        def rows(groups: dict, names: tuple[str, ...]) -> list[dict]:
            out = []
            for key, weekly in groups.items():
                if not weekly.get(self.w):
                    continue
                medians = [_median(weekly.get(x, [])) for x in trend]
                row = dict(zip(names, key, strict=True))
                row.update({"listings": len(weekly[self.w]), "median": medians[-1], "median_prev": medians[-2],
                            "change_pct": _pct(medians[-1], medians[-2]),
                            "trend": dict(zip(labels, medians, strict=True))})
                out.append(row)
            return sorted(out, key=lambda r: (-r["listings"], *(r[n] for n in names)))
        return (rows(by_substance, ("substance", "basis")), rows(by_group, ("substance", "origin", "basis")),
                dict(sorted(problems.items())))

    def routes(self) -> dict:
        def pairs(week: Week) -> Counter[tuple[str, str]]:
            c: Counter[tuple[str, str]] = Counter()
            for li in self._listings(self.act.active[week]):
                state = self.act.state(li, week)
                dests = sorted({d.strip() for d in (state.ships_to or []) if d and d.strip()}) or [NO_DESTINATION]
                for dest in dests:
                    c[(_origin(state.ships_from), dest)] += 1
            return c
        now, before = pairs(self.w), pairs(self.prev)
        matrix = [{"origin": o, "destination": d, "listings": n, "listings_prev": before.get((o, d), 0)}
                  for (o, d), n in now.items()]
        matrix.sort(key=lambda r: (-r["listings"], r["origin"], r["destination"]))
        origins: Counter[str] = Counter(_origin(self.act.state(li, self.w).ships_from)
                                        for li in self._listings(self.act.active[self.w]))
        return {"matrix": matrix, "top_corridors": matrix[:TOP_CORRIDORS],
                "origins": [{"origin": o, "listings": n} for o, n in sorted(origins.items(), key=lambda x: (-x[1], x[0]))]}

    def vendors(self) -> dict:
        active_by_account: Counter[int] = Counter(li.vendor_account_id for li in self._listings(self.act.active[self.w])
                                                  if li.vendor_account_id)
        # vendor accounts of markets: forum authors are accounts too (for clustering), not new vendors
        vendors = [a for a in self.ds.accounts.values() if self.ds.sites[a.site_id].kind != "forum"]
        new = [a for a in vendors if self.w.contains(a.first_seen)]
        new_prev = [a for a in vendors if self.prev.contains(a.first_seen)]
        rows = [{"site": self.slug[a.site_id], "handle": a.handle, "first_seen": a.first_seen.date().isoformat(),
                 "active_listings": active_by_account.get(a.id, 0)} for a in new]
        rows.sort(key=lambda r: (-r["active_listings"], r["site"], r["handle"]))
        return {"new_accounts": len(rows), "new_accounts_prev": len(new_prev), "new": rows}

    def clusters(self) -> dict:
        if not self.ds.clusters:
            return {"computed": False, "clusters": 0, "top_by_listings": [], "multi_site": []}
        listings_by_account: dict[int, list[ListingRow]] = defaultdict(list)
        for li in self._listings(self.act.active[self.w]):
            if li.vendor_account_id:
                listings_by_account[li.vendor_account_id].append(li)
        rows = []
        for cid, members in self.ds.clusters.items():
            accounts = [self.ds.accounts[m] for m in members if m in self.ds.accounts]
            active = [li for m in members for li in listings_by_account.get(m, [])]
            rows.append({"cluster": cid, "confidence": round(self.ds.cluster_confidence.get(cid, 0.0), 3),
                         "accounts": sorted(f"{self.slug[a.site_id]}:{a.handle}" for a in accounts),
                         "listings": len(active),
                         "sites_active": sorted({self.slug[li.site_id] for li in active})})
        top = sorted((r for r in rows if r["listings"]), key=lambda r: (-r["listings"], r["cluster"]))[:TOP_CLUSTERS]
        multi = sorted((r for r in rows if len(r["sites_active"]) >= 2),
                       key=lambda r: (-len(r["sites_active"]), -r["listings"], r["cluster"]))
        return {"computed": True, "clusters": len(rows), "top_by_listings": top, "multi_site": multi}

    def emerging(self) -> dict:
        baseline = [self.w.shift(-i) for i in range(1, TREND_WEEKS + 1)]
        baseline_weeks = sum(1 for b in baseline if any(self.act.site_crawled(s, b) for s in self.sites))
        known = known_terms() | {normalise(s) for li in self.ds.listings for s in li.substances} | {
            normalise(s) for p in self.ds.posts for s in p.substances}
        subs: dict[str, Counter[str]] = defaultdict(Counter)  # term -> {"listings", "posts", "before"}
        unknown: dict[str, Counter[str]] = defaultdict(Counter)

        def count(week: Week, listing_terms, post_terms, table) -> None:
            now = week == self.w
            for li in self._listings(self.act.new[week]):
                for term in listing_terms(li):
                    table[term]["listings" if now else "before"] += 1
            for post in self.ds.posts:
                if week.contains(post.at):
                    for term in post_terms(post):
                        table[term]["posts" if now else "before"] += 1

        def listing_unknown(li: ListingRow) -> set[str]:
            extra = {normalise(t) for t in li.unknown_terms} - known
            return candidate_terms(li.title, known) | extra

        def post_unknown(post) -> set[str]:
            return candidate_terms(post.text, known) | ({normalise(t) for t in post.unknown_terms} - known)

        for week in [self.w, *baseline]:
            count(week, lambda li: set(li.substances), lambda p: set(p.substances), subs)
            count(week, listing_unknown, post_unknown, unknown)

        def rows(table: dict[str, Counter[str]], key: str) -> list[dict]:
            out = [{key: term, "mentions": c["listings"] + c["posts"], "listings": c["listings"], "posts": c["posts"],
                    "mentions_before": c["before"]}
                   for term, c in table.items() if c["listings"] + c["posts"] and c["before"] <= EMERGING_MAX_BEFORE]
            return sorted(out, key=lambda r: (-r["mentions"], r[key]))
        if baseline_weeks == 0:
            return {"baseline_weeks": 0, "substances": [], "unknown_terms": []}
        return {"baseline_weeks": baseline_weeks, "substances": rows(subs, "substance"),
                "unknown_terms": rows(unknown, "term")}

    def forum(self) -> list[dict]:
        posts: dict[str, Counter[str]] = defaultdict(Counter)
        threads: dict[str, set[int]] = defaultdict(set)
        for post in self.ds.posts:
            which = "posts" if self.w.contains(post.at) else "posts_prev" if self.prev.contains(post.at) else None
            if which is None:
                continue
            for s in post.substances:
                posts[s][which] += 1
                if which == "posts":
                    threads[s].add(post.thread_id)
        out = [{"substance": s, "posts": c["posts"], "posts_prev": c["posts_prev"],
                "change": c["posts"] - c["posts_prev"], "threads": len(threads[s])} for s, c in posts.items()]
        return sorted(out, key=lambda r: (-r["posts"], -r["posts_prev"], r["substance"]))
