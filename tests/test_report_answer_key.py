"""Every figure of summary.json against the same figure computed here, in plain Python, from the testbed's
answer key (never through reports/): on day 7 (end of 2026-W40), day 10 (mid 2026-W41) and day 14.

The database is what a perfect crawler would have stored (tests/answer_key_loader.py)."""

from __future__ import annotations

import csv
import json
import re
import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from reports.build import build_summary
from reports.weekly import write_report
from reports.weeks import Week
from storage.db import make_engine
from storage.migrate import upgrade
from tests.answer_key_loader import AnswerKeyLoader, destinations, normalised

DAY1 = date(2026, 9, 28)
RATES_FILE = json.loads((Path(__file__).resolve().parents[1] / "reports" / "rates.json").read_text())
RATES = RATES_FILE["rates"]
CHECKPOINTS = {7: "2026-W40", 10: "2026-W41", 14: "2026-W41"}


def iso_week(d: date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def day_date(day: int) -> date:
    return DAY1 + timedelta(days=day - 1)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """{checkpoint day: summary}, the keys of days 1..14, and a report directory written on day 14."""
    tmp = tmp_path_factory.mktemp("answer_key")
    engine = make_engine(f"sqlite:///{tmp / 'nw.db'}")
    upgrade(engine)
    summaries: dict[int, dict] = {}
    with Session(engine, expire_on_commit=False) as session:
        loader = AnswerKeyLoader(session)
        done = 0
        for day, week in sorted(CHECKPOINTS.items()):
            loader.load_days(range(done + 1, day + 1))
            done = day
            if day == 14:
                loader.store_actor_clusters(14)
                write_report(session, Week.parse(week), tmp / "out")
                summaries[day] = json.loads((tmp / "out" / "summary.json").read_text(encoding="utf-8"))
                summaries[-1] = json.loads(json.dumps(build_summary(session, Week.parse("2026-W40"))))
            else:
                summaries[day] = json.loads(json.dumps(build_summary(session, Week.parse(week))))
        keys = dict(loader.keys)
    engine.dispose()
    return summaries, keys, tmp / "out"


class Expected:
    """The week's figures from the answer keys of days 1..n (plain Python)."""

    def __init__(self, keys: dict[int, dict], n: int, week: str) -> None:
        self.keys = {d: keys[d] for d in range(1, n + 1)}
        self.n, self.week = n, week
        self.days = [d for d in self.keys if iso_week(day_date(d)) == week]
        self.prev_week = iso_week(day_date(self.days[0]) - timedelta(days=7))
        self.prev_days = [d for d in self.keys if iso_week(day_date(d)) == self.prev_week]
        self.present = {d: {(r["site"], r["external_id"]): r for r in k["listings"]} for d, k in self.keys.items()}
        self.first_day: dict[tuple, int] = {}
        for d in sorted(self.keys):
            for lid in self.present[d]:
                self.first_day.setdefault(lid, d)

    def up(self, d: int, site: str) -> bool:
        return next(s["up"] for s in self.keys[d]["sites"] if s["id"] == site)

    def active(self, days) -> dict[tuple, dict]:
        """listing -> its record on the last day of `days` it was shown."""
        out: dict[tuple, dict] = {}
        for d in sorted(days):
            out.update(self.present[d])
        return out

    def new(self, days) -> set:
        return {lid for lid, d in self.first_day.items() if d in days}

    def vanished(self, days) -> set:
        out = set()
        for d in days:
            for site in ("market_a", "market_b", "market_c"):
                if not self.up(d, site):
                    continue
                before = [x for x in range(1, d) if self.up(x, site)]
                if before:
                    prev = {lid for lid in self.present[before[-1]] if lid[0] == site}
                    now = {lid for lid in self.present[d] if lid[0] == site}
                    out |= prev - now
        return out

    def record(self, lid) -> dict:
        return next(self.present[d][lid] for d in sorted(self.keys, reverse=True) if lid in self.present[d])


def eur_per_basis(r: dict) -> tuple[str, Decimal]:
    q, unit, _ = normalised(r)
    value = Decimal(r["price_value"]) / Decimal(str(q)) * Decimal(RATES[r["currency"]])
    return unit, value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def median(values: list[Decimal]) -> float | None:
    if not values:
        return None
    return float(Decimal(statistics.median(sorted(values))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def activity_rows(e: Expected, key_name: str, keys_of) -> list[dict]:
    sets = {"active": set(e.active(e.days)), "active_prev": set(e.active(e.prev_days)), "new": e.new(e.days),
            "new_prev": e.new(e.prev_days), "vanished": e.vanished(e.days), "vanished_prev": e.vanished(e.prev_days)}
    counts: dict[str, Counter] = defaultdict(Counter)
    for name, ids in sets.items():
        for lid in ids:
            for k in keys_of(e.record(lid)):
                counts[k][name] += 1
    rows = [{key_name: k, **{n: c[n] for n in sets}, "active_change": c["active"] - c["active_prev"]}
            for k, c in counts.items()]
    return sorted(rows, key=lambda r: (-r["active"], -r["active_prev"], r[key_name]))


def days_of(e: Expected, week: str) -> list[int]:
    return [d for d in e.keys if iso_week(day_date(d)) == week]


def weeks_back(week: str, count: int) -> list[str]:
    """`count` ISO weeks ending with `week`, oldest first."""
    monday = date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    return [iso_week(monday - timedelta(weeks=i)) for i in range(count - 1, -1, -1)]


def origin_of(r: dict) -> str:
    return r["ships_from"] if r["site"] == "market_b" else normalised_country(r["ships_from"])


def half_up(value: Decimal, places: str) -> float:
    return float(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def share(part: int, whole: int) -> float:
    return half_up(Decimal(part) * 100 / Decimal(whole), "0.1") if whole else 0.0


def change_pct(now: float | None, before: float | None) -> float | None:
    if now is None or not before:
        return None
    return half_up(Decimal(str(now)) / Decimal(str(before)) * 100 - 100, "0.1")


# -- the documented unknown-term rule (docs/report.md, "Emerging terms"), written again here ---------------
LEXICON = Path(__file__).resolve().parents[1] / "extractors" / "data"
TOKEN = re.compile(r"[0-9A-Za-zÀ-ÿ]+(?:[-‐‑][0-9A-Za-zÀ-ÿ]+)*")
AFFIXES = ("pinaca", "binaca", "inaca", "pica", "mica", "bica", "zolam", "zepam", "azepam", "nitazene", "fentanil",
           "fentanyl", "cathinone", "pentedrone", "hexedrone", "ylone", "nbome", "nboh", "phenidate", "tryptamine",
           "amphetamine", "amfetamine", "pyrrolidin", "benzofuran", "fluoro", "chloro", "bromo", "methoxy",
           "ethyl", "methyl", "propyl", "phenyl", "piperidin")
NOT_TERMS = {"x-mas", "covid-19", "e-mail", "t-shirt", "24-7", "mp3", "mp4", "3d", "4k", "usb-c"}


def lexicon_terms() -> set[str]:
    terms = set()
    for path in [LEXICON / "canonical.csv", *sorted((LEXICON / "lexicon").glob("*.csv"))]:
        lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x and not x.startswith("#")]
        for row in csv.DictReader(lines):
            terms |= {row[k].strip().lower().replace("‐", "-").replace("‑", "-")
                      for k in ("id", "term", "canonical") if row.get(k)}
    return terms


def unknown_terms_of(text: str, known: set[str]) -> set[str]:
    out = set()
    for token in TOKEN.findall(text):
        low = token.lower().replace("‐", "-").replace("‑", "-")
        if len(low) < 3 or low in NOT_TERMS or low in known:
            continue
        if re.fullmatch(r"\d+([.,]\d+)?(mg|g|kg|ml|l|ug|mcg|µg|x|pcs|pills|tabs|caps|lb|oz)?", low):
            continue  # a quantity
        if re.fullmatch(r"\d{4}-w\d{1,2}|w\d{1,2}-\d{4}|ww-[a-z]{2}", low):
            continue  # a week id or a "WW-US" shipping code
        code = re.fullmatch(r"[A-Z]{1,2}-[A-Z]{2,6}|[A-Z]{2,6}-[A-Z]{1,2}", token)
        if ("-" in low and re.search(r"[a-z]", low) and re.search(r"\d", low)) or code or any(
                a in low and len(low) >= len(a) + 3 for a in AFFIXES):
            out.add(low)
    return out


def expected_summary(e: Expected, checkpoint: int, week: str) -> dict:
    """Every section of summary.json for `week`, from the answer keys of days 1..n only."""
    monday = date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    prev = e.prev_week
    trend = weeks_back(week, 8)
    act, act_prev = e.active(e.days), e.active(e.prev_days)
    out: dict = {
        "schema": 1, "report": "weekly", "week": week,
        "period": {"start": monday.isoformat(), "end": (monday + timedelta(days=6)).isoformat(), "timezone": "UTC",
                   "data_as_of": f"{monday + timedelta(days=7)}T00:00:00+00:00"},
        "previous_week": prev, "trend_weeks": trend,
        "currency": {"reporting_currency": RATES_FILE["reporting_currency"], "as_of": RATES_FILE["as_of"],
                     "note": RATES_FILE["note"], "rates": dict(sorted(RATES.items()))},
    }
    posts_in = {wk: [p for p in e.keys[e.n]["posts"] if iso_week(date.fromisoformat(p["posted_at"][:10])) == wk]
                for wk in (week, prev)}
    vendors_of = {wk: {(r["site"], r["vendor"]) for r in a.values()} for wk, a in ((week, act), (prev, act_prev))}
    out["totals"] = {"active": len(act), "active_prev": len(act_prev), "active_change": len(act) - len(act_prev),
                     "new": len(e.new(e.days)), "new_prev": len(e.new(e.prev_days)),
                     "vanished": len(e.vanished(e.days)), "vanished_prev": len(e.vanished(e.prev_days)),
                     "active_vendors": len(vendors_of[week]), "active_vendors_prev": len(vendors_of[prev]),
                     "forum_posts": len(posts_in[week]), "forum_posts_prev": len(posts_in[prev])}
    out["by_category"] = activity_rows(e, "category", lambda r: [r["category"] or "unclassified"])
    out["by_substance"] = activity_rows(e, "substance", lambda r: r["substances"] or ["(none)"])

    # prices: per substance (and origin) and basis, every trend week
    by_sub: dict[tuple, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    by_origin: dict[tuple, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for wk in trend:
        for r in e.active(days_of(e, wk)).values():
            unit, value = eur_per_basis(r)
            for sub in r["substances"] or ["(none)"]:
                by_sub[(sub, unit)][wk].append(value)
                by_origin[(sub, origin_of(r), unit)][wk].append(value)

    def price_rows(groups: dict, names: tuple[str, ...]) -> list[dict]:
        rows = []
        for k, per_week in groups.items():
            if not per_week[week]:
                continue
            medians = {wk: median(per_week[wk]) for wk in trend}
            rows.append({**dict(zip(names, k, strict=True)), "listings": len(per_week[week]), "median": medians[week],
                         "median_prev": medians[prev], "change_pct": change_pct(medians[week], medians[prev]),
                         "trend": medians})
        return sorted(rows, key=lambda r: (-r["listings"], *(r[n] for n in names)))
    out["prices_by_substance"] = price_rows(by_sub, ("substance", "basis"))
    out["prices_by_substance_origin"] = price_rows(by_origin, ("substance", "origin", "basis"))

    def pairs(active: dict) -> Counter:
        c: Counter = Counter()
        for r in active.values():
            for dest in sorted(set(destinations(r["site"], r["ships_to"]))):
                c[(origin_of(r), dest)] += 1
        return c
    now, before = pairs(act), pairs(act_prev)
    matrix = sorted(({"origin": o, "destination": d, "listings": n, "listings_prev": before[(o, d)]}
                     for (o, d), n in now.items()), key=lambda x: (-x["listings"], x["origin"], x["destination"]))
    origins = Counter(origin_of(r) for r in act.values())
    out["routes"] = {"matrix": matrix, "top_corridors": matrix[:15],
                     "origins": [{"origin": o, "listings": n} for o, n in sorted(origins.items(),
                                                                                key=lambda kv: (-kv[1], kv[0]))]}

    first: dict[tuple, int] = {}
    for d in sorted(e.keys):
        for v in e.keys[d]["vendors"]:
            first.setdefault((v["site"], v["handle"]), d)
        for r in e.keys[d]["listings"]:
            first.setdefault((r["site"], r["vendor"]), d)
    per_vendor = Counter((r["site"], r["vendor"]) for r in act.values())
    new_rows = sorted(({"site": s, "handle": h, "first_seen": day_date(d).isoformat(),
                        "active_listings": per_vendor[(s, h)]} for (s, h), d in first.items() if d in e.days),
                      key=lambda x: (-x["active_listings"], x["site"], x["handle"]))
    out["vendors"] = {"new_accounts": len(new_rows), "new_accounts_prev": sum(1 for d in first.values()
                                                                             if d in e.prev_days), "new": new_rows}

    if checkpoint in (7, 10):  # clusters are stored on day 14 only
        out["clusters"] = {"computed": False, "clusters": 0, "top_by_listings": [], "multi_site": []}
    else:
        owner: dict[tuple, str] = {}
        for actor in e.keys[14]["actors"]:
            members = {(a["site"], a["handle"]) for a in actor["accounts"]} & set(first)
            if len(members) >= 2:
                owner.update(dict.fromkeys(members, actor["actor_id"]))
        rows = {}
        for actor in sorted(set(owner.values())):
            listed = [r for r in act.values() if owner.get((r["site"], r["vendor"])) == actor]
            rows[actor] = {"cluster": actor, "confidence": 1.0,
                           "accounts": sorted(f"{s}:{h}" for (s, h), a in owner.items() if a == actor),
                           "listings": len(listed), "sites_active": sorted({r["site"] for r in listed})}
        out["clusters"] = {
            "computed": True, "clusters": len(rows),
            "top_by_listings": sorted((r for r in rows.values() if r["listings"]),
                                      key=lambda r: (-r["listings"], r["cluster"]))[:10],
            "multi_site": sorted((r for r in rows.values() if len(r["sites_active"]) >= 2),
                                 key=lambda r: (-len(r["sites_active"]), -r["listings"], r["cluster"]))}

    baseline = weeks_back(week, 9)[:-1]
    baseline_weeks = sum(1 for wk in baseline if days_of(e, wk))
    if baseline_weeks == 0:
        out["emerging_terms"] = {"baseline_weeks": 0, "substances": [], "unknown_terms": []}
    else:
        window = set(weeks_back(week, 9))
        seen_by = monday + timedelta(days=7)
        known = lexicon_terms() | {s for lid, d in e.first_day.items() if day_date(d) < seen_by
                                   for s in e.record(lid)["substances"]} | {
            s for p in e.keys[e.n]["posts"] if iso_week(date.fromisoformat(p["posted_at"][:10])) in window
            for s in p["substances"]}
        subs: dict[str, Counter] = defaultdict(Counter)
        unknown: dict[str, Counter] = defaultdict(Counter)

        def slot(wk: str, now: str) -> str | None:
            return now if wk == week else "before" if wk in baseline else None
        for lid, d in e.first_day.items():
            where = slot(iso_week(day_date(d)), "listings")
            if where:
                r = e.record(lid)
                for s in set(r["substances"]):
                    subs[s][where] += 1
                for t in unknown_terms_of(r["title"], known):
                    unknown[t][where] += 1
        for p in e.keys[e.n]["posts"]:
            where = slot(iso_week(date.fromisoformat(p["posted_at"][:10])), "posts")
            if where:
                for s in set(p["substances"]):
                    subs[s][where] += 1
                for t in unknown_terms_of(p["text"], known):
                    unknown[t][where] += 1

        def term_rows(table: dict, key: str) -> list[dict]:
            return sorted(({key: t, "mentions": c["listings"] + c["posts"], "listings": c["listings"],
                            "posts": c["posts"], "mentions_before": c["before"]}
                           for t, c in table.items() if c["listings"] + c["posts"] and c["before"] <= 1),
                          key=lambda r: (-r["mentions"], r[key]))
        out["emerging_terms"] = {"baseline_weeks": baseline_weeks, "substances": term_rows(subs, "substance"),
                                 "unknown_terms": term_rows(unknown, "term")}

    forum_posts, threads = defaultdict(Counter), defaultdict(set)
    for wk, name in ((week, "posts"), (prev, "posts_prev")):
        for p in posts_in[wk]:
            for s in p["substances"]:
                forum_posts[s][name] += 1
                if name == "posts":
                    threads[s].add(p["thread_id"])
    out["forum"] = sorted(({"substance": s, "posts": c["posts"], "posts_prev": c["posts_prev"],
                            "change": c["posts"] - c["posts_prev"], "threads": len(threads[s])}
                           for s, c in forum_posts.items()), key=lambda r: (-r["posts"], -r["posts_prev"], r["substance"]))

    names = {s["id"]: s["name"] for s in e.keys[1]["sites"]}
    sites = []
    for slug in ("forum", "market_a", "market_b", "market_c"):
        def status(days: list[int], slug: str = slug) -> str:
            up = [d for d in days if e.up(d, slug)]
            return "dark" if not up else "failed" if len(up) < len(days) else "ok"
        down = [d for d in e.days if not e.up(d, slug)]
        last_up = max(d for d in e.keys if e.up(d, slug) and day_date(d) < monday + timedelta(days=7))
        sites.append({"site": slug, "name": names[slug], "kind": "forum" if slug == "forum" else "market",
                      "status": status(e.days), "status_prev": status(e.prev_days), "runs": len(e.days),
                      "ok_runs": len(e.days) - len(down), "failed_runs": len(down),
                      "days_crawled": len(e.days) - len(down), "failed_days": [day_date(d).isoformat() for d in down],
                      "last_ok_run": f"{day_date(last_up)}T06:00:00+00:00",
                      "first_monitored_this_week": 1 in e.days,
                      "reasons": ["site unreachable (testbed down day)"] if down else [],
                      "listings_active": sum(1 for r in act.values() if r["site"] == slug)})
    out["coverage"] = {"sites": sites, "failed_sites": [r["site"] for r in sites if r["status"] == "failed"],
                       "dark_sites": [r["site"] for r in sites if r["status"] == "dark"],
                       "job_failures": [], "alerts": []}
    no_substance = sum(1 for r in act.values() if not r["substances"])
    no_category = sum(1 for r in act.values() if not r["category"])
    out["data_quality"] = {"active_listings": len(act), "without_price": 0, "without_price_pct": 0.0,
                           "without_price_by_reason": {}, "without_origin": 0, "without_origin_pct": 0.0,
                           "without_substance": no_substance, "without_substance_pct": share(no_substance, len(act)),
                           "unclassified": no_category, "unclassified_pct": share(no_category, len(act))}

    notes = []
    for row in sites:
        label = f"{row['name']} ({row['site']})"
        if row["status"] == "failed":
            notes.append(f"{label}: crawl failed on {', '.join(row['failed_days'])} ({row['failed_runs']} of "
                         f"{row['runs']} runs); its figures come from the {row['ok_runs']} successful crawl(s) this week.")
        if row["first_monitored_this_week"]:
            notes.append(f"{label}: monitoring started this week, so all of its listings and vendors count as new."
                         if row["listings_active"] else f"{label}: monitoring started this week.")
    if not out["clusters"]["computed"]:
        notes.append("No vendor clusters computed yet: the cluster tables are empty until vendor clustering has "
                     "been run and stored.")
    notes.append("No baseline for emerging terms: there is no crawl data in the 8 weeks before this week."
                 if baseline_weeks == 0 else
                 f"Emerging terms are compared with only {baseline_weeks} week(s) of earlier data (8 wanted).")
    out["notes"] = notes
    return out


CASES = [(7, 7, "2026-W40"), (10, 10, "2026-W41"), (14, 14, "2026-W41"), (-1, 14, "2026-W40")]
SECTIONS = ["schema", "report", "week", "period", "previous_week", "trend_weeks", "currency", "notes", "totals",
            "by_category", "by_substance", "prices_by_substance", "prices_by_substance_origin", "routes", "vendors",
            "clusters", "emerging_terms", "forum", "coverage", "data_quality"]


@pytest.fixture(scope="module")
def expected(world):
    _, keys, _ = world
    return {checkpoint: expected_summary(Expected(keys, n, week), checkpoint, week) for checkpoint, n, week in CASES}


@pytest.mark.parametrize("checkpoint,n,week", CASES, ids=[f"day{n}-{w}" for _, n, w in CASES])
def test_every_figure_of_summary_json_equals_the_answer_key(world, expected, checkpoint, n, week):
    """summary.json, section by section, equals what the answer keys of days 1..n say (nothing left out)."""
    got, want = world[0][checkpoint], expected[checkpoint]
    assert list(got) == SECTIONS and sorted(want) == sorted(SECTIONS)  # every section is computed here
    for section in SECTIONS:
        assert got[section] == want[section], section
    t = got["totals"]
    assert t["active"] > 0 and t["new"] > 0 and got["prices_by_substance"] and got["routes"]["matrix"]


@pytest.mark.parametrize("checkpoint,n,week", CASES, ids=[f"day{n}-{w}" for _, n, w in CASES])
def test_expected_figures_are_not_trivial(expected, checkpoint, n, week):
    """The comparison above would be weak if the answer key gave empty sections: it does not."""
    want = expected[checkpoint]
    assert want["forum"] and want["vendors"]["new"] and want["by_substance"]
    assert any(r["median_prev"] is not None for r in want["prices_by_substance"]) == (week == "2026-W41")
    if week == "2026-W41":
        assert want["totals"]["vanished"] > 0 and want["emerging_terms"]["unknown_terms"]
        assert want["coverage"]["failed_sites"]
    if checkpoint in (14, -1):
        assert want["clusters"]["multi_site"] and want["clusters"]["top_by_listings"]


def normalised_country(name: str) -> str:
    from testbed.vocab import COUNTRIES
    return {n: c for n, c, _ in COUNTRIES}[name]


def test_regenerating_a_past_week_later_gives_the_same_figures(world):
    """W40 on day 7 and W40 again on day 14 (a week more data, clusters stored): same figures."""
    summaries, _, _ = world
    early, late = dict(summaries[7]), dict(summaries[-1])
    for s in (early, late):
        s.pop("clusters")
        s["notes"] = [n for n in s["notes"] if "cluster" not in n]
        s.pop("vendors")  # W40's "new accounts of the previous week" is the same; W40 accounts listed again below
    assert early == late


def test_one_site_down_week_says_so(world):
    summaries, _, out = world
    got = summaries[14]
    assert got["coverage"]["failed_sites"] == ["market_b", "market_c"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Bazaar Nova (market_b): crawl failed on 2026-10-05" in html
