"""From Agora's category paths to the fixed taxonomy: the `csv` mapping and the `taxonomy` mapping.

The `label` column of ../shared/data/agora2014/listings.csv maps every Agora section to one label
(README there): "Drugs/Prescription" -> prescription, "Drugs/RCs" -> nps, "Drugs/Cannabis/Synthetics" ->
cannabis, and so on. That is right for sections named after a pharmacological class (Benzos, Opioids,
Psychedelics/LSD, ...), but not for the sections that Agora organised by legal or market status or that are
catch-alls: vendors file Xanax, oxycodone and Adderall under "Prescription", MXE and 25I-NBOMe under "RCs",
mephedrone and ethylone under "Ecstasy/Other", JWH-018 under "Cannabis/Synthetics". The project's taxonomy
(DESIGN.md, "Category taxonomy") is defined per canonical substance instead: alprazolam is
benzodiazepines, methoxetamine dissociatives, synthetic cannabinoids nps, wherever a vendor filed them
(extractors/data/canonical.csv holds the substance -> label table).

`taxonomy_label` applies that definition, and only where the section does not already decide it:
  * in the MIXED_SECTIONS below, a listing whose title/description names substances of exactly one
    taxonomy class (by SUBSTANCE_TERMS: canonical substances, their INN and common brand names) gets that
    class; a listing naming none, or several classes, keeps the section's label;
  * "Drugs/Ecstasy-MDMA" (a spelling the csv mapping leaves empty) is ecstasy, and
    "Drugs/Disassociatives/GBL" is precursors (canonical.csv files GBL there);
  * everything else keeps the csv label; "Drugs/Other" and "Drugs/Weight loss" stay empty (ambiguous).
Only unambiguous names are listed (no slang such as "ice", "crystal", "speed", "coke"): a wrong relabel
would be label noise of our own making. Substances that canonical.csv does not list (phentermine, hCG,
liothyronine, DOB, methoxphenidine) are left alone, so "prescription" keeps what has no class of its own.
The figures are always reported on both label sets (scripts/eval_category.py, docs/model-card.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from classifiers.category_taxonomy import LABELS

LABEL_SETS = ("taxonomy", "csv")

# Sections organised by legal/market status, or catch-alls, where the named substance decides the label.
MIXED_SECTIONS = frozenset({
    "Drugs/Prescription", "Drugs/Stimulants/Prescription", "Drugs/RCs", "Drugs/Methylone",
    "Drugs/Cannabis/Synthetics", "Drugs/Ecstasy/Other", "Drugs/Psychedelics/Others",
    "Drugs/Dissociatives/Other", "Drugs/Disassociatives/Other",
})
# Sections whose name is itself a label or a substance: "Ecstasy-MDMA" (left empty by the csv mapping) and
# "Disassociatives/GBL" (GBL is a precursor in canonical.csv, like 1,4-butanediol).
FIXED_SECTIONS = {"Drugs/Ecstasy-MDMA": "ecstasy", "Drugs/Disassociatives/GBL": "precursors"}

# taxonomy label -> canonical substances of that label (extractors/data/canonical.csv) under their INN,
# trade and market names. Matched as whole words, case- and separator-insensitively ("4-FA" = "4fa").
SUBSTANCE_TERMS: dict[str, tuple[str, ...]] = {
    "benzodiazepines": (
        "alprazolam", "xanax", "alprax", "tranax", "xanor", "diazepam", "valium", "clonazepam", "klonopin",
        "rivotril", "clonotril", "lorazepam", "ativan", "larpose", "temazepam", "restoril", "nitrazepam",
        "mogadon", "flunitrazepam", "rohypnol", "midazolam", "dormicum", "bromazepam", "lexotan",
        "oxazepam", "etizolam", "phenazepam", "diclazepam", "flubromazepam", "flubromazolam", "pyrazolam",
        "clonazolam", "flualprazolam", "bromazolam", "triazolam", "halcion", "flurazepam", "chlordiazepoxide",
        "librium", "clobazam", "etilaam",
        # misspellings seen in listings
        "vallium", "diazapam", "nitrazapam", "chlordiazepexide", "alprazolan"),
    "opioids": (
        "heroin", "fentanyl", "carfentanil", "oxycodone", "oxycodon", "oxycontin", "oxyneo", "oxygesic",
        "roxicodone", "percocet", "endone", "endocet", "hydrocodone", "vicodin", "norco", "lortab",
        "morphine", "codeine", "tramadol", "buprenorphine", "subutex", "suboxone", "methadone", "opium",
        "hydromorphone", "dilaudid", "oxymorphone", "opana", "u-47700", "isotonitazene"),
    "stimulants": (
        "cocaine", "methamphetamine", "adderall", "dextroamphetamine", "dexedrine", "lisdexamfetamine",
        "vyvanse", "elvanse", "methylphenidate", "ritalin", "concerta", "focalin", "modafinil",
        "armodafinil", "provigil", "nuvigil", "modalert", "modvigil", "waklert"),
    "ecstasy": ("mdma", "r-mdma", "mda"),
    "psychedelics": (
        "lsd", "1p-lsd", "al-lad", "eth-lad", "dmt", "5-meo-dmt", "4-aco-dmt", "4-ho-met", "4-ho-mipt",
        "5-meo-mipt", "5-meo-dalt", "amt", "dpt", "psilocybin", "mescaline", "2c-b", "2c-i", "2c-e", "2c-c",
        "2c-p", "2c-d", "2c-t-2", "2c-t-7", "25i-nbome", "25c-nbome", "25b-nbome", "nbome", "salvia", "lsa"),
    "dissociatives": (
        "ketamine", "methoxetamine", "mxe", "pcp", "3-meo-pcp", "4-meo-pcp", "pce", "ghb",
        "dextromethorphan", "dxm"),
    "doping": (
        "testosterone", "nandrolone", "trenbolone", "stanozolol", "winstrol", "oxandrolone", "anavar",
        "methandienone", "dianabol", "boldenone", "clenbuterol", "somatropin", "hgh", "drostanolone",
        "masteron", "methenolone", "primobolan", "oxymetholone", "anadrol", "mesterolone", "proviron",
        "turinabol", "tamoxifen", "nolvadex", "clomiphene", "clomid", "anastrozole", "arimidex",
        "letrozole", "femara", "exemestane", "aromasin", "ostarine", "ligandrol"),
    "prescription": (
        "sildenafil", "viagra", "kamagra", "tadalafil", "cialis", "zolpidem", "ambien", "stilnox",
        "zopiclone", "eszopiclone", "carisoprodol", "soma", "pregabalin", "lyrica", "gabapentin",
        "neurontin"),
    "nps": (
        "mephedrone", "4-mmc", "3-mmc", "methylone", "bk-mdma", "a-pvp", "alpha-pvp", "mdpv", "pentedrone",
        "pentylone", "4-mec", "3-mec", "ethylone", "butylone", "dimethylone", "dibutylone", "eutylone",
        "naphyrone", "ethylphenidate", "isopropylphenidate", "4f-mph", "5-apb", "6-apb", "5-mapb", "5-apdb",
        "6-apdb", "benzofury", "4-fa", "4-fmp", "2-fa", "2-fma", "3-fa", "3-fpm", "methiopropamine",
        "2-fdck", "jwh-018", "jwh-18", "jwh-073", "jwh-250", "am-2201", "ur-144", "5f-ur-144", "5f-akb48",
        "5f-pb-22", "herbal incense", "spice"),
    "precursors": (
        "ephedrine", "pseudoephedrine", "bmk", "pmk", "safrole", "gbl", "red phosphorus", "methylamine",
        "p2np", "npp", "4-anpp", "acetic anhydride"),
}


# Added to the rule after seeing those rows among cross-validation errors (docs/model-card.md, Protocol):
# kept, because they are right, and listed, so that the figures can be re-run without them.
LATE_ADDITIONS: dict[str, tuple[str, ...]] = {
    "benzodiazepines": ("clobazam", "chlordiazepoxide", "librium", "vallium", "diazapam", "nitrazapam",
                        "chlordiazepexide", "alprazolan"),
    "fixed_sections": ("Drugs/Disassociatives/GBL",),
}


def without_late_additions() -> None:
    """Drop LATE_ADDITIONS from the rule for the rest of this process (an evaluation re-run, never the product)."""
    global _REGEX, _BY_KEY
    late = set(LATE_ADDITIONS["benzodiazepines"])
    SUBSTANCE_TERMS["benzodiazepines"] = tuple(t for t in SUBSTANCE_TERMS["benzodiazepines"] if t not in late)
    for section in LATE_ADDITIONS["fixed_sections"]:
        FIXED_SECTIONS.pop(section, None)
    _REGEX, _BY_KEY = _build()


def _squash(term: str) -> str:
    return re.sub(r"[\s\-_.,/]+", "", term.lower())


def _build() -> tuple[re.Pattern[str], dict[str, str]]:
    by_key: dict[str, str] = {}
    for label, terms in SUBSTANCE_TERMS.items():
        assert label in LABELS, label
        for term in terms:
            key = _squash(term)
            assert by_key.setdefault(key, label) == label, f"{term!r} listed under two labels"
    patterns = sorted((r"[\s\-_.,/]?".join(re.escape(ch) for ch in key) for key in by_key), key=len,
                      reverse=True)
    regex = re.compile(r"(?<![a-z0-9])(?:" + "|".join(patterns) + r")(?![a-z0-9])")
    return regex, by_key


_REGEX, _BY_KEY = _build()


def substance_classes(text: str) -> set[str]:
    """The taxonomy labels of the substances SUBSTANCE_TERMS finds in `text`."""
    return {_BY_KEY[_squash(m.group(0))] for m in _REGEX.finditer(text.lower())}


def taxonomy_label(agora_category: str, csv_label: str, title: str, description: str = "") -> str:
    """The taxonomy label of one Agora listing (see the module docstring); "" means ambiguous."""
    section = (agora_category or "").strip()
    if section in FIXED_SECTIONS:
        return FIXED_SECTIONS[section]
    if section in MIXED_SECTIONS and csv_label:
        found = substance_classes(f"{title} \n {description}")
        if len(found) == 1:
            return found.pop()
    return csv_label


def row_label(row: Mapping[str, str], label_set: str) -> str:
    """The label of a training-CSV row under `label_set` ("csv": the label column as is; "taxonomy":
    taxonomy_label when the row has an `agora_category`, else the label column)."""
    if label_set not in LABEL_SETS:
        raise ValueError(f"unknown label set {label_set!r}; use one of {', '.join(LABEL_SETS)}")
    label = (row.get("label") or "").strip()
    if label_set == "csv" or not (row.get("agora_category") or "").strip():
        return label
    return taxonomy_label(row["agora_category"], label, row.get("title") or "", row.get("description") or "")
