"""Training, calibration and persistence of the listing category model.

Model: TF-IDF word 1-2 grams + character 2-5 grams, plus the substance-evidence block
(classifiers.category_features), into a one-vs-rest linear SVM. Why this and not a spaCy textcat: on
8k short titles a linear model over character n-grams is as accurate as TextCatBOW/ensemble, trains in
seconds on one core, and its size is bounded by `max_features`; spaCy adds nothing the evidence block
does not already give (no pretrained vectors can be downloaded here).

Vendor weighting: a few vendors list hundreds of near-identical items; each row is weighted by
1/sqrt(rows of its vendor) so that the model learns what vendors in general write, not what the largest
shop writes. Calibration: the SVM's decision values are turned into probabilities by a softmax with one
temperature fitted on out-of-fold, vendor-grouped decision values (so the probabilities describe unseen
vendors, which is what production sees).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy import sparse
from scipy.optimize import minimize_scalar
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.svm import LinearSVC

from classifiers.category_context import VendorContext
from classifiers.category_features import EvidenceFeatures, TextFeatures
from classifiers.category_taxonomy import LABELS

log = logging.getLogger(__name__)
MODEL_DIR = Path(__file__).with_name("models")
MODEL_FILE = "category.joblib"
META_FILE = "category.json"
FORMAT = 3  # 2: a vendor-context stage is part of the model; 3: that stage is a product of experts


@dataclass
class TrainConfig:
    C: float = 0.5
    vendor_weight_power: float = 0.5
    max_features: int = 20_000
    char_range: tuple[int, int] = (2, 5)
    min_df: int = 2
    seed: int = 0
    calibration_folds: int = 5
    # Items whose top calibrated probability is below this go to review instead of being trusted.
    review_threshold: float = 0.6
    # Confident learning: leave out training rows whose label disagrees confidently with vendor-grouped
    # out-of-fold predictions (computed on the training rows only), then fit on the rest.
    drop_label_issues: bool = True
    issue_folds: int = 4
    # Share of training rows (seeded draw) whose extractor substances are hidden, so that the model does not
    # collapse when a caller has none (extractors not installed, or `substances: []`); see without_extractor.
    evidence_dropout: float = 0.3
    # Second stage reading the vendor's other listings (classifiers.category_context); off: listing alone.
    vendor_context: bool = True


def extractor_substances(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The extractors' substances for a record: as given, else computed when the extractors exist."""
    if record.get("substances") is not None:
        return list(record["substances"])
    try:
        from extractors import analyze_text  # type: ignore[attr-defined]
    except ImportError:
        return []
    result = analyze_text(str(record.get("title") or ""), str(record.get("description") or ""),
                          str(record.get("text") or ""))
    return list(result.get("substances") or [])


def evidence_source() -> str:
    try:
        from extractors import analyze_text  # type: ignore[attr-defined]  # noqa: F401
    except ImportError:
        return "category_terms.csv only (extractors.analyze_text not available at training time)"
    return "category_terms.csv + extractors.analyze_text"


def with_substances(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "substances": extractor_substances(r)} for r in records]


def vendor_weights(groups: Sequence[str], power: float) -> np.ndarray:
    counts = Counter(groups)
    w = np.array([1.0 / counts[g] ** power for g in groups], dtype=np.float64)
    return w / w.mean()


