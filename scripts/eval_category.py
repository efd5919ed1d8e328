"""Vendor-grouped cross-validation of the category model next to the baseline, on the same folds.

    .venv/bin/python scripts/eval_category.py --data ../shared/data/agora2014/listings.csv [--write-card]

Protocol (fixed, stated in docs/model-card.md): StratifiedGroupKFold by normalised vendor, 5 folds,
seed 0; rows with an empty label are left out. It runs twice, once per label set: `taxonomy` (the labels
the shipped model is trained on: Agora's legal-status and catch-all sections labelled by the substance
named, classifiers/category_mapping.py) and `csv` (the file's `label` column as is); in each run the model
is trained and tested on that label set; the shipped synthetic precursor rows are added to every
training fold and never to a test fold (they are not real and are not evaluated). Baseline: character
2-5-gram TF-IDF (title + description) into a LinearSVC (C=1). Both see exactly the same folds.
Prints accuracy, macro-F1, per-class F1 and confusion matrices; --write-card replaces the block between
the markers in docs/model-card.md. --testbed scores forum posts and listings against the testbed's answer key.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifiers import label_audit  # noqa: E402
from classifiers.category_data import SYNTHETIC_PATH, load_training_data, read_csv  # noqa: E402
from classifiers.category_mapping import LABEL_SETS  # noqa: E402
from classifiers.category_model import (  # noqa: E402
    TrainConfig,
    fit_model,
    grouped_splits,
    label_issues,
    softmax,
    with_substances,
)

CARD = ROOT / "docs" / "model-card.md"
BEGIN, END = "<!-- eval_category:begin -->", "<!-- eval_category:end -->"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "agora2014" / "listings.csv"


def baseline_predict(train_texts: list[str], train_y: list[str], test_texts: list[str]) -> np.ndarray:
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    clf = LinearSVC(C=1.0, random_state=0).fit(vec.fit_transform(train_texts), train_y)
    return clf.predict(vec.transform(test_texts))


def _text(record: dict) -> str:
    return f"{record.get('title', '')} {record.get('description', '')}".strip()


def cross_validate(data_path: Path, folds: int, seed: int, label_set: str = "taxonomy") -> dict:
    real = read_csv(data_path, label_set=label_set)
    synth = read_csv(SYNTHETIC_PATH, synthetic=True)
    records = with_substances(real.records)
    synth_records = with_substances(synth.records)
    y = np.array(real.labels, dtype=object)
    preds = {name: np.empty(len(y), dtype=object) for name in ("model", "alone", "baseline", "bare")}
    top = {name: np.zeros(len(y)) for name in ("model", "alone")}  # the top probability, for calibration
    flips = {"sure": 0, "changed": 0}
    labels = sorted(set(real.labels))
    oof = np.zeros((len(y), len(labels)))
    config = TrainConfig(seed=seed)
    t0 = time.time()
    for k, (tr, te) in enumerate(grouped_splits(real.labels, real.groups, folds, seed), 1):
        train_groups = set(real.groups[i] for i in tr)
        assert not train_groups & set(real.groups[i] for i in te), "a vendor is on both sides of a split"
        tr_records = [records[i] for i in tr] + synth_records
        tr_labels = [real.labels[i] for i in tr] + synth.labels
        tr_groups = [real.groups[i] for i in tr] + synth.groups
        fitted = fit_model(tr_records, tr_labels, tr_groups, config)
        classes = np.array(fitted.classes, dtype=object)
        te_vendors = [real.groups[i] for i in te]
        for name, recs in (("model", [records[i] for i in te]),  # a caller without the extractors:
                           ("bare", [{**records[i], "substances": []} for i in te])):
            d = fitted.parts.decision(recs)
            alone = softmax(d / fitted.temperature)
            # the vendor's other listings in the test fold are its other listings: no label of it is read
            final = fitted.context.apply(alone, te_vendors)[0] if fitted.context is not None else alone
            preds[name][te] = classes[final.argmax(axis=1)]
            if name == "model":
                preds["alone"][te] = classes[alone.argmax(axis=1)]
                top["model"][te], top["alone"][te] = final.max(axis=1), alone.max(axis=1)
                sure = alone.max(axis=1) > 0.95  # read alone with confidence: does the shop overrule it?
                flips["sure"] += int(sure.sum())
                flips["changed"] += int((sure & (final.argmax(axis=1) != alone.argmax(axis=1))).sum())
                for j, label in enumerate(fitted.classes):
                    if label in labels:
                        oof[te, labels.index(label)] = d[:, j]
        preds["baseline"][te] = baseline_predict([_text(records[i]) for i in tr], [real.labels[i] for i in tr],
                                                 [_text(records[i]) for i in te])
        print(f"fold {k}: {len(tr)} train / {len(te)} test rows, {time.time() - t0:.0f}s", file=sys.stderr)
    out = {"n_rows": len(y), "n_vendors": len(set(real.groups)), "skipped": real.skipped_unlabelled,
           "labels": labels, "folds": folds, "seed": seed, "data": data_path.name, "label_set": label_set,
           "relabelled": real.relabelled, "relabel_pairs": real.relabel_pairs}
    for name in ("model", "alone", "baseline"):
        pred = preds[name]
        out[name] = {
            "accuracy": accuracy_score(y, pred),
            "macro_f1": f1_score(y, pred, average="macro", labels=labels),
            "per_class_f1": dict(zip(labels, f1_score(y, pred, average=None, labels=labels), strict=True)),
            "confusion": confusion_matrix(y, pred, labels=labels),
        }
    out["calibration"] = {name: calibration(top[name], preds[name] == y, config.review_threshold)
                          for name in ("model", "alone")}
    out["flips"] = flips
    out["without_extractor"] = {"accuracy": accuracy_score(y, preds["bare"]),
                                "macro_f1": f1_score(y, preds["bare"], average="macro", labels=labels)}
    if real.relabelled:
        # The same out-of-fold predictions (trained on this label set) scored against the file's own labels, on
        # the rows that have one: what a user who trusts Agora's sections sees from this training.
        has = np.array([bool(v) for v in real.original_labels])
        orig = np.array(real.original_labels, dtype=object)[has]
        olabels = sorted(set(orig))
        out["vs_original"] = {name: {"rows": int(has.sum()), "accuracy": accuracy_score(orig, preds[name][has]),
                                     "macro_f1": f1_score(orig, preds[name][has], average="macro", labels=olabels)}
                              for name in ("model", "baseline")}
    out["ceiling"] = ceiling(records, real.labels, real.groups, oof, labels)
    out["audit"] = label_audit_figures(data_path, real, preds)
    return out


def calibration(top: np.ndarray, correct: np.ndarray, threshold: float, bins: int = 15) -> dict:
    """Expected calibration error of the top probability (equal-width bins) and the review rule's effect."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(top, edges[1:-1]), 0, bins - 1)
    ece = sum(abs(top[which == b].mean() - correct[which == b].mean()) * (which == b).mean()
              for b in range(bins) if (which == b).any())
    flagged = top < threshold
    return {"ece": float(ece), "review_share": float(flagged.mean()),
            "accuracy_flagged": float(correct[flagged].mean()) if flagged.any() else float("nan"),
            "accuracy_unflagged": float(correct[~flagged].mean()) if (~flagged).any() else float("nan")}


