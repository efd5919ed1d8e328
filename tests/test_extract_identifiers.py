"""Identifier extraction and validators: real fixtures pass, any single corrupted character fails."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors import identifiers as ids

DATA = Path(__file__).parent / "data"

BTC_BASE58 = ["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"]
BTC_BECH32 = ["bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
              "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"]
XMR = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
ONION = "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion"


def corruptions(value: str, alphabet: str, positions: list[int]) -> list[str]:
    out = []
    for pos in positions:
        ch = value[pos]
        repl = next(c for c in alphabet if c != ch and c.lower() != ch.lower())
        out.append(value[:pos] + repl + value[pos + 1:])
    return out


def test_valid_fixtures_pass():
    assert all(ids.valid_btc_base58(a) for a in BTC_BASE58)
    assert all(ids.valid_btc_bech32(a) for a in BTC_BECH32)
    assert ids.valid_xmr(XMR)
    assert ids.valid_eth(ETH) and ids.valid_eth(ETH.lower())
    assert ids.valid_onion(ONION)


@pytest.mark.parametrize("address", BTC_BASE58)
def test_btc_base58_rejects_every_corrupted_position(address):
    for bad in corruptions(address, "123456789ABCDEFGHJKLMNPQRSTUVWXYZ", list(range(1, len(address)))):
        assert not ids.valid_btc_base58(bad), bad


@pytest.mark.parametrize("address", BTC_BECH32)
def test_bech32_rejects_corrupted_and_mixed_case(address):
    for bad in corruptions(address, "qpzry9x8gf2tvdw0s3jn54khce6mua7l", list(range(4, len(address)))):
        assert not ids.valid_btc_bech32(bad), bad
    assert not ids.valid_btc_bech32(address[:5] + address[5:].upper())


def test_monero_ethereum_onion_reject_corruption():
    for bad in corruptions(XMR, "123456789ABCDEFGHJKLMNPQRSTUVWXYZ", [5, 40, 94]):
        assert not ids.valid_xmr(bad), bad
    flipped = ETH[:3] + ETH[3].swapcase() + ETH[4:]  # break the EIP-55 mixed-case checksum
    assert not ids.valid_eth(flipped)
    for bad in corruptions(ONION, "abcdefghijklmnopqrstuvwxyz234567", [0, 30, 54]):
        assert not ids.valid_onion(bad), bad


def test_find_identifiers_kinds_values_and_offsets():
    text = (f"telegram @drugsnl_shop, wickr me: nlvendor2, threema: ABCD1234, signal: +31 6 1234 5678, "
            f"mail Vendor@proton.me, pay {BTC_BASE58[0]} or {ETH} or {XMR}; shop http://{ONION}/x ; "
            f"thanks @bigvendor, session: 05{'ab' * 32}")
    found = ids.find_identifiers(text)
    kinds = {f["kind"]: f["value"] for f in found}
    assert kinds["telegram"] == "@drugsnl_shop"
    assert kinds["wickr"] == "nlvendor2"
    assert kinds["threema"] == "ABCD1234"
    assert kinds["signal"] == "+31612345678"
    assert kinds["email"] == "vendor@proton.me"
    assert kinds["btc"] == BTC_BASE58[0]
    assert kinds["eth"] == ETH.lower()
    assert kinds["xmr"] == XMR
    assert kinds["onion"] == ONION
    assert kinds["handle_mention"] == "bigvendor"
    assert kinds["session"] == "05" + "ab" * 32
    for f in found:
        assert text[f["start"]:f["end"]] == f["text"]


def test_corrupted_addresses_in_text_are_not_reported():
    bad_btc = BTC_BASE58[0][:-1] + ("b" if BTC_BASE58[0][-1] != "b" else "c")
    assert not [f for f in ids.find_identifiers(f"send to {bad_btc} now") if f["kind"] == "btc"]


@pytest.mark.parametrize("name", ["ed25519", "rsa"])
def test_pgp_fingerprint_of_real_keys_matches_gnupg(name):
    # keys generated with GnuPG 2 for these tests; .fpr is what `gpg --fingerprint` printed
    block = (DATA / f"extract_pgp_{name}.asc").read_text()
    expected = (DATA / f"extract_pgp_{name}.fpr").read_text().strip()
    assert ids.pgp_fingerprint(block) == expected
    assert ids.pgp_fingerprint(" ".join(block.split())) == expected  # line breaks lost by text extraction
    found = ids.find_identifiers("my key:\n" + block + "\nthanks")
    assert [(f["kind"], f["value"]) for f in found] == [("pgp", expected)]


def test_pgp_fallback_is_sha1_of_decoded_body():
    import base64
    body = b"not an openpgp packet at all"
    block = ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n" + base64.b64encode(body).decode()
             + "\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----")
    assert ids.pgp_fingerprint(block) == hashlib.sha1(body).hexdigest().upper()


@pytest.mark.parametrize("name", ["ed25519", "rsa"])
def test_pgp_armor_crc_rejects_a_corrupted_key(name):
    block = (DATA / f"extract_pgp_{name}.asc").read_text()
    assert ids.valid_pgp_armor(block)
    lines = block.splitlines()
    i = next(n for n, line in enumerate(lines) if len(line) > 40)  # first base64 payload line
    for pos in (0, 10, 30):
        ch = lines[i][pos]
        bad_line = lines[i][:pos] + ("A" if ch != "A" else "B") + lines[i][pos + 1:]
        bad = "\n".join(lines[:i] + [bad_line] + lines[i + 1:])
        assert not ids.valid_pgp_armor(bad)
        assert [f for f in ids.find_identifiers("key:\n" + bad) if f["kind"] == "pgp"] == []
    no_crc = "\n".join(line for line in lines if not (line.startswith("=") and len(line) <= 6))
    assert ids.valid_pgp_armor(no_crc)  # RFC 9580: the CRC line is optional


_ADDRESS_CHARS = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0x"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ADDRESS_CHARS, max_size=120) | st.text(max_size=120))
def test_validators_never_crash_on_arbitrary_strings(candidate):
    for check in (ids.valid_btc_base58, ids.valid_btc_bech32, ids.valid_xmr, ids.valid_eth, ids.valid_onion,
                  ids.valid_pgp_armor):
        assert check(candidate) in (True, False)
    assert not ids.valid_btc_base58(candidate) or candidate[0] in "13"