@dataclass
class FittedParts:
    text: TextFeatures
    evidence: EvidenceFeatures
    clf: LinearSVC

    def decision(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        X = sparse.hstack([self.text.transform(records), self.evidence.transform(records)], format="csr")
        d = self.clf.decision_function(X)
        return d.reshape(len(records), -1) if d.ndim == 1 else d


def without_extractor(records: Sequence[Mapping[str, Any]], share: float, seed: int) -> list[Mapping[str, Any]]:
    """Training rows with the extractors' substances emptied in a seeded `share` of them.

    Without this the model leans on the extractor block so much that, given `substances: []`, vendor-grouped
    accuracy falls from 0.945 to 0.70; with 30% of rows hidden it stays 0.944 with the extractors' output and
    0.91 without (docs/model-card.md). The term-list evidence and the text are untouched.
    """
    if share <= 0:
        return list(records)
    hide = np.random.RandomState(seed).random_sample(len(records)) < share
    return [{**r, "substances": []} if h else r for r, h in zip(records, hide, strict=True)]


def fit_parts(records: Sequence[Mapping[str, Any]], labels: Sequence[str], groups: Sequence[str],
              config: TrainConfig) -> FittedParts:
    records = without_extractor(records, config.evidence_dropout, config.seed)
    text = TextFeatures(min_df=config.min_df, char_range=config.char_range,
                        max_features=config.max_features).fit(records)
    evidence = EvidenceFeatures()
    X = sparse.hstack([text.transform(records), evidence.transform(records)], format="csr")
    clf = LinearSVC(C=config.C, random_state=config.seed, max_iter=5000)
    clf.fit(X, np.asarray(labels), sample_weight=vendor_weights(groups, config.vendor_weight_power))
    return FittedParts(text, evidence, clf)


def label_issues(decisions: np.ndarray, y_index: np.ndarray) -> np.ndarray:
    """Confident-learning label issues (Northcutt et al. 2021, "confident joint" rule).

    `decisions` are out-of-fold decision values (rows x classes). After a softmax with a fitted
    temperature, class k's threshold is the mean probability of k over rows labelled k; a row is an issue
    when some other class reaches its own threshold and beats every other such class. Returns a mask.
    """
    p = softmax(decisions / fit_temperature(decisions, y_index))
    n_classes = p.shape[1]
    thresholds = np.array([p[y_index == k, k].mean() if (y_index == k).any() else 1.0
                           for k in range(n_classes)])
    masked = np.where(p >= thresholds, p, -1.0)
    best = masked.argmax(axis=1)
    has_candidate = masked.max(axis=1) >= 0
    return has_candidate & (best != y_index)


def out_of_fold(records: Sequence[Mapping[str, Any]], labels: Sequence[str], groups: Sequence[str],
                config: TrainConfig, n_splits: int, *, clean: bool) -> tuple[np.ndarray, list[str]]:
    """Vendor-grouped out-of-fold decision values (columns: sorted labels) of plain or cleaned fits."""
    classes = sorted(set(labels))
    oof = np.zeros((len(labels), len(classes)))
    fit = fit_clean if clean else fit_parts
    for tr, te in grouped_splits(labels, groups, n_splits, config.seed):
        parts = fit([records[i] for i in tr], [labels[i] for i in tr], [groups[i] for i in tr], config)
        d = parts.decision([records[i] for i in te])
        for j, label in enumerate(parts.clf.classes_):
            oof[te, classes.index(label)] = d[:, j]
        for label in set(classes) - set(parts.clf.classes_):  # absent from a training fold: never wins
            oof[te, classes.index(label)] = -10.0
    return oof, classes


def fit_clean(records: Sequence[Mapping[str, Any]], labels: Sequence[str], groups: Sequence[str],
              config: TrainConfig) -> FittedParts:
    """fit_parts, after leaving out the confident label issues of these (training) rows when configured.

    The issues are found with vendor-grouped folds inside the rows given, so an evaluation that calls this
    on a training fold never looks at its test fold. The feature extractors (unsupervised) are fitted once
    on all the rows given and shared by the inner folds. Synthetic rows (vendor `synthetic-*`, written
    here, few) are never left out.
    """
    if not config.drop_label_issues or len(set(groups)) < 3:
        return fit_parts(records, labels, groups, config)
    records = without_extractor(records, config.evidence_dropout, config.seed)
    text = TextFeatures(min_df=config.min_df, char_range=config.char_range,
                        max_features=config.max_features).fit(records)
    evidence = EvidenceFeatures()
    X = sparse.hstack([text.transform(records), evidence.transform(records)], format="csr")
    y = np.asarray(labels)
    classes = sorted(set(labels))
    oof = np.zeros((len(y), len(classes)))
    for tr, te in grouped_splits(list(labels), list(groups), config.issue_folds, config.seed):
        clf = LinearSVC(C=config.C, random_state=config.seed, max_iter=5000)
        clf.fit(X[tr], y[tr], sample_weight=vendor_weights([groups[i] for i in tr], config.vendor_weight_power))
        d = clf.decision_function(X[te])
        d = d.reshape(len(te), -1) if d.ndim == 1 else d
        for j, label in enumerate(clf.classes_):
            oof[te, classes.index(label)] = d[:, j]
        for label in set(classes) - set(clf.classes_):  # absent from an inner training fold: never wins
            oof[te, classes.index(label)] = -10.0
    issues = label_issues(oof, np.array([classes.index(v) for v in labels]))
    keep = np.array([i for i in range(len(y)) if not issues[i] or str(groups[i]).startswith("synthetic")])
    log.info("confident learning: %d of %d training rows left out as label issues", len(y) - len(keep), len(y))
    clf = LinearSVC(C=config.C, random_state=config.seed, max_iter=5000)
    clf.fit(X[keep], y[keep], sample_weight=vendor_weights([groups[i] for i in keep], config.vendor_weight_power))
    return FittedParts(text, evidence, clf)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(decisions: np.ndarray, y_index: np.ndarray) -> float:
    """One temperature minimising the negative log-likelihood of softmax(decisions / T)."""
    def nll(log_t: float) -> float:
        p = softmax(decisions / np.exp(log_t))
        return float(-np.log(np.clip(p[np.arange(len(y_index)), y_index], 1e-12, None)).mean())
    res = minimize_scalar(nll, bounds=(np.log(0.01), np.log(10.0)), method="bounded")
    return float(np.exp(res.x))


def grouped_splits(labels: Sequence[str], groups: Sequence[str], n_splits: int, seed: int,
                   ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Vendor-grouped, label-stratified folds (no vendor on both sides)."""
    n_groups = len(set(groups))
    k = max(2, min(n_splits, n_groups))
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), np.asarray(labels), np.asarray(groups)))


@dataclass
class Fitted:
    """What training fits, for the shipped model and for each fold of the evaluation alike."""

    parts: FittedParts
    temperature: float
    context: VendorContext | None
    oof: np.ndarray  # vendor-grouped out-of-fold decision values of the training rows (columns: classes)
    classes: list[str]


def fit_model(records: Sequence[Mapping[str, Any]], labels: Sequence[str], groups: Sequence[str],
              config: TrainConfig) -> Fitted:
    """The listing model (cleaned when configured), its temperature and the vendor-context stage.

    Temperature and context stage are fitted on out-of-fold probabilities of the rows given (vendor-grouped
    folds inside them), i.e. on how the listing model reads vendors it has not seen. `records` carry their
    substances already (with_substances)."""
    labels, groups = list(labels), list(groups)
    oof, classes = out_of_fold(records, labels, groups, config, config.calibration_folds,
                               clean=config.drop_label_issues)
    y_index = np.array([classes.index(y) for y in labels])
    temperature = fit_temperature(oof, y_index)
    parts = fit_clean(records, labels, groups, config)
    if list(parts.clf.classes_) != classes:
        raise ValueError(f"classes of the final fit {list(parts.clf.classes_)} differ from the labels {classes}")
    context = None
    if config.vendor_context:
        context = VendorContext.fit(softmax(oof / temperature), labels, groups, classes, seed=config.seed)
    return Fitted(parts, temperature, context, oof, classes)


class CategoryModel:
    """A trained category model: features + SVM + temperature (+ vendor-context stage), with its metadata."""

    def __init__(self, parts: FittedParts, temperature: float, meta: dict[str, Any],
                 context: VendorContext | None = None) -> None:
        self.parts = parts
        self.temperature = temperature
        self.meta = meta
        self.context = context

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "unknown"))

    @property
    def review_threshold(self) -> float:
        return float(self.meta.get("config", {}).get("review_threshold", 0.6))

    def predict_proba(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Calibrated listing-alone probabilities, columns in LABELS order (classes never trained on get 0)."""
        if not records:
            return np.zeros((0, len(LABELS)))
        return self._to_labels(softmax(self.parts.decision(records) / self.temperature))

    def with_vendor_context(self, P: np.ndarray, vendors: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, other listings read) for listing-alone probabilities P (LABELS order) of listings
        whose vendors are `vendors` (None: unknown). A model without the context stage returns P."""
        n_rows = len(P)
        if self.context is None or n_rows == 0:
            return np.asarray(P, dtype=np.float64), np.zeros(n_rows)
        own = np.asarray(P, dtype=np.float64)[:, [LABELS.index(c) for c in self.context.classes]]
        q, n = self.context.apply(own, list(vendors))
        return self._to_labels(q, self.context.classes), n

    def _to_labels(self, p: np.ndarray, classes: Sequence[str] | None = None) -> np.ndarray:
        out = np.zeros((len(p), len(LABELS)))
        for j, label in enumerate(self.parts.clf.classes_ if classes is None else classes):
            out[:, LABELS.index(label)] = p[:, j]
        return out

    def save(self, directory: Path = MODEL_DIR) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / MODEL_FILE
        joblib.dump({"format": FORMAT, "parts": self.parts, "temperature": self.temperature,
                     "context": self.context, "meta": self.meta}, path, compress=("xz", 6))
        (directory / META_FILE).write_text(json.dumps(self.meta, indent=2, sort_keys=True) + "\n",
                                           encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> CategoryModel:
        path = Path(directory) / MODEL_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no trained category model; run `narcowatch train category "
                                    f"--data LISTINGS.csv` or restore the file from git")
        blob = joblib.load(path)
        if blob.get("format") != FORMAT:
            raise ValueError(f"{path}: model format {blob.get('format')} but this code reads {FORMAT}; retrain")
        return cls(blob["parts"], blob["temperature"], blob["meta"], blob.get("context"))


def data_fingerprint(records: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> str:
    h = hashlib.sha256()
    for r, y in zip(records, labels, strict=True):
        h.update(f"{r.get('title', '')}\x1f{r.get('description', '')}\x1f{y}\x1e".encode())
    return h.hexdigest()


def train(records: Sequence[Mapping[str, Any]], labels: Sequence[str], groups: Sequence[str],
          config: TrainConfig | None = None, extra_meta: Mapping[str, Any] | None = None) -> CategoryModel:
    """Fit the final model on everything, calibrated on vendor-grouped out-of-fold decision values."""
    config = config or TrainConfig()
    records = with_substances(records)
    labels = list(labels)
    groups = list(groups)
    # Out-of-fold decision values of the model as trained (cleaned when configured) give the temperature, the
    # vendor-context stage and the review-share statistics: they describe vendors the model has not seen.
    fitted = fit_model(records, labels, groups, config)
    parts, temperature, classes = fitted.parts, fitted.temperature, fitted.classes
    y_index = np.array([classes.index(y) for y in labels])
    p = softmax(fitted.oof / temperature)
    top = p.max(axis=1)
    correct = p.argmax(axis=1) == y_index
    flagged = top < config.review_threshold
    now = datetime.now(UTC)
    fingerprint = data_fingerprint(records, labels)
    meta: dict[str, Any] = {
        "version": f"category-{now:%Y%m%d}-{fingerprint[:8]}",
        "trained_at": now.isoformat(timespec="seconds"),
        "data_sha256": fingerprint,
        "n_rows": len(labels),
        "n_vendors": len(set(groups)),
        "class_counts": dict(sorted(Counter(labels).items())),
        "classes": list(parts.clf.classes_),
        "config": asdict(config),
        "temperature": temperature,
        "evidence_source": evidence_source(),
        "vendor_context": ({"stage": "product of experts: listing-alone probabilities times the smoothed "
                                     "leave-one-out mean of the vendor's other listings (category_context.py)",
                            **{k: getattr(fitted.context, k) for k in ("strength", "half", "eps", "temperature")}}
                           if fitted.context is not None else None),
        "calibration": {
            "oof_accuracy": float(correct.mean()),
            "review_share": float(flagged.mean()),
            "accuracy_unflagged": float(correct[~flagged].mean()) if (~flagged).any() else None,
            "accuracy_flagged": float(correct[flagged].mean()) if flagged.any() else None,
            "mean_top_probability": float(top.mean()),
        },
        **dict(extra_meta or {}),
    }
    log.info("category model %s: %d rows, T=%.3f, review share %.3f", meta["version"], len(labels),
             temperature, meta["calibration"]["review_share"])
    return CategoryModel(parts, temperature, meta, fitted.context)


def describe(meta: Mapping[str, Any]) -> str:
    cal = meta.get("calibration", {})
    return (f"{meta.get('version')}: {meta.get('n_rows')} rows from {meta.get('n_vendors')} vendors; "
            f"temperature {meta.get('temperature', 0):.3f}; out-of-fold accuracy "
            f"{cal.get('oof_accuracy', 0):.3f}; review share {cal.get('review_share', 0):.3f}")


__all__ = ["CategoryModel", "Fitted", "TrainConfig", "fit_model", "train", "describe", "grouped_splits", "fit_parts", "fit_clean",
           "label_issues", "out_of_fold", "with_substances", "without_extractor"]
