"""The written report as a reader sees it: report.html in headless chromium (every chart decoded and drawn,
no request leaves the file) and every page of report.pdf rasterised with pdftoppm, for a normal week with one
site down and for an empty week. Screenshots and page images are kept under the test's tmp directory."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from reports import charts
from reports.weekly import write_report
from reports.weeks import Week
from storage.db import make_engine
from storage.migrate import upgrade
from tests.test_report import TREND, WEEK, crawl, rec, wednesday, week_records

CHROMIUM = os.environ.get("NARCOWATCH_CHROMIUM") or "/usr/lib/chromium/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
pytestmark = [pytest.mark.browser, pytest.mark.timeout(240),
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Debian chromium at {CHROMIUM}")]


def ink(image: Image.Image) -> float:
    """Share of pixels that are not (near) white."""
    grey = image.convert("L")
    hist = grey.histogram()
    return 1 - sum(hist[245:]) / (grey.width * grey.height)


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    """Two report directories from one database: 2026-W47 (8 weeks of data, market m2 down all week) and
    2026-W30 (no crawl at all)."""
    tmp = tmp_path_factory.mktemp("report_browser")
    engine = make_engine(f"sqlite:///{tmp / 'nw.db'}")
    upgrade(engine)
    out = {}
    with Session(engine) as session:
        for i, week in enumerate(TREND):
            crawl(session, "m1", wednesday(week), week_records(i))
            crawl(session, "m2", wednesday(week), [rec("Z", "Weed 1g", "10", "EUR", 1, "g", ["cannabis"], "ES",
                                                      category="cannabis")],
                  status="failed" if week == WEEK else "finished")
        for name, week in (("busy", WEEK), ("empty", Week.parse("2026-W30"))):
            out[name] = tmp / name
            write_report(session, week, out[name])
    engine.dispose()
    return out


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.mark.parametrize("which", ["busy", "empty"])
def test_html_shows_every_chart_in_chromium(reports, browser, which):
    folder = reports[which]
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else outside.append(r.url))
    page.goto((folder / "report.html").as_uri())
    page.wait_for_load_state("load")
    images = page.evaluate("""[...document.images].map(i => ({alt: i.alt, complete: i.complete,
        w: i.naturalWidth, h: i.naturalHeight, shown: i.getBoundingClientRect().width}))""")
    assert len(images) == len(charts.CHARTS)
    for img in images:  # decoded SVG with a size, laid out at a readable width
        assert img["complete"] and img["w"] > 300 and img["h"] > 100 and img["shown"] > 600, img
    assert outside == []  # self-contained: nothing fetched from anywhere
    headings = page.eval_on_selector_all("h2", "els => els.map(e => e.textContent)")
    assert headings == ["Key figures", "1. Listings by category and substance", "2. Prices", "3. Routes",
                        "4. Vendors", "5. Emerging terms (early warning)", "6. Forum signals",
                        "7. Coverage and data quality"]
    page.screenshot(path=str(folder / "screenshot.png"), full_page=True)
    for i, element in enumerate(page.query_selector_all("figure img")):
        shot = folder / f"chart-{i}.png"
        element.screenshot(path=str(shot))
        with Image.open(shot) as im:
            # a chart with data is bars, lines or cells; an empty week's charts are a title and "No data"
            assert ink(im) > (0.02 if which == "busy" else 0.004), f"chart {images[i]['alt']!r} is blank"
    notes = page.inner_text(".notes")
    if which == "busy":
        assert "M2 (m2): site down or not crawled this week" in notes
    else:
        assert "No crawl succeeded in 2026-W30" in notes
    page.close()


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (pdftoppm)")
@pytest.mark.parametrize("which", ["busy", "empty"])
def test_pdf_pages_render_with_pdftoppm(reports, which):
    folder = reports[which]
    info = subprocess.run(["pdfinfo", str(folder / "report.pdf")], capture_output=True, text=True, check=True)
    pages = int(next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages:")))
    assert "A4" in info.stdout and pages >= 2
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(folder / "report.pdf"), str(folder / "page")],
                   check=True, capture_output=True, timeout=120)
    images = sorted(folder.glob("page-*.png"))
    assert len(images) == pages
    for image in images:
        with Image.open(image) as im:
            assert im.width > 300 and ink(im) > 0.005, f"{image.name} is blank"
    text = subprocess.run(["pdftotext", str(folder / "report.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Weekly drug-market trend report" in text
    expected = "site down or not crawled this week" if which == "busy" else "No crawl succeeded in 2026-W30"
    assert expected in " ".join(text.split())
