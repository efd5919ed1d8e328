"""The vendor-context stage of the category model: leave-one-out vendor means, the second stage learning
from shops on data of its own, and the three places it is applied (one call of predict_categories, stored
scores after a crawl, the end of `narcowatch analyze`) giving the same answers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from classifiers import category
from classifiers.category_context import VendorContext, leave_one_out_means
from classifiers.category_taxonomy import LABELS


@pytest.fixture()
def restore_model():
    yield
    category.set_model(None)


def test_leave_one_out_means_never_read_the_row_itself():
    P = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.2, 0.8], [0.6, 0.4]])
    V, n = leave_one_out_means(P, ["a", "a", "b", None, "a"])
    np.testing.assert_allclose(V[0], (P[1] + P[4]) / 2)
    np.testing.assert_allclose(V[1], (P[0] + P[4]) / 2)
    assert n.tolist() == [2, 2, 0, 0, 2]
    assert V[2].tolist() == [0, 0] and V[3].tolist() == [0, 0]  # alone at its vendor; vendor unknown


def _shops(rng: np.random.RandomState, shops: int, classes: int = 3) -> tuple[np.ndarray, list[int], list[str]]:
    """Listing-alone probabilities of shops that sell one class each: most titles are clear, a third are
    ambiguous (the listing model leans to class 0 whatever the shop sells, like a strain name read as
    not_drug)."""
    P, y, vendors = [], [], []
    for s in range(shops):
        label = s % classes
        for _ in range(rng.randint(1, 12)):
            p = np.full(classes, 0.05)
            if rng.random_sample() < 0.66:
                p[label] += 0.8
            else:  # nothing of the true class in the title
                p[0] += 0.5
            P.append(p / p.sum())
            y.append(label)
            vendors.append(f"shop{s}")
    return np.array(P), y, vendors


def test_the_second_stage_learns_that_a_shop_sells_one_kind_of_thing():
    rng = np.random.RandomState(0)
    P, y, vendors = _shops(rng, 150)
    classes = ["a", "b", "c"]
    stage = VendorContext.fit(P, [classes[k] for k in y], vendors, classes)
    P2, y2, vendors2 = _shops(rng, 60)  # shops it has never seen
    with_context, read = stage.apply(P2, vendors2)
    alone = (P2.argmax(axis=1) == np.array(y2)).mean()
    context = (with_context.argmax(axis=1) == np.array(y2)).mean()
    assert alone < 0.8 and context > alone + 0.1, (alone, context)
    np.testing.assert_allclose(with_context.sum(axis=1), 1.0)
    # a listing the model is sure of keeps its class at a shop of something else (the first version of the
    # stage turned a listing read as stimulants with probability 1.0 into not_drug at a doping shop)
    sure = np.array([[1.0, 0.0, 0.0]] + [[0.0, 0.0, 1.0]] * 20)
    kept, _ = stage.apply(sure, ["odd-shop"] * 21)
    assert kept[0].argmax() == 0 and kept[1:].argmax(axis=1).tolist() == [2] * 20
    # a shop's only listing is read alone: where the listing model was sure, the stage keeps what it said
    single = [i for i, n in enumerate(read) if n == 0 and P2[i].max() > 0.7]
    assert single and (with_context[single].argmax(axis=1) == P2[single].argmax(axis=1)).all()


def test_predict_categories_reads_a_vendor_shop_together(restore_model):
    category.set_model(None)
    shop = ["OG Kush 1/2 oz indoor", "Amnesia Haze 5g", "White Widow 10 grams", "Girl Scout Cookies 7g"]
    odd = "Matanuska Tundra 7g"  # a strain name without a drug word
    alone = category.predict_categories([{"title": odd, "substances": []}])[0]
    together = category.predict_categories(
        [{"title": odd, "substances": [], "vendor": "GreenShop"}]
        + [{"title": t, "substances": [], "vendor": "greenshop "} for t in shop])
    assert alone["vendor_listings_read"] == 0 and alone["category_scores"] == alone["listing_scores"]
    first = together[0]
    assert first["vendor_listings_read"] == 4  # vendor names compared as the store does: trimmed, any case
    assert first["listing_scores"] == alone["listing_scores"]
    assert first["category"] == "cannabis"
    assert first["category_scores"]["cannabis"] > alone["category_scores"]["cannabis"]
    # the same listings, from stored listing-alone scores
    again = category.recategorise(["v"] * 5, [r["listing_scores"] for r in together])
    assert [r["category_scores"] for r in again] == [r["category_scores"] for r in together]
    # posts are never read as a vendor's shop
    post = category.predict_categories([{"kind": "post", "text": odd, "vendor": "GreenShop", "substances": []}]
                                       + [{"title": t, "substances": [], "vendor": "GreenShop"} for t in shop])[0]
    assert post["vendor_listings_read"] == 0


def _listing(s: Session, site_id: int, account_id: int | None, ext: str, scores: dict, run_id: int):
    from storage.models import Listing, utcnow

    now = utcnow()
    best = max(scores, key=scores.get)
    row = Listing(site_id=site_id, external_id=ext, url=f"http://m/{ext}", title=ext, first_seen=now, last_seen=now,
                  category=best, category_scores=scores, needs_review=False, vendor_account_id=account_id,
                  analysis={"listing_scores": scores}, last_crawl_run_id=run_id)
    s.add(row)
    return row


def _scores(**mass: float) -> dict:
    rest = (1.0 - sum(mass.values())) / (len(LABELS) - len(mass))
    return {label: mass.get(label, rest) for label in LABELS}


def test_after_a_crawl_the_vendors_it_saw_are_read_with_their_shop(engine, restore_model):
    from crawler.vendor_context import apply_after_run
    from storage.models import CrawlRun, Listing, Site, VendorAccount, utcnow

    category.set_model(None)
    cannabis = [_scores(cannabis=0.9)] * 4
    unsure = _scores(not_drug=0.45, cannabis=0.4)
    now = utcnow()
    with Session(engine) as s:
        site = Site(slug="m", name="m", kind="market", base_url="http://m/", is_onion=False)
        s.add(site)
        s.flush()
        old, new = CrawlRun(site_id=site.id, started_at=now, status="finished"), CrawlRun(
            site_id=site.id, started_at=now, status="running")
        s.add_all([old, new])
        green, other = (VendorAccount(site_id=site.id, handle=h, first_seen=now, last_seen=now)
                        for h in ("green", "other"))
        s.add_all([green, other])
        s.flush()
        # the shop's cannabis listings were stored by an earlier run; this run saw only the odd one
        for i, scores in enumerate(cannabis):
            _listing(s, site.id, green.id, f"g{i}", scores, old.id)
        odd = _listing(s, site.id, green.id, "odd", unsure, new.id)
        untouched = _listing(s, site.id, other.id, "o1", unsure, old.id)  # a vendor this run did not see
        _listing(s, site.id, other.id, "o2", _scores(cannabis=0.9), old.id)
        s.commit()
        ids, run_id = (odd.id, untouched.id), new.id
    result = apply_after_run(engine, run_id)
    assert result["accounts"] == 1 and result["listings"] == 5 and result["category_changed"] == 1, result
    with Session(engine) as s:
        odd, untouched = (s.get(Listing, i) for i in ids)
        assert odd.category == "cannabis" and odd.analysis["listing_scores"] == unsure
        assert untouched.category == "not_drug" and untouched.category_scores == unsure
    assert apply_after_run(engine, run_id)["changed"] == 0  # idempotent

    class Broken:
        version = "broken"

        def with_vendor_context(self, *_):
            raise RuntimeError("model file damaged")

    category.set_model(Broken())  # type: ignore[arg-type]
    with Session(engine) as s:
        s.get(Listing, ids[0]).category = "not_drug"
        s.commit()
    assert "model file damaged" in apply_after_run(engine, run_id)["error"]
    with Session(engine) as s:  # nothing written, nothing lost
        assert s.scalar(select(Listing.category).where(Listing.id == ids[0])) == "not_drug"


def test_analyze_command_applies_the_vendor_context_whatever_the_chunking(tmp_path, monkeypatch, restore_model):
    from narcowatch.cli import cli
    from narcowatch.commands import analyze as analyze_command

    category.set_model(None)
    rows = [{"id": "odd", "title": "Matanuska Tundra 7g", "vendor": "GreenShop"},
            {"id": "x", "title": "Matanuska Tundra 7g"}]
    rows += [{"id": f"k{i}", "title": t, "vendor": "GreenShop"}
             for i, t in enumerate(["OG Kush 1/2 oz indoor", "Amnesia Haze 5g", "White Widow 10 grams"])]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    outputs = []
    for chunk in (1000, 2):
        monkeypatch.setattr(analyze_command, "CHUNK", chunk)
        out = tmp_path / f"out{chunk}.jsonl"
        res = CliRunner().invoke(cli, ["analyze", "--input", str(src), "--output", str(out)])
        assert res.exit_code == 0, res.output
        outputs.append([json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()])
    assert outputs[0] == outputs[1]
    by_id = {r["id"]: r for r in outputs[0]}
    assert by_id["odd"]["vendor_listings_read"] == 3 and by_id["odd"]["category"] == "cannabis"
    assert "vendor_listings_read" not in by_id["x"]  # no vendor: read alone
    assert by_id["x"]["category_scores"] == by_id["x"]["listing_scores"] == by_id["odd"]["listing_scores"]
