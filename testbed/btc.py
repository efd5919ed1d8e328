"""Valid-looking Bitcoin addresses with correct checksums (base58check and bech32), standard library only.

Extractor validators check checksums, so the testbed must never show an address that fails them, and it
must be able to show deliberately broken ones (a typo'd address in a forum post) that fail them.
"""

from __future__ import annotations

import hashlib

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def base58check(payload: bytes) -> str:
    """Base58Check encoding (version byte included in `payload`), as in legacy Bitcoin addresses."""
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + out


def base58check_decode(text: str) -> bytes | None:
    """The payload of a Base58Check string, or None when the alphabet or checksum is wrong."""
    n = 0
    for ch in text:
        i = _B58.find(ch)
        if i < 0:
            return None
        n = n * 58 + i
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    raw = b"\0" * (len(text) - len(text.lstrip("1"))) + raw
    if len(raw) < 5:
        return None
    payload, check = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != check:
        return None
    return payload


def _polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (b >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def _convertbits(data: bytes, frombits: int, tobits: int) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if bits:
        out.append((acc << (tobits - bits)) & maxv)
    return out


def bech32_address(program: bytes, hrp: str = "bc", witver: int = 0) -> str:
    """A segwit v0 address (BIP 173 bech32) for a 20- or 32-byte witness program."""
    data = [witver] + _convertbits(program, 8, 5)
    values = _hrp_expand(hrp) + data
    polymod = _polymod(values + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32[d] for d in data + checksum)


def bech32_valid(addr: str) -> bool:
    """True when `addr` is a lower-case bech32 string with a correct checksum."""
    if addr.lower() != addr and addr.upper() != addr:
        return False
    addr = addr.lower()
    pos = addr.rfind("1")
    if pos < 1 or pos + 7 > len(addr):
        return False
    hrp, data = addr[:pos], addr[pos + 1:]
    if any(c not in _BECH32 for c in data):
        return False
    return _polymod(_hrp_expand(hrp) + [_BECH32.find(c) for c in data]) == 1


def address(kind: str, body: bytes) -> str:
    """An address of `kind` (p2pkh '1...', p2sh '3...', p2wpkh 'bc1q...') from 20 bytes of `body`."""
    h = body[:20]
    if kind == "p2pkh":
        return base58check(b"\x00" + h)
    if kind == "p2sh":
        return base58check(b"\x05" + h)
    if kind == "p2wpkh":
        return bech32_address(h)
    raise ValueError(f"unknown address kind {kind!r}: use p2pkh, p2sh or p2wpkh")


def valid(addr: str) -> bool:
    """True for a checksum-valid mainnet address (legacy or bech32 v0)."""
    if addr.lower().startswith("bc1"):
        return bech32_valid(addr)
    payload = base58check_decode(addr)
    return payload is not None and len(payload) == 21 and payload[0] in (0, 5)
