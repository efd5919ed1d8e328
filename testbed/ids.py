"""Identifiers that must look and check like the real thing: PGP key blocks, onion names, Session ids.

PGP: the testbed does not do cryptography. A key is one old-format public-key packet (tag 6, 0x99, a
two-byte length, a body starting with version 4 and 160..420 random bytes); the armored block carries a
real CRC-24 checksum line, and the fingerprint is SHA-1 over 0x99, the length and the body (the OpenPGP v4
rule, RFC 4880 section 12.2), which is SHA-1 over all decoded bytes: 40 upper-case hex digits. Vendor pages print it in groups of four, as
real markets do; `fingerprint_of_block()` recomputes it from any block a crawler saved.
"""

from __future__ import annotations

import base64
import hashlib
import random

PGP_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
PGP_END = "-----END PGP PUBLIC KEY BLOCK-----"


def _crc24(data: bytes) -> int:
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def pgp_key(rng: random.Random) -> tuple[str, str]:
    """(armored block, fingerprint) for a fresh pseudo key drawn from `rng`."""
    size = rng.randrange(160, 420)
    packet = b"\x04" + rng.randbytes(size)  # version 4, then stand-ins for time, algorithm and key material
    body = b"\x99" + len(packet).to_bytes(2, "big") + packet
    b64 = base64.b64encode(body).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    crc = base64.b64encode(_crc24(body).to_bytes(3, "big")).decode()
    block = "\n".join([PGP_BEGIN, "", *lines, "=" + crc, PGP_END])
    return block, fingerprint(body)


def fingerprint(body: bytes) -> str:
    return hashlib.sha1(body).hexdigest().upper()


def fingerprint_of_block(block: str) -> str | None:
    """The fingerprint of an armored block as shown on a page (None when it is not one)."""
    lines = [ln.strip() for ln in block.strip().splitlines()]
    if not lines or lines[0] != PGP_BEGIN or PGP_END not in lines:
        return None
    body_lines = [ln for ln in lines[1:lines.index(PGP_END)] if ln and not ln.startswith("=") and ":" not in ln]
    try:
        return fingerprint(base64.b64decode("".join(body_lines)))
    except ValueError:
        return None


def grouped(fpr: str) -> str:
    """'ABCD 1234 ...': how vendor pages print a fingerprint."""
    return " ".join(fpr[i:i + 4] for i in range(0, len(fpr), 4))


def onion_v3(rng: random.Random) -> str:
    """A v3 onion name (56 base32 chars) with the real checksum over a random 32-byte 'public key'."""
    pub = rng.randbytes(32)
    version = b"\x03"
    check = hashlib.sha3_256(b".onion checksum" + pub + version).digest()[:2]
    return base64.b32encode(pub + check + version).decode().lower() + ".onion"


def session_id(rng: random.Random) -> str:
    """A Session messenger id: '05' and 64 hex digits."""
    return "05" + rng.randbytes(32).hex()


def hex_id(rng: random.Random, n: int = 8) -> str:
    return rng.randbytes(n // 2 + 1).hex()[:n]
