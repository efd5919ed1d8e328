"""Substance-term evidence for the category classifier: a small curated term list and a fast matcher.

Why a term list of its own: the Agora listings come from a few hundred vendors, and most rare substances
(research chemicals, pharmacy brands, steroid esters) are sold by one or two of them. A text model that
only learns from those rows cannot recognise "ethylphenidate" or "pentedrone" at a vendor it has never
seen; a list of known substance names with their pharmacological class can. The matches become features
of the model (never hard rules), so a noisy term costs little.

The list ships as classifiers/models/category_terms.csv (term, category, tags, source). It is built by
`python -m classifiers.category_lexicon --tripsit DIR --canonical extractors/data/canonical.csv` from
  * TripSit drugs.json (ISC licence): substance keys and aliases with their classes (research-chemical,
    benzodiazepine, opioid, ...), filtered for precision (see `_keep_alias`);
  * extractors/data/canonical.csv: the project's canonical ids, names and taxonomy category;
  * `EXTRA_TERMS` below: brand names, steroids, PDE5 inhibitors and precursors written here by hand.
The extractors' own substance output (extractors.analyze_text) is a second, separate evidence source used
by classifiers/category_features.py when the extractors package is available.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from classifiers.category_taxonomy import LABELS

TERMS_PATH = Path(__file__).with_name("models") / "category_terms.csv"

# Hand-curated: names that sell on markets but that TripSit lacks or files under a class that does not
# match the taxonomy (pharmacy brands, steroids, PDE5 inhibitors, precursors). term -> (category, tags).
EXTRA_TERMS: dict[str, tuple[str, str]] = {
    # benzodiazepines: brands and market names
    **{t: ("benzodiazepines", "benzodiazepine|brand") for t in [
        "xanax", "xannax", "xanex", "alprazolam", "valium", "diazepam", "klonopin", "rivotril", "clonazepam",
        "ativan", "lorazepam", "restoril", "temazepam", "librium", "chlordiazepoxide", "mogadon",
        "nitrazepam", "rohypnol", "flunitrazepam", "halcion", "triazolam", "etizolam", "etilaam",
        "phenazepam", "dormicum", "midazolam", "bromazepam", "lexotan", "xanax bars", "gg249", "r039",
        "s 90 3", "benzo", "benzos", "diclazepam", "flubromazepam", "pyrazolam", "clonazolam"]},
    # opioids
    **{t: ("opioids", "opioid|brand") for t in [
        "oxycodone", "oxycodon", "oxycontin", "oxy", "oxys", "roxy", "roxies", "roxicodone", "percocet",
        "endocet", "targin", "hydrocodone", "vicodin", "norco", "lortab", "hydromorphone", "dilaudid",
        "oxymorphone", "opana", "morphine", "mscontin", "ms contin", "codeine", "actavis",
        "promethazine codeine", "fentanyl", "duragesic", "heroin", "smack", "tar heroin", "black tar",
        "methadone", "buprenorphine", "subutex", "suboxone", "tramadol", "tapentadol", "nucynta",
        "opium", "kratom", "dextropropoxyphene", "darvocet", "darvon", "dihydrocodeine", "demerol",
        "pethidine", "china white", "afghan heroin"]},
    # stimulants (prescription stimulants are sold in both sections; the model decides)
    **{t: ("stimulants", "stimulant|brand") for t in [
        "adderall", "aderall", "adderal", "dexedrine", "dextroamphetamine", "ritalin", "methylphenidate",
        "concerta", "focalin", "vyvanse", "desoxyn", "cocaine", "coke", "cocaina", "kokain", "crack",
        "amphetamine", "amphetamin", "speed", "meth", "methamphetamine", "crystal meth",
        "ice meth", "modafinil", "armodafinil", "provigil", "nuvigil", "modalert", "waklert",
        "phentermine", "dexamfetamine"]},
    # prescription (non-controlled or other classes that Agora filed under Prescription)
    **{t: ("prescription", "prescription|brand") for t in [
        "viagra", "sildenafil", "cialis", "tadalafil", "levitra", "vardenafil", "kamagra", "silagra",
        "cenforce", "tadacip", "ambien", "zolpidem", "stilnox", "zopiclone", "imovane", "zaleplon",
        "sonata", "soma", "carisoprodol", "lyrica", "pregabalin", "neurontin", "gabapentin", "seroquel",
        "quetiapine", "abilify", "aripiprazole", "prozac", "fluoxetine", "zoloft", "sertraline",
        "lexapro", "citalopram", "escitalopram", "effexor", "venlafaxine", "wellbutrin", "bupropion",
        "lamictal", "lamotrigine", "propranolol", "inderal", "promethazine", "phenergan", "flexeril",
        "cyclobenzaprine", "trazodone", "finasteride", "propecia", "accutane", "isotretinoin",
        "orlistat", "xenical", "cabergoline", "cabergolin", "dostinex", "bromocriptine", "hydroxyzine",
        "atarax", "phenobarbital", "phenobarbitol", "barbiturate", "selegiline", "warfarin", "lasix",
        "furosemide", "scopolamine", "methocarbamol", "robaxin", "lidocaine", "clonidine", "antibiotics",
        "amoxicillin", "pharmacy", "prescription", "rx", "generic", "blister", "cipla", "sun pharma",
        "pfizer", "roche", "teva", "mylan", "watson", "sandoz", "intas", "ranbaxy"]},
    # doping: steroids, anti-estrogens, growth hormone, fat burners
    **{t: ("doping", "steroid|brand") for t in [
        "steroid", "steroids", "anabolic", "anabolics", "testosterone", "test e", "test c", "test prop",
        "sustanon", "enanthate", "cypionate", "propionate", "nandrolone", "deca", "deca durabolin",
        "trenbolone", "tren", "parabolan", "stanozolol", "winstrol", "winny", "oxandrolone", "anavar",
        "oxandrin", "methandienone", "methandrostenolone", "dianabol", "dbol", "boldenone", "equipoise",
        "masteron", "drostanolone", "primobolan", "methenolone", "turinabol", "anadrol", "oxymetholone",
        "proviron", "mesterolone", "clenbuterol", "clen", "hgh", "somatropin", "growth hormone", "igf",
        "igf-1", "hcg", "pregnyl", "epo", "peptide", "peptides", "sarms", "ostarine", "ligandrol",
        "rad-140", "cardarine", "anastrozole", "arimidex", "letrozole", "femara", "exemestane",
        "aromasin", "tamoxifen", "nolvadex", "clomid", "clomiphene", "t3", "cytomel", "liothyronine",
        "ephedra", "eca stack", "dnp", "alpha pharma", "british dragon", "pct"]},
    # precursors (Agora has no precursor section: this list and the synthetic rows are the evidence)
    **{t: ("precursors", "precursor") for t in [
        "ephedrine", "pseudoephedrine", "bmk", "bmk glycidate", "p2p", "phenylacetone",
        "phenyl-2-propanone", "pmk", "pmk glycidate", "pmk oil", "piperonal", "safrole", "sassafras oil",
        "isosafrole", "gbl", "gamma-butyrolactone", "1,4-butanediol", "1 4 butanediol", "butanediol",
        "npp", "4-anpp", "anpp", "red phosphorus", "acetic anhydride", "methylamine", "ergotamine",
        "lysergic acid", "phenylacetic acid", "precursor", "precursors", "apaan", "mapa", "3,4-mdp-2-p",
        "hydriodic acid", "iodine crystals", "norephedrine", "4-piperidone", "chemical supplier"]},
    # nps: market names of research chemicals that TripSit spells differently
    **{t: ("nps", "research-chemical") for t in [
        "research chemical", "research chemicals", "rc", "rcs", "bath salts", "legal high", "legal highs",
        "mephedrone", "meow meow", "4-mmc", "3-mmc", "4-mec", "3-mec", "4-cmc", "3-cmc", "mdpv", "a-pvp",
        "apvp", "alpha-pvp", "flakka", "pentedrone", "ethylphenidate", "methiopropamine", "mpa",
        "dimethylone", "ethylone", "bk-mdma", "methylone", "butylone", "pentylone", "naphyrone", "nrg-3",
        "4-fa", "4-fmp", "2-fa", "2-fma", "3-fpm", "5-apb", "6-apb", "5-mapb", "benzofury", "mxp",
        "methoxphenidine", "diphenidine", "spice", "k2", "jwh", "jwh-018", "am-2201", "5f-akb48",
        "5f-adb", "mdmb-chminaca", "synthetic cannabinoid", "etizolam powder"]},
    # dissociatives
    **{t: ("dissociatives", "dissociative") for t in [
        "ketamine", "ketamin", "ket", "special k", "ketalar", "mxe", "methoxetamine", "pcp",
        "angel dust", "ghb", "g-hydroxybutyrate", "liquid ecstasy", "dxm", "dextromethorphan",
        "nitrous", "3-meo-pcp", "4-meo-pcp"]},
    # ecstasy
    **{t: ("ecstasy", "empathogen") for t in [
        "mdma", "ecstasy", "xtc", "molly", "mandy", "mda", "sassafras", "champagne mdma",
        "mdma crystal", "mdma crystals", "e pills"]},
    # psychedelics
    **{t: ("psychedelics", "psychedelic") for t in [
        "lsd", "acid", "blotter", "blotters", "tabs of lsd", "microdots", "microdot", "mushrooms",
        "shrooms", "psilocybin", "psilocybe", "cubensis", "magic mushrooms", "truffles", "dmt",
        "5-meo-dmt", "ayahuasca", "changa", "mescaline", "peyote", "san pedro", "2c-b", "2cb", "2c-i",
        "2c-e", "2c-c", "2c-p", "nbome", "25i", "25c", "25b", "25i-nbome", "25c-nbome", "lsa",
        "hbwr", "morning glory", "salvia", "spores", "spore syringe"]},
    # cannabis
    **{t: ("cannabis", "cannabis") for t in [
        "cannabis", "marijuana", "weed", "hash", "hashish", "kush", "haze", "skunk", "sativa", "indica",
        "thc", "cbd", "shatter", "wax", "bho", "dab", "edible", "edibles", "buds", "bud",
        "kief", "charas", "moroccan", "afghan", "amnesia", "og kush", "white widow", "ak-47", "cannabis seeds"]},
}

# Aliases from TripSit that are ordinary words or too short to be evidence on their own.
_BLOCKED = {
    "al", "ip", "san", "beans", "rainbows", "don", "eden", "bd", "k", "kitty", "kittens", "cid", "lucy",
    "buttons", "coffee", "pea", "ice", "snow", "mesc", "rize", "sini", "doe", "cpm", "iap", "h-a", "nek",
    "dph", "pph", "tpa", "vf", "pff", "b1", "m1", "1b", "25b", "25e", "25n", "jeebs", "nawls", "luminal",
    "pheno", "dhc", "flam", "f-lam", "fu-f", "stopsigns", "catapres", "gravol", "chloroform",
    "nicotine", "caffeine", "naproxen", "apap", "tylenol", "paracetamol", "acetaminophen",
}

_TRIPSIT_CLASS_TO_LABEL = [  # first matching class wins; research chemicals are handled before this
    ("benzodiazepine", "benzodiazepines"), ("opioid", "opioids"), ("dissociative", "dissociatives"),
    ("empathogen", "ecstasy"), ("psychedelic", "psychedelics"), ("stimulant", "stimulants"),
    ("barbiturate", "prescription"), ("depressant", "prescription"), ("ssri", "prescription"),
    ("nootropic", "prescription"), ("deliriant", "prescription"),
]


@dataclass(frozen=True)
class TermHit:
    term: str
    category: str
    tags: tuple[str, ...]
    start: int
    end: int


def _keep_alias(alias: str) -> bool:
    alias = alias.strip().lower()
    if alias in _BLOCKED or len(alias) < 3:
        return False
    return len(alias) >= 4 or any(ch.isdigit() for ch in alias)


def _tripsit_label(classes: list[str]) -> str | None:
    if "research-chemical" in classes and "benzodiazepine" not in classes:
        return "nps"
    for cls, label in _TRIPSIT_CLASS_TO_LABEL:
        if cls in classes:
            return label
    return None


def build_terms(tripsit_dir: Path, canonical_csv: Path) -> list[dict[str, str]]:
    """Merge TripSit, the canonical list and EXTRA_TERMS into rows (term, category, tags, source)."""
    rows: dict[str, dict[str, str]] = {}

    def add(term: str, category: str, tags: str, source: str) -> None:
        term = " ".join(term.lower().replace("_", " ").split())
        if category not in LABELS or not term:
            return
        rows.setdefault(term, {"term": term, "category": category, "tags": tags, "source": source})

    # Hand-written entries first: they win over the automatic mapping where both know a term.
    for term, (category, tags) in EXTRA_TERMS.items():
        add(term, category, tags, "narcowatch")
    with canonical_csv.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            add(row["id"].replace("-", " ") if " " in row["id"] else row["id"], row["category"],
                "canonical", "extractors/data/canonical.csv")
    drugs = json.loads((tripsit_dir / "drugs.json").read_text(encoding="utf-8"))
    for key, info in sorted(drugs.items()):
        classes = [c for c in info.get("categories", []) if c not in ("tentative", "common", "habit-forming")]
        label = _tripsit_label(classes)
        if label is None:
            continue
        tags = "|".join(sorted(classes)) or "substance"
        for alias in [key, *(info.get("aliases") or [])]:
            if _keep_alias(alias):
                add(alias, label, tags, "tripsit")
    return sorted(rows.values(), key=lambda r: r["term"])


def write_terms(rows: list[dict[str, str]], path: Path = TERMS_PATH) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["term", "category", "tags", "source"])
        writer.writeheader()
        writer.writerows(rows)


def _squash(text: str) -> str:
    """Lower-case and drop separators inside names, so "4-FA", "4 fa" and "4fa" all read "4fa"."""
    return re.sub(r"[\s\-_.,/]+", "", text.lower())


class TermMatcher:
    """Finds listed terms in text, tolerant to case and to hyphens/spaces inside names."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self.by_key: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        patterns = []
        for row in rows:
            key = _squash(row["term"])
            if not key or key in self.by_key:
                continue
            self.by_key[key] = (row["term"], row["category"], tuple(row["tags"].split("|")))
            # Each character may be followed by an optional separator; boundaries are non-alphanumeric.
            patterns.append(r"[\s\-_.,/]?".join(re.escape(ch) for ch in key))
        patterns.sort(key=len, reverse=True)  # longest first, so "xanax bars" beats "xanax"
        self.regex = re.compile(r"(?<![a-z0-9])(?:" + "|".join(patterns) + r")(?![a-z0-9])") if patterns else None

    def find(self, text: str) -> list[TermHit]:
        if not text or self.regex is None:
            return []
        hits = []
        for m in self.regex.finditer(text.lower()):
            entry = self.by_key.get(_squash(m.group(0)))
            if entry is not None:
                hits.append(TermHit(entry[0], entry[1], entry[2], m.start(), m.end()))
        return hits


def load_rows(path: Path = TERMS_PATH) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=1)
def default_matcher() -> TermMatcher:
    return TermMatcher(load_rows())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Rebuild classifiers/models/category_terms.csv.")
    parser.add_argument("--tripsit", type=Path, required=True, help="folder holding TripSit drugs.json")
    parser.add_argument("--canonical", type=Path, default=Path("extractors/data/canonical.csv"))
    parser.add_argument("--out", type=Path, default=TERMS_PATH)
    args = parser.parse_args(argv)
    rows = build_terms(args.tripsit, args.canonical)
    write_terms(rows, args.out)
    print(f"wrote {len(rows)} terms to {args.out}")


if __name__ == "__main__":
    main()