def label_audit_figures(data_path: Path, real, preds: dict) -> dict | None:
    """Each label set and each prediction against the blind annotation (classifiers/label_audit.py)."""
    taxonomy = read_csv(data_path, label_set="taxonomy")
    key_of = [label_audit.listing_key(g, r["title"], r["description"])
              for r, g in zip(taxonomy.records, taxonomy.groups, strict=True)]
    tax_label = dict(zip(key_of, taxonomy.labels, strict=True))
    keys = [label_audit.listing_key(g, r["title"], r["description"])
            for r, g in zip(real.records, real.groups, strict=True)]
    tax = [tax_label.get(k, "") for k in keys]
    relabelled = [t != o for t, o in zip(tax, real.original_labels, strict=True)]
    return label_audit.audit(real.records, real.groups, relabelled, {
        "file `label` column": real.original_labels, "taxonomy labels": tax,
        "model": list(preds["model"]), "model, listing alone": list(preds["alone"]),
        "baseline": list(preds["baseline"])})


def ceiling(records: list[dict], y: list[str], groups: list[str], oof: np.ndarray, labels: list[str]) -> dict:
    """How far the labels themselves allow a text model to go (analysis only; the metric stays on real labels).

    * substance oracle: every row whose extractors find substances gets the most common label of its exact
      substance set, counted on all rows (in-sample, so optimistic): the best any rule "substance -> label"
      can do when it knows the substance perfectly;
    * title agreement: rows whose normalised title (letters only, word set) also occurs at another vendor;
      how often their label equals the other vendors' most common label for that title;
    * label issues: confident-learning issues in the model's vendor-grouped out-of-fold predictions, and
      the label pairs they fall on.
    """
    import re
    from collections import Counter, defaultdict

    yy = np.array(y, dtype=object)
    keys = [tuple(sorted({str(s.get("canonical")) for s in r.get("substances") or []})) for r in records]
    by_key: dict[tuple, Counter] = defaultdict(Counter)
    for k, lab in zip(keys, y, strict=True):
        by_key[k][lab] += 1
    has = np.array([bool(k) for k in keys])
    oracle = np.array([by_key[k].most_common(1)[0][0] for k in keys], dtype=object)
    by_title: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r, lab, g in zip(records, y, groups, strict=True):
        by_title[" ".join(sorted(set(re.sub(r"[^a-z]+", " ", r["title"].lower()).split())))].append((g, lab))
    shared = agree = 0
    for rows in by_title.values():
        if len({g for g, _ in rows}) < 2:
            continue
        for g, lab in rows:
            shared += 1
            agree += Counter(x for gg, x in rows if gg != g).most_common(1)[0][0] == lab
    y_index = np.array([labels.index(v) for v in y])
    issues = label_issues(oof, y_index)
    suggested = np.where(oof >= -9, oof, -np.inf).argmax(axis=1)
    pairs = Counter((y[i], labels[suggested[i]]) for i in np.where(issues)[0])
    wrong = oof.argmax(axis=1) != y_index
    return {
        "oracle_rows": int(has.sum()),
        "oracle_accuracy": accuracy_score(yy[has], oracle[has]),
        "oracle_macro_f1": f1_score(yy[has], oracle[has], average="macro", labels=labels),
        "oracle_per_class": dict(zip(labels, f1_score(yy[has], oracle[has], average=None, labels=labels),
                                     strict=True)),
        "shared_title_rows": shared,
        "shared_title_agreement": agree / shared if shared else float("nan"),
        "issues": int(issues.sum()),
        "errors": int(wrong.sum()),
        "errors_that_are_issues": int((wrong & issues).sum()),
        "issue_pairs": pairs.most_common(8),
    }


