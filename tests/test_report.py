"""Weekly report on small synthetic databases: the 8-week price trend with mixed units and currencies,
data-quality counts, emerging terms, an empty week, a week with a site down, escaping, determinism, CLI."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from reports.build import build_summary
from reports.weekly import write_report
from reports.weeks import Week
from storage.models import CrawlRun
from storage.records import ListingRecord, PostRecord, ThreadRecord, VendorRecord
from storage.upsert import (
    ListingInput,
    finish_run,
    get_or_create_site,
    mark_vanished,
    upsert_listings,
    upsert_post,
    upsert_thread,
    upsert_vendor,
)

WEEK = Week.parse("2026-W47")  # 2026-11-16 .. 2026-11-22
TREND = [WEEK.shift(-i) for i in range(7, -1, -1)]
XSS = "<script>alert('x')</script>"


def wednesday(week: Week) -> datetime:
    return datetime.combine(week.monday + timedelta(days=2), time(12), tzinfo=UTC)


def crawl(session: Session, slug: str, when: datetime, records: list[ListingRecord], status: str = "finished") -> None:
    site = get_or_create_site(session, slug, slug.replace("_", " ").title(), "market", f"http://{slug}.invalid/")
    run = CrawlRun(site_id=site.id, started_at=when, status="running")
    session.add(run)
    session.flush()
    if status == "failed":
        finish_run(session, run, "failed", when, "connection refused by http://" + slug + ".invalid/")
        session.commit()
        return
    items = []
    for r in records:
        account, _ = upsert_vendor(session, site.id, VendorRecord(handle=r.vendor_handle or "anon"), when)
        items.append(ListingInput(r, None, account.id))
    upsert_listings(session, site.id, items, when, run.id)
    mark_vanished(session, site.id, run.id, when)
    finish_run(session, run, "finished", when)
    session.commit()


def rec(ext: str, title: str, price: str | None, currency: str | None, quantity: float | None, unit: str | None,
        substances: list[str], origin: str | None = "NL", to: list[str] | None = None, vendor: str = "v1",
        category: str | None = "stimulants") -> ListingRecord:
    return ListingRecord(external_id=ext, url=f"http://x.invalid/{ext}", title=title,
                         price=Decimal(price) if price else None, currency=currency, quantity=quantity, unit=unit,
                         ships_from=origin, ships_to=to if to is not None else ["EU"], vendor_handle=vendor,
                         category=category, substances=substances)


def week_records(i: int) -> list[ListingRecord]:
    """Week i (0..7) of the trend: what market m1 shows."""
    out = [
        rec("A", "Cocaine 2g", str(100 + 10 * i), "EUR", 2, "g", ["cocaine"]),            # 50 + 5i EUR/g
        rec("B", "Cocaine 10 gram bulk", "1000", "USD", 0.01, "kg", ["cocaine"], "DE"),   # 92 EUR/g
        rec("C", "MDMA 10 pills", "0.001", "BTC", 10, "pills", ["mdma"], "NL", ["WW"], category="ecstasy"),
    ]
    if i <= 3:
        out.append(rec("D", "Cocaine 1g", "80", "EUR", 1, "g", ["cocaine"], None))        # 80 EUR/g, no origin
    if i == 7:
        out += [
            rec("E", "ADB-BUTINACA 10g research", None, None, 10, "g", ["adb-butinaca"], "CN", vendor="newlab",
                category="nps"),
            rec("F", "Flubrotizolam 20 pellets", "2", "LTC", 20, "pcs", ["flubrotizolam"], "CN", vendor="newlab",
                category="benzodiazepines"),
            rec("G", XSS + " 3.5g", "30", "EUR", 3.5, "g", [], "NL", vendor=XSS, category=None),
            rec("H", "Hash 5g", "40", "EUR", 5, "g", ["hashish"], "ES", vendor="=HYPERLINK(\"http://evil\")",
                category="cannabis"),
        ]
    return out


@pytest.fixture
def trend_db(session):
    for i, week in enumerate(TREND):
        crawl(session, "m1", wednesday(week), week_records(i))
        crawl(session, "m2", wednesday(week), [rec("Z", "Weed 1g", "10", "EUR", 1, "g", ["cannabis"], "ES",
                                                  category="cannabis")],
              status="failed" if week == WEEK else "finished")
    forum = get_or_create_site(session, "forum", "Forum", "forum", "http://forum.invalid/")
    for week in TREND:
        session.add(CrawlRun(site_id=forum.id, started_at=wednesday(week), status="finished"))
    thread = upsert_thread(session, forum.id, ThreadRecord("t1", "new stuff", "http://forum.invalid/t1"),
                           wednesday(WEEK))
    for n, (week, subs) in enumerate([(WEEK, ["flubrotizolam"]), (WEEK, ["cocaine"]), (TREND[0], ["cocaine"])]):
        upsert_post(session, forum.id, thread.id, PostRecord(f"p{n}", "t1", "someone", "anyone tried "
                                                             + ", ".join(subs) + "? also 4F-MDMB-BICA",
                                                             posted_at=wednesday(week), substances=subs),
                    wednesday(WEEK))
    session.commit()
    return session


def expected_cocaine_median(i: int) -> float:
    values = sorted([Decimal(50 + 5 * i), Decimal(92)] + ([Decimal(80)] if i <= 3 else []))
    mid = len(values) // 2
    m = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return float(m.quantize(Decimal("0.01")))


def test_eight_week_trend_mixed_units_and_currencies(trend_db):
    s = build_summary(trend_db, WEEK)
    assert s["trend_weeks"] == [str(w) for w in TREND]
    cocaine = next(r for r in s["prices_by_substance"] if (r["substance"], r["basis"]) == ("cocaine", "g"))
    assert cocaine["trend"] == {str(w): expected_cocaine_median(i) for i, w in enumerate(TREND)}
    assert cocaine["listings"] == 2 and cocaine["median"] == expected_cocaine_median(7)
    assert cocaine["change_pct"] == round((expected_cocaine_median(7) / expected_cocaine_median(6) - 1) * 100, 1)
    mdma = next(r for r in s["prices_by_substance"] if r["substance"] == "mdma")
    assert (mdma["basis"], mdma["median"]) == ("unit", 5.89)  # 0.001 BTC x 58880 / 10 pills
    by_origin = {(r["substance"], r["origin"]): r["trend"] for r in s["prices_by_substance_origin"]}
    assert by_origin[("cocaine", "DE")][str(WEEK)] == 92.0
    assert ("cocaine", "(unknown)") not in by_origin  # D is gone by W47
    q = s["data_quality"]
    assert q["without_price_by_reason"] == {"no_price": 1, "no_rate": 1}
    assert (q["active_listings"], q["without_origin"], q["without_substance"], q["unclassified"]) == (7, 0, 1, 1)
    assert any("no usable price" in n for n in s["notes"])


def test_activity_over_weeks(trend_db):
    s = build_summary(trend_db, TREND[4])  # the week D vanished
    assert s["totals"]["vanished"] == 1 and s["totals"]["active"] == 4 and s["totals"]["active_prev"] == 5
    assert s["data_quality"]["without_origin"] == 0
    earlier = build_summary(trend_db, TREND[3])
    assert earlier["data_quality"]["without_origin"] == 1 and earlier["totals"]["vanished"] == 0
    routes = {(r["origin"], r["destination"]): r["listings"] for r in earlier["routes"]["matrix"]}
    assert routes == {("NL", "EU"): 1, ("DE", "EU"): 1, ("NL", "WW"): 1, ("(unknown)", "EU"): 1, ("ES", "EU"): 1}


def test_emerging_terms_and_new_vendors(trend_db):
    s = build_summary(trend_db, WEEK)
    em = s["emerging_terms"]
    assert em["baseline_weeks"] == 7  # W39..W46: the data starts in W40
    subs = {r["substance"]: (r["mentions"], r["listings"], r["posts"], r["mentions_before"]) for r in em["substances"]}
    assert subs["flubrotizolam"] == (2, 1, 1, 0)
    assert subs["adb-butinaca"] == (1, 1, 0, 0)
    assert "cocaine" not in subs  # mentioned in new listings and posts before
    terms = {r["term"]: r for r in em["unknown_terms"]}
    # ADB-BUTINACA is a substance id in this database, so it is not "unknown"; 4F-MDMB-BICA is in two posts
    # this week and one in W40 (at most one mention before: still emerging); no title token is drug-like
    assert list(terms) == ["4f-mdmb-bica"]
    assert (terms["4f-mdmb-bica"]["posts"], terms["4f-mdmb-bica"]["mentions_before"]) == (2, 1)
    new = {(v["site"], v["handle"]) for v in s["vendors"]["new"]}
    assert new == {("m1", "newlab"), ("m1", XSS), ("m1", '=HYPERLINK("http://evil")')}


def test_unknown_term_first_seen_this_week(session):
    crawl(session, "m1", wednesday(WEEK.shift(-1)), [rec("A", "Cocaine 1g", "50", "EUR", 1, "g", ["cocaine"])])
    crawl(session, "m1", wednesday(WEEK), [rec("A", "Cocaine 1g", "50", "EUR", 1, "g", ["cocaine"]),
                                           rec("B", "Cumyl-CBMICA 5g / HHC-P 10 pcs 20mg", "90", "EUR", 5, "g", [])])
    terms = [r["term"] for r in build_summary(session, WEEK)["emerging_terms"]["unknown_terms"]]
    assert terms == ["cumyl-cbmica", "hhc-p"]


def test_site_down_all_week_is_dark_and_said(trend_db):
    s = build_summary(trend_db, WEEK)
    cov = {r["site"]: r for r in s["coverage"]["sites"]}
    assert cov["m2"]["status"] == "dark" and cov["m2"]["listings_active"] == 0
    assert cov["m2"]["reasons"] == ["connection refused by http://m2.invalid/"]
    assert s["coverage"]["dark_sites"] == ["m2"] and cov["m1"]["status"] == "ok"
    assert any(n.startswith("M2 (m2): site down or not crawled this week") for n in s["notes"])
    # its listing is not counted as active in a week it was not seen, nor as vanished
    assert all(r["category"] != "cannabis" or r["active"] == 1 for r in s["by_category"])


def test_empty_week_says_so(session, tmp_path):
    crawl(session, "m1", wednesday(WEEK.shift(-3)), [rec("A", "Cocaine 1g", "50", "EUR", 1, "g", ["cocaine"])])
    result = write_report(session, WEEK, tmp_path / "out")
    s = result.summary
    assert s["totals"]["active"] == 0 and s["by_category"] == [] and s["prices_by_substance"] == []
    assert s["notes"][0].startswith("No crawl succeeded in 2026-W47")
    assert s["coverage"]["dark_sites"] == ["m1"]
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "No crawl succeeded in 2026-W47" in html and html.count("<img ") == 7
    assert "No vendor clusters computed yet" in html
    assert result.pdf_pages >= 2


def test_empty_database(session, tmp_path):
    result = write_report(session, WEEK, tmp_path / "out")
    assert result.summary["coverage"]["sites"] == []
    assert "No crawl succeeded" in result.summary["notes"][0]


def test_outputs_escaped_and_spreadsheet_safe(trend_db, tmp_path):
    write_report(trend_db, WEEK, tmp_path / "out")
    out = tmp_path / "out"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "&lt;script&gt;" in html
    assert "http://" not in html.replace("http://m2.invalid/", "").replace('HYPERLINK(&quot;http://evil', "")
    rows = list(csv.reader((out / "new_vendors.csv").open(encoding="utf-8")))
    assert rows[1:][[r[1] for r in rows[1:]].index(
        "'=HYPERLINK(\"http://evil\")")][:2] == ["m1", "'=HYPERLINK(\"http://evil\")"]
    wb = load_workbook(out / "report.xlsx")
    assert set(wb.sheetnames) >= {"notes", "totals", "by_category", "prices_by_substance", "routes", "coverage"}
    cells = [c for row in wb["new_vendors"].iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)


def test_regenerating_gives_identical_bytes(trend_db, tmp_path):
    a = write_report(trend_db, WEEK, tmp_path / "a")
    b = write_report(trend_db, WEEK, tmp_path / "b")
    assert a.files == b.files
    for name in a.files:  # every file, the workbook (a zip with restamped entries) and the PDF included
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    summary = json.loads((tmp_path / "a" / "summary.json").read_text(encoding="utf-8"))
    assert summary["period"]["data_as_of"] == "2026-11-23T00:00:00+00:00"


def test_week_parsing():
    assert str(Week.parse("2026-w7")) == "2026-W07"
    assert Week.parse("2026-W47").monday == date(2026, 11, 16)
    assert Week.of(datetime(2026, 11, 23, 5, tzinfo=UTC)).shift(-1) == Week.parse("2026-W47")
    with pytest.raises(ValueError, match="YYYY-Www"):
        Week.parse("47/2026")
    with pytest.raises(ValueError, match="2025 has no ISO week 53"):
        Week.parse("2025-W53")


def test_cli_weekly(nw_home, tmp_path):
    from narcowatch.cli import cli
    from storage.db import default_engine
    from storage.migrate import upgrade

    upgrade(default_engine())
    with Session(default_engine()) as session:
        crawl(session, "m1", wednesday(WEEK), [rec("A", "Cocaine 1g", "50", "EUR", 1, "g", ["cocaine"])])
    runner = CliRunner()
    result = runner.invoke(cli, ["report", "weekly", "--week", "latest"])
    assert result.exit_code == 0, result.output
    where = nw_home / "reports" / "2026-W47"
    assert f"written to {where.resolve()}/" in result.output
    assert json.loads((where / "summary.json").read_text())["totals"]["active"] == 1
    result = runner.invoke(cli, ["report", "weekly", "--week", "2026-W46", "--out", str(tmp_path / "x")])
    assert result.exit_code == 0 and "No crawl succeeded in 2026-W46" in result.output
    result = runner.invoke(cli, ["report", "weekly", "--week", "week 47"])
    assert result.exit_code == 2 and "YYYY-Www" in result.output
