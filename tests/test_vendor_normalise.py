"""Handle and identifier normalisation for vendor clustering."""

from __future__ import annotations

import pytest

from classifiers.vendors.evidence import handle_similarity
from classifiers.vendors.features import account_features
from classifiers.vendors.model import Account
from classifiers.vendors.normalise import (
    contact_key,
    country_key,
    handle_forms,
    handle_tokens,
    pgp_key,
    profile_shingles,
    title_key,
    wallet_key,
)


@pytest.mark.parametrize("handle", ["DrGreen", "dr_green", "Dr.Green", "dr-gr33n", "DrGreen_UK", "official_drgreen",
                                    "drgreenshop", "DRGREEN420", "xX_DrGreen_Xx", "Dr Green (NL)", "DrGreenReloaded",
                                    "drgreen_backup", "DrGreen-Returns"])
def test_variants_share_the_stem(handle: str) -> None:
    assert handle_forms(handle).stem == "drgreen"


def test_tokens_split_camel_case_separators_and_edge_numbers() -> None:
    assert handle_tokens("DrGr33n_UK420") == ["dr", "green", "uk", "420"]
    assert handle_tokens("ca$hKing") == ["cash", "king"]
    assert handle_tokens("UKShop") == ["uk", "shop"]


def test_edge_digits_are_numbers_not_leetspeak() -> None:
    forms = handle_forms("ghost420")
    assert forms.full == "ghost420" and forms.stem == "ghost"


def test_affixes_only_when_a_name_remains() -> None:
    assert handle_forms("official_shop").stem == "officialshop"  # nothing but affixes: keep them
    assert handle_forms("theo").stem == "theo"  # "the" glued to a short name is part of it
    assert handle_forms("green_dragon_de").full == "greendragonde"


def test_similarity_sees_through_variants_but_not_other_names() -> None:
    f = lambda h: account_features(Account("x", "s", h))  # noqa: E731
    assert handle_similarity(f("dr_green_uk"), f("DrGreen")) == 1.0
    assert handle_similarity(f("DrGreen"), f("DrGreem")) >= 0.85
    assert handle_similarity(f("DrGreen"), f("BlueSky")) < 0.5


def test_pgp_fingerprint_forms_compare_equal() -> None:
    full = "3A1F9C2B77D04E1186A2C5F0B4E3D2A1908F6E5D"
    assert pgp_key(full) == pgp_key("3a1f 9c2b 77d0 4e11 86a2  c5f0 b4e3 d2a1 908f 6e5d")
    assert pgp_key(full) == pgp_key("0xB4E3D2A1908F6E5D")  # the long key id some markets print
    assert pgp_key("1234 ABCD") is None


def test_identifier_keys() -> None:
    assert contact_key("Wickr: @DrGreenUK") == contact_key("drgreenuk")
    assert contact_key("@x") is None
    bech = "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
    assert wallet_key(bech.upper()) == wallet_key(bech)
    base58 = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
    assert wallet_key(base58) != wallet_key(base58.lower())  # base58 is case-sensitive
    assert country_key("United Kingdom") == country_key("uk") == "GB"
    assert country_key("Worldwide") is None


def test_title_keys_ignore_order_and_case_but_not_content() -> None:
    assert title_key("Cocaine 1g 90% pure") == title_key("1G cocaine pure 90%")
    assert title_key("Cocaine 1g 90% pure") != title_key("Cocaine 2g 90% pure")
    assert title_key("cocaine") is None


def test_profile_shingles_need_enough_words() -> None:
    assert profile_shingles("short bio") == frozenset()
    text = "we ship every weekday from the uk in vacuum sealed bags"
    assert profile_shingles(text) == profile_shingles(text.upper())
