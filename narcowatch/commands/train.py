"""`narcowatch train ...`: train the models that ship in the repository."""

from __future__ import annotations

from pathlib import Path

import click


@click.group(name="train")
def train_group() -> None:
    """Train models that ship with narcowatch (the listing category classifier)."""


@train_group.command(name="category")
@click.option("--data", "data_paths", type=click.Path(path_type=Path), multiple=True, required=True,
              help="Labelled listing CSV (columns vendor, title, label; optional description, text, "
                   "agora_category). "
                   "Repeat for several files, e.g. the Agora listings plus your own rows.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder to write category.joblib and category.json to [default: classifiers/models, "
                   "the shipped model].")
@click.option("--no-synthetic", is_flag=True,
              help="Leave out the shipped synthetic precursor rows (classifiers/models/category_synthetic.csv).")
@click.option("--labels", "label_set", type=click.Choice(["taxonomy", "csv"]), default="taxonomy",
              show_default=True,
              help="taxonomy: rows with an agora_category are labelled by the substance they name in Agora's "
                   "legal-status and catch-all sections (docs/classifier.md); csv: the label column as is.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for folds and the SVM.")
def train_category(data_paths: tuple[Path, ...], out: Path | None, no_synthetic: bool, label_set: str,
                   seed: int) -> None:
    """Train the listing category classifier from labelled CSVs and save it (seeded, reproducible)."""
    from classifiers.category import set_model
    from classifiers.category_data import DataError, load_training_data
    from classifiers.category_model import MODEL_DIR, TrainConfig, describe, train

    try:
        data = load_training_data(list(data_paths), with_synthetic=not no_synthetic, label_set=label_set)
    except DataError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"training on {len(data)} labelled rows from {len(set(data.groups))} vendors "
               f"({data.skipped_unlabelled} rows with an empty label skipped as ambiguous; "
               f"{data.relabelled} rows labelled by the {label_set} mapping differently from their label column)")
    model = train(data.records, data.labels, data.groups, TrainConfig(seed=seed),
                  extra_meta={"sources": [Path(s).name for s in data.sources],
                              "skipped_unlabelled": data.skipped_unlabelled,
                              "label_set": label_set, "relabelled": data.relabelled,
                              "synthetic_rows": int(sum(data.synthetic))})
    path = model.save(out or MODEL_DIR)
    set_model(None)
    click.echo(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB)")
    click.echo(describe(model.meta))


commands = [train_group]
