"""Identifiers investigators pivot on: PGP keys, coin addresses, messenger handles, e-mail, onion URLs.

Every candidate is validated where the format allows it (Bitcoin base58check and bech32/bech32m checksums,
Monero Keccak checksum, Ethereum EIP-55 mixed-case checksum, onion v3 checksum, PGP armor CRC24), so a
corrupted character rejects the address or key. The component `narcowatch_identifiers` fills `doc._.nw_identifiers` with
`{"kind", "value", "text", "start", "end"}` dicts and `doc.spans["identifiers"]` (label = kind).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from spacy.language import Language
from spacy.tokens import Doc

from extractors.keccak import keccak256
from extractors.lexicon import BatchComponent, doc_text, same_line, set_spans

# --- PGP -------------------------------------------------------------------------------------------------
PGP_RE = re.compile(
    r"-----BEGIN PGP PUBLIC KEY BLOCK-----(?P<body>.*?)-----END PGP PUBLIC KEY BLOCK-----", re.DOTALL)
_B64_TOKEN = re.compile(r"[A-Za-z0-9+/]+=*")


def _armor_payload(body: str) -> str:
    """The base64 payload of an armored block, without headers and without the =CRC line."""
    return _armor_parts(body)[0]


def _armor_parts(body: str) -> tuple[str, str | None]:
    """The base64 payload of an armored block and its "=CRC24" token (None when the block has none).

    Works on intact blocks (headers end at the first blank line) and on blocks whose line breaks were
    flattened to spaces by a page's text extraction (the payload starts at the first long base64 token).
    """
    lines = body.strip("\r\n").splitlines()
    if len(lines) > 1 and any(not line.strip() for line in lines):
        blank = next(i for i, line in enumerate(lines) if not line.strip())
        tokens = " ".join(lines[blank + 1:]).split()
    else:
        tokens = body.split()
        first = next((i for i, t in enumerate(tokens) if len(t) >= 20 and _B64_TOKEN.fullmatch(t)), len(tokens))
        tokens = tokens[first:]
    payload: list[str] = []
    for token in tokens:
        if token.startswith("=") and len(token) <= 6 and payload:  # CRC24 checksum line
            return "".join(payload), token[1:]
        if not _B64_TOKEN.fullmatch(token):
            break
        payload.append(token)
    return "".join(payload), None


def _crc24(data: bytes) -> int:
    """The OpenPGP armor checksum (RFC 4880 §6.1)."""
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def valid_pgp_armor(block: str) -> bool:
    """False when the armored block's =CRC24 line does not match its payload (a corrupted or edited key),
    when the payload is not base64, or when `block` holds no BEGIN/END PGP PUBLIC KEY BLOCK armor. A block without a CRC line is accepted: RFC 9580 made the line optional."""
    m = PGP_RE.search(block)
    if m is None:
        return False
    payload, crc = _armor_parts(m.group("body"))
    data = _b64decode(payload)
    if not data:
        return False
    if crc is None:
        return True
    expected = _b64decode(crc)
    return expected is not None and len(expected) == 3 and int.from_bytes(expected, "big") == _crc24(data)


def _b64decode(payload: str) -> bytes | None:
    try:
        return base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _first_packet(data: bytes) -> tuple[int, bytes] | None:
    if not data or not data[0] & 0x80:
        return None
    b0 = data[0]
    if b0 & 0x40:  # new format
        tag, pos = b0 & 0x3F, 1
        if pos >= len(data):
            return None
        first = data[pos]
        if first < 192:
            length, pos = first, pos + 1
        elif first < 224:
            if pos + 1 >= len(data):
                return None
            length, pos = ((first - 192) << 8) + data[pos + 1] + 192, pos + 2
        elif first == 255:
            length, pos = int.from_bytes(data[pos + 1:pos + 5], "big"), pos + 5
        else:
            return None  # partial body lengths are not allowed for key packets
    else:  # old format
        tag, ltype, pos = (b0 >> 2) & 0x0F, b0 & 0x03, 1
        if ltype == 3:
            return None
        size = (1, 2, 4)[ltype]
        length, pos = int.from_bytes(data[pos:pos + size], "big"), pos + size
    body = data[pos:pos + length]
    if len(body) != length:
        return None
    return tag, body


def pgp_fingerprint(block: str) -> str:
    """Fingerprint of an armored PGP public key block, as 40 (v4) or 64 (v6) upper-case hex digits.

    For a real OpenPGP key the first packet is the primary public-key packet (tag 6): a v4 key's
    fingerprint is SHA-1 over 0x99, the two-byte packet length and the packet body (RFC 4880 §12.2); a v6
    key's is SHA-256 over 0x9B, a four-byte length and the body (RFC 9580). A block that does not parse as
    such a key falls back to SHA-1 of its base64-decoded payload, or, when the payload is not even base64,
    SHA-1 of the payload text with white space removed; so the same block always gives the same value.
    """
    m = PGP_RE.search(block)
    payload = _armor_payload(m.group("body") if m else block)
    data = _b64decode(payload)
    if data is None:
        return hashlib.sha1("".join(payload.split()).encode()).hexdigest().upper()
    packet = _first_packet(data)
    if packet is not None and packet[0] == 6 and packet[1]:
        body = packet[1]
        if body[0] == 4:
            return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper()
        if body[0] == 6:
            return hashlib.sha256(b"\x9b" + len(body).to_bytes(4, "big") + body).hexdigest().upper()
    return hashlib.sha1(data).hexdigest().upper()


# --- Bitcoin --------------------------------------------------------------------------------------------
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


def _b58decode(s: str) -> bytes | None:
    n = 0
    for ch in s:
        if ch not in _B58_INDEX:
            return None
        n = n * 58 + _B58_INDEX[ch]
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    pad = len(s) - len(s.lstrip("1"))
    return b"\x00" * pad + raw


def valid_btc_base58(address: str) -> bool:
    data = _b58decode(address)
    if data is None or len(data) != 25 or data[0] not in (0x00, 0x05):
        return False
    return hashlib.sha256(hashlib.sha256(data[:-4]).digest()).digest()[:4] == data[-4:]


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_CONST, _BECH32M_CONST = 1, 0x2BC830A3


def _polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _convertbits(data: list[int], frombits: int, tobits: int) -> list[int] | None:
    acc = bits = 0
    out = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return out


def valid_btc_bech32(address: str) -> bool:
    """Segwit address check (BIP 173 bech32 for v0, BIP 350 bech32m for v1+), mainnet "bc" only."""
    if address.lower() != address and address.upper() != address:
        return False
    addr = address.lower()
    pos = addr.rfind("1")
    if addr[:pos] != "bc" or len(addr) > 90 or len(addr) - pos - 1 < 7:
        return False
    try:
        data = [_BECH32.index(c) for c in addr[pos + 1:]]
    except ValueError:
        return False
    hrp = [ord(c) >> 5 for c in "bc"] + [0] + [ord(c) & 31 for c in "bc"]
    const = _polymod(hrp + data)
    witver = data[0]
    if const != (_BECH32_CONST if witver == 0 else _BECH32M_CONST) or witver > 16:
        return False
    program = _convertbits(data[1:-6], 5, 8)
    if program is None or not 2 <= len(program) <= 40:
        return False
    return not (witver == 0 and len(program) not in (20, 32))


# --- Monero, Ethereum, onion ----------------------------------------------------------------------------
_XMR_BLOCK_SIZES = {0: 0, 2: 1, 3: 2, 5: 3, 6: 4, 7: 5, 9: 6, 10: 7, 11: 8}


def _xmr_b58decode(s: str) -> bytes | None:
    out = bytearray()
    for i in range(0, len(s), 11):
        block = s[i:i + 11]
        size = _XMR_BLOCK_SIZES.get(len(block))
        if size is None:
            return None
        n = 0
        for ch in block:
            if ch not in _B58_INDEX:
                return None
            n = n * 58 + _B58_INDEX[ch]
        if n >= 1 << (8 * size):
            return None
        out += n.to_bytes(size, "big")
    return bytes(out)


def valid_xmr(address: str) -> bool:
    """Standard (95 chars), subaddress and integrated (106) Monero addresses: Keccak-256 checksum."""
    data = _xmr_b58decode(address)
    if data is None or len(data) < 69 or data[0] not in (0x12, 0x2A, 0x13):
        return False
    return keccak256(data[:-4])[:4] == data[-4:]


def valid_eth(address: str) -> bool:
    """0x + 40 hex digits; a mixed-case address must satisfy its EIP-55 checksum."""
    hexpart = address[2:]
    if not re.fullmatch(r"[0-9a-fA-F]{40}", hexpart):
        return False
    if hexpart.lower() == hexpart or hexpart.upper() == hexpart:
        return True
    digest = keccak256(hexpart.lower().encode()).hex()
    for ch, d in zip(hexpart, digest[:40], strict=True):
        if ch.isalpha() and (int(d, 16) >= 8) != ch.isupper():
            return False
    return True


def valid_onion(host: str) -> bool:
    """v3 (56 base32 chars, SHA3-256 checksum and version 3) or legacy v2 (16 chars, no checksum)."""
    label = host.lower().removesuffix(".onion").rsplit(".", 1)[-1]
    if len(label) == 16:
        return re.fullmatch(r"[a-z2-7]{16}", label) is not None
    if len(label) != 56:
        return False
    try:
        raw = base64.b32decode(label.upper())
    except binascii.Error:
        return False
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34:35]
    if version != b"\x03":
        return False
    return hashlib.sha3_256(b".onion checksum" + pubkey + version).digest()[:2] == checksum


# --- finding them ---------------------------------------------------------------------------------------
_HANDLE = r"[A-Za-z][A-Za-z0-9_]{3,31}"
IDENT_RE = re.compile(same_line(
    r"(?P<onion>(?:https?://)?(?:[a-z2-7]{56}|[a-z2-7]{16})\.onion(?:/[^\s<>\"')\]]*)?)"
    r"|(?P<email>(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![\w]))"
    r"|(?P<btc>(?<![\w])(?:[13][1-9A-HJ-NP-Za-km-z]{25,34}|bc1[02-9ac-hj-np-z]{6,87}|BC1[02-9AC-HJ-NP-Z]{6,87})(?![\w]))"
    r"|(?P<xmr>(?<![\w])[48][1-9A-HJ-NP-Za-km-z]{94}(?:[1-9A-HJ-NP-Za-km-z]{11})?(?![\w]))"
    r"|(?P<eth>(?<![\w])0x[0-9a-fA-F]{40}(?![\w]))"
    r"|(?P<session>(?<![\w])05[0-9a-f]{64}(?![\w]))"
    rf"|(?P<telegram>(?:(?<![\w])(?:telegram|tlgrm|tg)(?:\s*(?:id|me|handle|user(?:name)?))?\s*[:\-=]?\s*@?|"
    rf"(?:https?://)?(?:t|telegram)\.me/)(?P<tg>{_HANDLE}))"
    r"|(?P<wickr>(?<![\w])wickr(?:\s*me)?(?:\s*(?:id|name|user(?:name)?))?\s*[:\-=]?\s*@?(?P<wk>[A-Za-z0-9][A-Za-z0-9_.\-]{2,31}))"
    r"|(?P<signal>(?<![\w])signal(?:\s*(?:id|number|user(?:name)?))?\s*[:\-=]\s*(?P<sg>\+?\d[\d \-]{6,16}\d|[A-Za-z][A-Za-z0-9_]{2,31}\.\d{2,}))"
    r"|(?P<threema>(?<![\w])threema(?:\s*id)?\s*[:\-=]?\s*(?P<th>[A-Z0-9*][A-Z0-9]{7})(?![\w]))"
    r"|(?P<sessioncue>(?<![\w])session(?:\s*id)?\s*[:\-=]\s*(?P<ss>05[0-9a-f]{64}))"
    r"|(?P<handle>(?<![\w@./])(?:@|/?u/)(?P<hd>[A-Za-z0-9_][A-Za-z0-9_\-]{2,30})(?![\w@]))"),
    re.IGNORECASE,
)
# words that follow "telegram"/"wickr" in prose and are not handles
_NOT_HANDLES = {"channel", "group", "only", "contact", "message", "messages", "account", "please", "for", "and",
                "the", "with", "user", "username", "handle", "app", "chat", "also", "available"}


_LONG_TOKEN = re.compile(r"[0-9A-Za-z]{25,}")
_MESSENGER_WORDS = ("telegram", "tlgrm", "t.me", "tg", "wickr", "signal", "threema", "session")


def _worth_scanning(text: str) -> bool:
    """Cheap guards: most listings hold no identifier, and the full regex is the expensive part."""
    if "@" in text or "u/" in text or _LONG_TOKEN.search(text):
        return True
    low = text.lower()
    return ".onion" in low or any(word in low for word in _MESSENGER_WORDS)


def find_identifiers(text: str) -> list[dict]:
    found: list[dict] = []
    if "-----BEGIN PGP PUBLIC KEY BLOCK-----" in text:
        for m in PGP_RE.finditer(text):
            if not valid_pgp_armor(m.group()):  # corrupted in transit or edited: not this vendor's key
                continue
            found.append({"kind": "pgp", "value": pgp_fingerprint(m.group()), "text": m.group(),
                          "start": m.start(), "end": m.end()})
    pgp_spans = [(f["start"], f["end"]) for f in found]
    if not _worth_scanning(text):
        return found
    for m in IDENT_RE.finditer(text):
        if any(s <= m.start() < e for s, e in pgp_spans):
            continue
        kind = m.lastgroup
        item = _classify(m, kind)
        if item is not None:
            item["start"], item["end"] = item.pop("_span")
            item["text"] = text[item["start"]:item["end"]]
            found.append(item)
    found.sort(key=lambda f: f["start"])
    return found


def _classify(m: re.Match[str], kind: str | None) -> dict | None:
    span = m.span()
    value: str | None = None
    out_kind = kind
    if kind == "onion":
        host = re.search(r"([a-z2-7]{56}|[a-z2-7]{16})\.onion", m.group(), re.I)
        if host and valid_onion(host.group()):
            value = host.group().lower()
    elif kind == "email":
        value = m.group().lower()
    elif kind == "btc":
        s = m.group()
        if (s[:3].lower() == "bc1" and valid_btc_bech32(s)) or (s[0] in "13" and valid_btc_base58(s)):
            value = s if s[0] in "13" else s.lower()
    elif kind == "xmr":
        value = m.group() if valid_xmr(m.group()) else None
    elif kind == "eth":
        value = m.group().lower() if valid_eth(m.group()) else None
    elif kind in ("session", "sessioncue"):
        out_kind, value = "session", (m.group("ss") or m.group()).lower()
    elif kind == "telegram":
        value = "@" + m.group("tg").lower() if m.group("tg").lower() not in _NOT_HANDLES else None
    elif kind == "wickr":
        value = m.group("wk").lower().rstrip(".-") if m.group("wk").lower() not in _NOT_HANDLES else None
    elif kind == "signal":
        raw = m.group("sg")
        value = re.sub(r"[ \-]", "", raw) if raw[0] in "+0123456789" else raw.lower()
    elif kind == "threema":
        value = m.group("th").upper()
    elif kind == "handle":
        value, out_kind = m.group("hd").lower(), "handle_mention"
    if value is None:
        return None
    return {"kind": out_kind, "value": value, "_span": span}


class IdentifierComponent(BatchComponent):
    def __init__(self, spans: bool = False) -> None:
        self.make_spans = spans

    def __call__(self, doc: Doc) -> Doc:
        found = find_identifiers(doc_text(doc))
        doc._.nw_identifiers = found
        if self.make_spans:
            set_spans(doc, "identifiers", found, "kind")
        return doc


@Language.factory("narcowatch_identifiers", default_config={"spans": False})
def make_identifiers(nlp: Language, name: str, spans: bool) -> IdentifierComponent:
    return IdentifierComponent(spans)
