"""Passwords, API tokens, signed session cookies, CSRF tokens, login rate limiting, security headers.

No third-party session library: the cookie is `base64url(json).base64url(hmac-sha256)`, keyed by a secret
kept in $NARCOWATCH_HOME/secret_key (created 0600 on first run). It carries the user id, a CSRF token,
the issue time and a fingerprint of the user's password hash, so changing a password ends every session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import deque
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
TOKEN_PREFIX = "nw_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # verified against when the username is unknown, so a wrong username costs as long as a wrong password
    return _hasher.hash("narcowatch-dummy-password")


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def new_api_token() -> tuple[str, str]:
    """(token shown once to the user, its SHA-256 which is all the database keeps)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_or_create_secret(home: Path) -> bytes:
    """The session signing key; created with mode 0600 (never world-readable) the first time."""
    path = home / "secret_key"
    home.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes().strip()
        if len(secret) < 32:
            raise RuntimeError(f"{path} holds fewer than 32 bytes; delete it to have a new key made "
                               "(every session then ends)") from None
        return secret
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_hex(32).encode())
    return path.read_bytes().strip()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    """Signs and checks the session cookie. Tampered, foreign or expired cookies decode to None."""

    def __init__(self, secret: bytes, max_age_seconds: int = 12 * 3600):
        self.key = hashlib.sha256(b"narcowatch-session:" + secret).digest()
        self.max_age = max_age_seconds

    def dumps(self, payload: dict) -> str:
        body = _b64(json.dumps({**payload, "iat": int(time.time())}, separators=(",", ":")).encode())
        return body + "." + _b64(hmac.new(self.key, body.encode(), hashlib.sha256).digest())

    def loads(self, cookie: str | None) -> dict | None:
        if not cookie or cookie.count(".") != 1:
            return None
        body, sig = cookie.split(".")
        try:
            good = hmac.compare_digest(_unb64(sig), hmac.new(self.key, body.encode(), hashlib.sha256).digest())
            if not good:
                return None
            payload = json.loads(_unb64(body))
        except (ValueError, TypeError):
            return None
        if not isinstance(payload, dict) or time.time() - payload.get("iat", 0) > self.max_age:
            return None
        return payload


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


class LoginLimiter:
    """Failed logins per (username, ip) and per ip in a sliding window; a success clears the pair.

    In memory: one web process guards itself. Run one process per database (the default), or put a
    reverse proxy limiter in front when running several.
    """

    def __init__(self, per_pair: int = 5, per_ip: int = 30, window_seconds: int = 900):
        self.per_pair, self.per_ip, self.window = per_pair, per_ip, window_seconds
        self._fails: dict[tuple[str, str], deque[float]] = {}
        self._ip_fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _trim(self, q: deque[float], now: float) -> deque[float]:
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def retry_after(self, username: str, ip: str) -> int:
        """Seconds until this pair may try again; 0 when allowed now."""
        now = time.monotonic()
        with self._lock:
            pair = self._trim(self._fails.get((username.lower(), ip), deque()), now)
            by_ip = self._trim(self._ip_fails.get(ip, deque()), now)
            waits = [self.window - (now - q[0]) for q, cap in ((pair, self.per_pair), (by_ip, self.per_ip))
                     if len(q) >= cap]
        return int(max(waits)) + 1 if waits else 0

    def failed(self, username: str, ip: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._fails.setdefault((username.lower(), ip), deque()).append(now)
            self._ip_fails.setdefault(ip, deque()).append(now)

    def succeeded(self, username: str, ip: str) -> None:
        with self._lock:
            self._fails.pop((username.lower(), ip), None)


# What every response carries. No inline scripts or styles anywhere: the CSP forbids them, so a payload
# that slips past escaping still cannot run.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class SecurityHeadersMiddleware:
    """Pure ASGI: adds the headers to every response unless the route already set a stricter one
    (evidence downloads set `Content-Security-Policy: sandbox`)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.decode().lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name not in present:
                        headers.append((name.encode(), value.encode()))
                if "cache-control" not in present:
                    # pages show case data: never keep them in shared or disk caches
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