def _confusion_md(cm: np.ndarray, labels: list[str]) -> str:
    short = [lab[:6] for lab in labels]
    lines = ["| true \\ predicted | " + " | ".join(short) + " |", "|---" * (len(labels) + 1) + "|"]
    for lab, row in zip(labels, cm, strict=True):
        lines.append(f"| {lab} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


LABEL_SET_TEXT = {
    "taxonomy": "taxonomy labels (the shipped model's training labels; classifiers/category_mapping.py)",
    "csv": "original labels (the file's `label` column as is)",
}


def render_all(results: list[dict]) -> str:
    first = results[0]
    lines = [
        f"Vendor-grouped {first['folds']}-fold CV (StratifiedGroupKFold, seed {first['seed']}) on "
        f"{first['data']}, model and baseline on the same folds, once per label set. Reproduce: "
        "`.venv/bin/python scripts/eval_category.py --data ../shared/data/agora2014/listings.csv`.",
        "",
        "Model: the shipped configuration, each listing read with its vendor's other listings in the test fold "
        "(vendor context, no label of a test vendor is read); listing alone: the same model without that stage.",
        "",
        "| label set | rows | vendors | model accuracy | model macro-F1 | listing alone accuracy | "
        "listing alone macro-F1 | baseline accuracy | baseline macro-F1 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        m, a, b = res["model"], res["alone"], res["baseline"]
        lines.append(f"| {res['label_set']} | {res['n_rows']} | {res['n_vendors']} | {m['accuracy']:.3f} | "
                     f"{m['macro_f1']:.3f} | {a['accuracy']:.3f} | {a['macro_f1']:.3f} | {b['accuracy']:.3f} | "
                     f"{b['macro_f1']:.3f} |")
    audit = next((res["audit"] for res in results if res.get("audit")), None)
    if audit:
        lines += ["", render_audit(results)]
    for res in results:
        if "vs_original" in res:
            vm, vb = res["vs_original"]["model"], res["vs_original"]["baseline"]
            lines += ["", f"Trained on the {res['label_set']} labels but scored against the file's original labels "
                      f"({vm['rows']} rows): model accuracy {vm['accuracy']:.3f}, macro-F1 {vm['macro_f1']:.3f}; "
                      f"baseline {vb['accuracy']:.3f}, {vb['macro_f1']:.3f}."]
    return "\n".join(lines + ["", *("\n".join(["", render(res)]) for res in results)])


def render_audit(results: list[dict]) -> str:
    """The blind label audit: how often each label set and each model's predictions match the annotator."""
    first = next(res["audit"] for res in results if res.get("audit"))
    size = first["strata"]
    lines = [f"Blind label audit (classifiers/label_audit.py): {first['annotated']} listings annotated from their "
             f"text by an annotator who saw neither label set ({first['unclear']} marked unclear), 150 drawn from "
             f"the rows whose two labels differ ({size['relabelled']} here) and 150 from the rest "
             f"({size['unchanged']}); 'whole data' weights the two strata by their size.", "",
             "| run | answer | relabelled rows | other rows | whole data (estimate) |", "|---|---|---|---|---|"]
    for res in results:
        if not res.get("audit"):
            continue
        for name, fig in res["audit"]["answers"].items():
            if name in ("file `label` column", "taxonomy labels") and res is not results[0]:
                continue  # the labels themselves do not depend on the run
            cells = " | ".join(f"{h}/{n} ({h / n:.3f})" if n else "-" for h, n in fig["per_stratum"].values())
            run = "-" if name in ("file `label` column", "taxonomy labels") else f"{res['label_set']} labels"
            lines.append(f"| {run} | {name} | {cells} | {fig['estimate']:.3f} |")
    return "\n".join(lines)


def render(res: dict) -> str:
    m, b = res["model"], res["baseline"]
    lines = [
        f"#### {LABEL_SET_TEXT.get(res['label_set'], res['label_set'])}",
        "",
        f"{res['n_rows']} labelled rows, {res['n_vendors']} vendors ({res['skipped']} rows with an empty label "
        f"left out; {res['relabelled']} rows carry a label other than the file's `label` column"
        + (": " + ", ".join(f"{a} -> {b} {n}" for (a, b), n in sorted(res["relabel_pairs"].items()))
           if res["relabelled"] else "") + ").",
        "",
        "| | accuracy | macro-F1 |",
        "|---|---|---|",
        f"| narcowatch model (with vendor context) | {m['accuracy']:.3f} | {m['macro_f1']:.3f} |",
        f"| narcowatch model, listing alone | {res['alone']['accuracy']:.3f} | {res['alone']['macro_f1']:.3f} |",
        f"| baseline (char TF-IDF + LinearSVC) | {b['accuracy']:.3f} | {b['macro_f1']:.3f} |",
        "",
        "| class | F1 model | F1 listing alone | F1 baseline |",
        "|---|---|---|---|",
    ]
    for lab in res["labels"]:
        lines.append(f"| {lab} | {m['per_class_f1'][lab]:.3f} | {res['alone']['per_class_f1'][lab]:.3f} | "
                     f"{b['per_class_f1'][lab]:.3f} |")
    cal = res["calibration"]
    lines += ["", "Calibration of the top probability (expected calibration error, 15 bins) and the review rule "
              "(`needs_review` below 0.6): " + "; ".join(
                  f"{label}: ECE {cal[k]['ece']:.3f}, {cal[k]['review_share']:.1%} flagged, accuracy "
                  f"{cal[k]['accuracy_flagged']:.3f} flagged / {cal[k]['accuracy_unflagged']:.3f} not flagged"
                  for k, label in (("model", "model with vendor context"), ("alone", "listing alone"))) + ".",
              "", f"Listings read alone with a top probability above 0.95: {res['flips']['sure']}; the vendor context "
              f"changed the class of {res['flips']['changed']} of them."]
    wx = res["without_extractor"]
    lines += ["", f"Model given `substances: []` (a caller without the extractors; the term list and text still "
              f"read): accuracy {wx['accuracy']:.3f}, macro-F1 {wx['macro_f1']:.3f}."]
    if "vs_original" in res:
        vm, vb = res["vs_original"]["model"], res["vs_original"]["baseline"]
        lines += ["", f"The same out-of-fold predictions scored against the file's original `label` column "
                  f"({vm['rows']} rows that have one): model accuracy {vm['accuracy']:.3f}, macro-F1 "
                  f"{vm['macro_f1']:.3f}; baseline accuracy {vb['accuracy']:.3f}, macro-F1 {vb['macro_f1']:.3f}."]
    lines += ["", "Confusion matrix, model (rows: true label):", "", _confusion_md(m["confusion"], res["labels"]),
              "", "Confusion matrix, baseline:", "", _confusion_md(b["confusion"], res["labels"])]
    c = res["ceiling"]
    weak = ", ".join(f"{k} {v:.2f}" for k, v in sorted(c["oracle_per_class"].items(), key=lambda kv: kv[1])[:4])
    pairs = "; ".join(f"{a} -> {b} {n}" for (a, b), n in c["issue_pairs"])
    lines += ["", "Ceiling analysis (label noise; analysis only, the figures above are on this label set):", "",
              f"- substance oracle: the {c['oracle_rows']} rows where the extractors find substances, each given "
              "the most common label of its exact substance set (in-sample, optimistic): accuracy "
              f"{c['oracle_accuracy']:.3f}, macro-F1 {c['oracle_macro_f1']:.3f}; weakest classes {weak}.",
              f"- identical titles across vendors: {c['shared_title_rows']} rows share their normalised title "
              f"with another vendor; their label equals the other vendors' majority label in "
              f"{c['shared_title_agreement']:.1%} of them.",
              f"- confident learning on the model's out-of-fold predictions: {c['issues']} rows "
              f"({c['issues'] / res['n_rows']:.1%}) are label issues; {c['errors_that_are_issues']} of the model's "
              f"{c['errors']} errors are among them. Label -> suggested: {pairs}."]
    return "\n".join(lines)


def write_card(block: str) -> None:
    text = CARD.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{CARD}: markers {BEGIN} / {END} not found; add them where the figures go")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    CARD.write_text(f"{head}{BEGIN}\n{block}\n{END}{tail}", encoding="utf-8")
    print(f"updated {CARD}", file=sys.stderr)


def _canonical_categories() -> dict[str, str]:
    import csv
    with (ROOT / "extractors" / "data" / "canonical.csv").open(newline="", encoding="utf-8") as fh:
        return {row["id"]: row["category"] for row in csv.DictReader(fh)}


def eval_testbed(seeds: list[int], days: list[int]) -> None:
    """Forum posts (trade relevance, category) and market listings (category) against the answer key.

    Testbed text is generated, not real: these figures check the plumbing and the synthetic vocabulary,
    they are not a measure of accuracy on real markets. A post's true category is the category of its
    substances when they all share one; posts naming no substance or several categories are not scored.
    """
    try:
        from testbed import answer_key  # type: ignore[attr-defined]
    except ImportError:
        raise SystemExit("testbed.answer_key is not available; nothing to evaluate") from None
    from sklearn.metrics import roc_auc_score

    from classifiers.category import predict_categories, score_post
    from classifiers.category_model import extractor_substances
    from classifiers.post_relevance import trade_relevance

    canon = _canonical_categories()
    y_trade, s_trade, s_text, y_cat, p_cat, y_lst, p_lst, p_alone = [], [], [], [], [], [], [], []
    for seed in seeds:
        for day in days:
            key = answer_key(seed, day)
            titles = {t.get("thread_id"): str(t.get("title") or "") for t in key.get("threads", [])}
            for post in key.get("posts", []):
                text = str(post.get("text") or "")
                context = f"{titles.get(post.get('thread_id'), '')} \n {post.get('board') or ''}"
                res = score_post(text, None, context)
                s_text.append(trade_relevance(text, extractor_substances({"title": text}))[0])
                y_trade.append(bool(post.get("is_trade")))
                s_trade.append(res["trade_relevance"])
                cats = {canon.get(s) for s in post.get("substances") or []} - {None}
                truth = post.get("category") or (cats.pop() if len(cats) == 1 else None)
                if truth:
                    y_cat.append(truth)
                    p_cat.append(res["category"])
            listings = [x for x in key.get("listings", []) if x.get("category")]
            preds = predict_categories([{"title": x.get("title", ""), "description": x.get("description", ""),
                                         "substances": None, "vendor": f"{x.get('site')}/{x.get('vendor')}"}
                                        for x in listings])
            y_lst += [x["category"] for x in listings]
            p_lst += [p["category"] for p in preds]
            p_alone += [max(p["listing_scores"], key=p["listing_scores"].get) for p in preds]
    pred = [s >= 0.5 for s in s_trade]
    print(f"testbed seeds {seeds} days {days}")
    text_pred = [s >= 0.5 for s in s_text]
    print(f"posts: {len(y_trade)} ({sum(y_trade)} trade); trade relevance (read with thread title and board) "
          f"ROC AUC {roc_auc_score(y_trade, s_trade):.3f}, F1@0.5 {f1_score(y_trade, pred):.3f}, "
          f"accuracy@0.5 {accuracy_score(y_trade, pred):.3f}; the post's text alone: ROC AUC "
          f"{roc_auc_score(y_trade, s_text):.3f}, F1@0.5 {f1_score(y_trade, text_pred):.3f}")
    if y_cat:
        print(f"post category (posts naming one category): accuracy {accuracy_score(y_cat, p_cat):.3f}, "
              f"macro-F1 {f1_score(y_cat, p_cat, average='macro'):.3f} on {len(y_cat)} posts")
    if y_lst:
        print(f"listing category (with vendor context): accuracy {accuracy_score(y_lst, p_lst):.3f}, macro-F1 "
              f"{f1_score(y_lst, p_lst, average='macro'):.3f} on {len(y_lst)} listings; listing alone: accuracy "
              f"{accuracy_score(y_lst, p_alone):.3f}, macro-F1 {f1_score(y_lst, p_alone, average='macro'):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled listings CSV")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--labels", nargs="+", choices=LABEL_SETS, default=list(LABEL_SETS),
                    help="label sets to evaluate on (default: taxonomy and csv)")
    ap.add_argument("--write-card", action="store_true", help="write the figures into docs/model-card.md")
    ap.add_argument("--without-late-additions", action="store_true",
                    help="taxonomy labels without the names added after seeing CV errors (robustness check; "
                         "never with --write-card)")
    ap.add_argument("--testbed", action="store_true",
                    help="evaluate posts (trade relevance, category) and listings on the testbed answer key")
    # seed 1 day 1 was read while the post cues were written (docs/model-card.md): not in the default
    ap.add_argument("--testbed-seeds", type=int, nargs="*", default=[2, 3])
    ap.add_argument("--testbed-days", type=int, nargs="*", default=[1, 7])
    args = ap.parse_args()
    if args.testbed:
        eval_testbed(args.testbed_seeds, args.testbed_days)
        return
    if args.without_late_additions:
        if args.write_card:
            raise SystemExit("--without-late-additions is a robustness check; it does not write the card")
        from classifiers.category_mapping import without_late_additions
        without_late_additions()
    load_training_data([args.data])  # validates the file with a clear error before the long run
    block = render_all([cross_validate(args.data, args.folds, args.seed, label_set) for label_set in args.labels])
    print(block)
    if args.write_card:
        write_card(block)


if __name__ == "__main__":
    main()
