"""Category classifier: data reading, term evidence, training on small data of our own, the shipped model,
the public API contract and the train command. Only the shared_data tests read ../shared/data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from classifiers import category
from classifiers.category_data import DataError, load_training_data, normalise_vendor, read_csv
from classifiers.category_lexicon import TermMatcher, default_matcher
from classifiers.category_model import MODEL_DIR, CategoryModel, TrainConfig, train
from classifiers.category_taxonomy import LABELS

SAMPLE = Path(__file__).parent / "data" / "category_sample.csv"
SHARED_LISTINGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "agora2014" / "listings.csv"


@pytest.fixture(scope="module")
def tiny_model() -> CategoryModel:
    data = load_training_data([SAMPLE])
    return train(data.records, data.labels, data.groups, TrainConfig(calibration_folds=3, min_df=1, issue_folds=2))


@pytest.fixture()
def restore_model():
    yield
    category.set_model(None)


def test_read_csv_skips_ambiguous_rows_and_groups_vendor_spellings(tmp_path):
    data = read_csv(SAMPLE)
    assert data.skipped_unlabelled == 1
    assert "" not in data.labels and set(data.labels) <= set(LABELS)
    assert normalise_vendor("/user/-Inanna-") == normalise_vendor("-Inanna-") == "-inanna-"
    assert normalise_vendor("Hesh%21") == "hesh!"


def test_read_csv_names_file_line_and_field(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("vendor,title,label\nv1,Some weed,cannabis\nv2,Pills,speedballs\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.csv: line 3: field label: unknown category 'speedballs'"):
        read_csv(bad)
    bad.write_text("seller,title,label\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing column"):
        read_csv(bad)


def test_taxonomy_mapping_lets_the_substance_decide_only_in_mixed_sections():
    from classifiers.category_mapping import taxonomy_label

    # Agora's legal-status sections: the named substance decides (DESIGN.md: one label per substance).
    assert taxonomy_label("Drugs/Prescription", "prescription", "10x XANAX 2mg bars") == "benzodiazepines"
    assert taxonomy_label("Drugs/Prescription", "prescription", "tramadol-225mg-500-pills") == "opioids"
    assert taxonomy_label("Drugs/Prescription", "prescription", "Kamagra 100mg jelly") == "prescription"
    assert taxonomy_label("Drugs/RCs", "nps", "METHOXETAMINE (MXE) 5GR") == "dissociatives"
    assert taxonomy_label("Drugs/Ecstasy/Other", "ecstasy", "250g Ethylone - Moonrock") == "nps"
    assert taxonomy_label("Drugs/Cannabis/Synthetics", "cannabis", "2g PURE JWH-018") == "nps"
    # Nothing named, or two classes named: the section's label stays.
    assert taxonomy_label("Drugs/Prescription", "prescription", "Custom for PB") == "prescription"
    assert taxonomy_label("Drugs/Prescription", "prescription", "Hydrocodone 10mg + Soma 350mg") == "prescription"
    # Sections named after a class keep the vendor's choice; guides stay not_drug; fixed spellings.
    assert taxonomy_label("Drugs/Benzos", "benzodiazepines", "Ambien (Zolpidem) 10mg") == "benzodiazepines"
    assert taxonomy_label("Information/Guides", "not_drug", "How to make MDMA") == "not_drug"
    assert taxonomy_label("Drugs/Ecstasy-MDMA", "", "1 gram MDMA") == "ecstasy"
    assert taxonomy_label("Drugs/Other", "", "100ml GBL") == ""
    # Whole words only.
    assert taxonomy_label("Drugs/Prescription", "prescription", "Somatic relief xanaxish") == "prescription"


def test_read_csv_label_sets(tmp_path):
    path = tmp_path / "agora.csv"
    path.write_text("vendor,title,label,agora_category\nv1,Valium 10mg,prescription,Drugs/Prescription\n"
                    "v2,Kamagra,prescription,Drugs/Prescription\nv3,MDMA 1g,,Drugs/Ecstasy-MDMA\n", encoding="utf-8")
    tax = read_csv(path)
    assert tax.labels == ["benzodiazepines", "prescription", "ecstasy"] and tax.relabelled == 2
    assert tax.original_labels == ["prescription", "prescription", ""]
    assert tax.relabel_pairs == {("prescription", "benzodiazepines"): 1, ("(empty)", "ecstasy"): 1}
    raw = read_csv(path, label_set="csv")
    assert raw.labels == ["prescription", "prescription"] and raw.relabelled == 0 and raw.skipped_unlabelled == 1
    with pytest.raises(DataError, match="unknown label set 'agora'"):
        read_csv(path, label_set="agora")


def test_term_matcher_tolerates_separators_but_not_partial_words():
    matcher = TermMatcher([{"term": "4-fa", "category": "nps", "tags": "research-chemical"},
                           {"term": "xanax bars", "category": "benzodiazepines", "tags": "brand"},
                           {"term": "xanax", "category": "benzodiazepines", "tags": "brand"}])
    assert [h.term for h in matcher.find("10g 4FA and 5g 4 fa")] == ["4-fa", "4-fa"]
    assert [h.term for h in matcher.find("Pfizer XANAX BARS 2mg")] == ["xanax bars"]
    assert matcher.find("14fab") == []


def test_shipped_terms_cover_rare_substances_with_their_class():
    hits = {h.term: h for h in default_matcher().find("ethylphenidate, pentedrone, bmk glycidate, rivotril")}
    assert hits["ethylphenidate"].category == "nps"
    assert hits["bmk glycidate"].category == "precursors"
    assert hits["rivotril"].category == "benzodiazepines"
    assert default_matcher().find("nice weather, snow and ice") == []


def test_tiny_model_is_seeded_and_round_trips(tiny_model, tmp_path):
    data = load_training_data([SAMPLE])
    again = train(data.records, data.labels, data.groups, TrainConfig(calibration_folds=3, min_df=1, issue_folds=2))
    probe = [{"title": "Xanax 2mg x 10", "substances": []}, {"title": "Amnesia Haze 5g", "substances": []}]
    np.testing.assert_allclose(tiny_model.predict_proba(probe), again.predict_proba(probe))
    tiny_model.save(tmp_path)
    loaded = CategoryModel.load(tmp_path)
    np.testing.assert_allclose(tiny_model.predict_proba(probe), loaded.predict_proba(probe))
    assert json.loads((tmp_path / "category.json").read_text())["version"] == tiny_model.version


def test_extractor_dropout_is_seeded_and_leaves_the_rest_alone():
    from classifiers.category_model import without_extractor

    rows = [{"title": f"row {i}", "substances": [{"canonical": "lsd", "category": "psychedelics"}]}
            for i in range(400)]
    once, again = without_extractor(rows, 0.3, 0), without_extractor(rows, 0.3, 0)
    hidden = [i for i, r in enumerate(once) if r["substances"] == []]
    assert hidden == [i for i, r in enumerate(again) if r["substances"] == []]
    assert 80 < len(hidden) < 160
    assert all(once[i]["title"] == rows[i]["title"] for i in range(400))
    assert rows[hidden[0]]["substances"]  # the caller's records are not modified
    assert without_extractor(rows, 0.0, 0) == rows


def test_label_issues_flags_confident_disagreements_only():
    from classifiers.category_model import label_issues

    # Three classes; row 3 is labelled 0 but predicted 1 as confidently as the real 1s; row 4 is an
    # ordinary uncertain row labelled 2 (its own class wins): only row 3 is an issue.
    d = np.array([[4.0, 0.0, 0.0], [4.0, 0.5, 0.0], [0.0, 4.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.2, 0.5],
                  [0.0, 0.0, 4.0], [0.0, 0.0, 3.0]])
    y = np.array([0, 0, 1, 0, 2, 2, 2])
    assert label_issues(d, y).tolist() == [False, False, False, True, False, False, False]


def test_tiny_model_learns_the_sample_and_includes_synthetic_precursors(tiny_model, restore_model):
    category.set_model(tiny_model)
    out = category.predict_categories([
        {"title": "Ketamine needles 10g", "substances": []},
        {"title": "PMK glycidate 1kg", "description": "", "substances": []},
        {"title": "Valium 10mg x 100", "substances": []},
    ])
    assert [o["category"] for o in out] == ["dissociatives", "precursors", "benzodiazepines"]
    assert tiny_model.meta["class_counts"]["precursors"] > 0


def test_predict_categories_contract_with_shipped_model(restore_model):
    category.set_model(None)
    out = category.predict_categories([{"title": "1g Amnesia Haze", "substances": []},
                                       {"title": "", "description": "", "substances": []}])
    meta = json.loads((MODEL_DIR / "category.json").read_text())
    for item in out:
        assert set(item) == {"category", "category_scores", "needs_review", "model_version", "listing_scores",
                             "vendor_listings_read"}
        assert list(item["category_scores"]) == list(LABELS)
        assert abs(sum(item["category_scores"].values()) - 1.0) < 1e-3
        assert item["category"] == max(item["category_scores"], key=item["category_scores"].get)
        assert item["model_version"] == meta["version"]
    assert out[1]["needs_review"] is True  # nothing to read: never a silent guess
    assert category.predict_categories([]) == []


@pytest.mark.parametrize(("title", "expected"), [
    ("28g Colombian cocaine 90% pure", "stimulants"),
    ("10 x Xanax 2mg bars Pfizer", "benzodiazepines"),
    ("OG Kush 1/2 oz indoor", "cannabis"),
    ("100 x LSD blotters 200ug", "psychedelics"),
    ("5x 30mg Oxycodone IR", "opioids"),
    ("Testosterone Enanthate 250mg/ml 10ml vial", "doping"),
    ("Ketamine crystal 5g", "dissociatives"),
    ("BMK glycidate 1kg", "precursors"),
    ("Rolex Submariner replica watch", "not_drug"),
    ("Netflix premium account lifetime", "not_drug"),
    ("10 x Dutch Tesla XTC pills 240mg MDMA", "ecstasy"),
])
def test_shipped_model_predicts_sensible_labels(title, expected, restore_model):
    category.set_model(None)
    assert category.predict_categories([{"title": title, "substances": []}])[0]["category"] == expected


def test_needs_review_follows_the_threshold(tiny_model, restore_model):
    flat = CategoryModel(tiny_model.parts, 1000.0, tiny_model.meta)  # huge temperature: near-uniform scores
    category.set_model(flat)
    out = category.predict_categories([{"title": "Xanax 2mg x 10", "substances": []}])
    assert out[0]["needs_review"] is True
    category.set_model(tiny_model)
    assert category.predict_categories([{"title": "Xanax 2mg x 10", "substances": []}])[0]["category"] == (
        "benzodiazepines")


def test_score_post_separates_trade_from_talk(restore_model):
    category.set_model(None)
    sale = category.score_post("Selling LSD tabs 150ug, 10 for $80, worldwide shipping, PM me on wickr", [])
    talk = category.score_post("My trip report: the effects of LSD were intense, dose carefully and stay safe", [])
    chat = category.score_post("Anyone watching the football tonight?", [])
    assert sale["trade_relevance"] > 0.8 > 0.3 > talk["trade_relevance"]
    assert chat["trade_relevance"] < 0.1
    assert sale["category"] == "psychedelics"  # without the extractors' substances: the term list and text
    # and with the extractors' real output (None computes it): they find LSD in this text.
    assert category.score_post("Selling LSD tabs 150ug, 10 for $80, worldwide shipping, PM me on wickr",
                               None)["category"] == "psychedelics"
    assert set(sale) >= {"trade_relevance", "category", "category_scores", "needs_review", "model_version"}


def test_where_a_post_stands_counts_for_its_trade_relevance(restore_model):
    from classifiers.post_relevance import trade_relevance

    reply = "Agreed, good call."
    sales = trade_relevance(reply, [], "[WTS] Ketamine 5g - IceShop \n vendors")[0]
    care = trade_relevance(reply, [], "How to stay safe at festivals \n harm-reduction")[0]
    alone = trade_relevance(reply, [])[0]
    assert care < alone < sales
    # vendor reviews and orders, in English and in the markets' other languages
    for text in ("Got my order from IceShop, legit vendor, would buy again. 2g ketamine",
                 "Recibí el pedido de IceShop, 5g de ketamina, vendedor serio.",
                 "Ketamin bestellt, nach 4 Tagen angekommen, seriöser Verkäufer."):
        assert trade_relevance(text, [{"canonical": "ketamine"}])[0] > 0.6, text
    assert trade_relevance("My trip report: ketamine effects, dose carefully", [{"canonical": "ketamine"}],
                           "Trip reports \n harm-reduction")[0] < 0.2
    # the crawl pipeline and analyze pass the context as thread_title and board
    post = category.predict_categories([{"kind": "post", "text": reply, "thread_title": "[WTS] Ketamine 5g",
                                         "board": "vendors", "substances": []}])[0]
    assert post["trade_relevance"] == pytest.approx(sales, abs=1e-6)


def test_posts_get_trade_relevance_through_predict_categories(restore_model):
    category.set_model(None)
    sale, listing = category.predict_categories([
        {"kind": "post", "text": "Selling 10 tabs LSD 150ug, $8 each, PM me, ships worldwide", "substances": []},
        {"title": "10 tabs LSD 150ug", "substances": []}])
    direct = category.score_post("Selling 10 tabs LSD 150ug, $8 each, PM me, ships worldwide", [])
    assert sale["trade_relevance"] == direct["trade_relevance"] > 0.8
    assert "trade_relevance" not in listing


def test_train_command_writes_a_model_and_reports_bad_input(tmp_path):
    from narcowatch.cli import cli

    runner = CliRunner()
    res = runner.invoke(cli, ["train", "category", "--data", str(SAMPLE), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "1 rows with an empty label skipped" in res.output
    assert (tmp_path / "category.joblib").is_file()
    assert re.search(r"category-\d{8}-[0-9a-f]{8}", res.output)
    missing = runner.invoke(cli, ["train", "category", "--data", str(tmp_path / "nope.csv"), "--out", str(tmp_path)])
    assert missing.exit_code != 0 and "nope.csv: no such file" in missing.output


def test_shipped_model_is_small():
    assert (MODEL_DIR / "category.joblib").stat().st_size < 5_000_000


@pytest.mark.shared_data
def test_shipped_model_was_trained_on_the_agora_listings():
    from classifiers.category_model import data_fingerprint, with_substances

    meta = json.loads((MODEL_DIR / "category.json").read_text())
    data = load_training_data([SHARED_LISTINGS])
    assert data_fingerprint(with_substances(data.records), data.labels) == meta["data_sha256"]
    assert meta["n_rows"] == len(data)
