"""Who is asking: a session cookie (browser) or an API token (Bearer), checked on every route by `guard`.

`guard(name)` is the only way a route is protected: it resolves the caller, refuses anonymous callers
(HTML: redirect to the login page; API: 401), refuses roles the table in web.access does not list (403),
and checks the CSRF token on every state-changing request made with a session cookie.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from storage import audit as audit_log
from storage.db import session_scope
from storage.models import ApiToken, User, UserRole, utcnow
from web.access import ROUTE_ROLES, allowed, permission_of
from web.security import csrf_ok, password_fingerprint, token_digest

if TYPE_CHECKING:
    from web.app import WebContext

SESSION_COOKIE = "nw_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass
class Principal:
    user_id: int
    username: str
    roles: frozenset[str]
    via: str  # session | token
    csrf: str | None = None
    token_id: int | None = None
    extra: dict = field(default_factory=dict)

    def can(self, route_name: str) -> bool:
        return allowed(route_name, self.roles)


class LoginRequired(Exception):
    """Raised for anonymous browser requests; the app turns it into a redirect to /login."""

    def __init__(self, next_path: str):
        self.next_path = next_path


def context(request: Request) -> WebContext:
    return request.app.state.nw


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def session_payload(request: Request) -> dict | None:
    if "nw_session_payload" not in request.scope:
        request.scope["nw_session_payload"] = context(request).codec.loads(request.cookies.get(SESSION_COOKIE))
    return request.scope["nw_session_payload"]


def roles_of(session: Session, user_id: int) -> frozenset[str]:
    return frozenset(session.scalars(select(UserRole.role).where(UserRole.user_id == user_id)))


def _resolve(ctx: WebContext, authorization: str | None, payload: dict | None) -> Principal | None:
    with Session(ctx.engine) as session:
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            row = session.execute(
                select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_sha256 == token_digest(token.strip()), ApiToken.revoked.is_(False),
                       User.active.is_(True))).first()
            if row is None:
                return None
            token_row, user = row
            now = utcnow()
            if token_row.last_used_at is None or now - token_row.last_used_at > timedelta(minutes=5):
                # coarse on purpose: one write per token per few minutes, not per request
                session.execute(update(ApiToken).where(ApiToken.id == token_row.id).values(last_used_at=now))
                session.commit()
            return Principal(user.id, user.username, roles_of(session, user.id), "token", token_id=token_row.id)
        if not payload or "uid" not in payload:
            return None
        user = session.get(User, payload["uid"])
        if user is None or not user.active or payload.get("pwf") != password_fingerprint(user.password_hash):
            return None
        return Principal(user.id, user.username, roles_of(session, user.id), "session", csrf=payload.get("csrf"))


async def current_principal(request: Request) -> Principal | None:
    if "nw_principal" not in request.scope:
        request.scope["nw_principal"] = await run_in_threadpool(
            _resolve, context(request), request.headers.get("authorization"), session_payload(request))
    return request.scope["nw_principal"]


def is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/openapi.json"


def guard(name: str):
    """The dependency that protects route `name` (its roles are ROUTE_ROLES[permission_of(name)])."""
    if permission_of(name) not in ROUTE_ROLES:
        raise KeyError(f"route {name!r} has no entry in web.access.ROUTE_ROLES; add one before registering it")

    async def check(request: Request) -> Principal:
        principal = await current_principal(request)
        if principal is None:
            if is_api(request) or request.headers.get("authorization"):
                raise HTTPException(401, "sign in first: send `Authorization: Bearer <token>` (create one with "
                                         "`narcowatch users token create`)", headers={"WWW-Authenticate": "Bearer"})
            raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        if not principal.can(name):
            needed = ", ".join(sorted(ROUTE_ROLES[permission_of(name)]))
            raise HTTPException(403, f"{principal.username} may not use this page: it needs one of the roles "
                                     f"{needed}; ask an admin (`narcowatch users roles {principal.username} --role ...`)")
        if request.method not in SAFE_METHODS and principal.via == "session":
            given = request.headers.get("x-csrf-token")
            if given is None and "form" in (request.headers.get("content-type") or ""):
                given = (await request.form()).get("csrf_token")
            if not csrf_ok(principal.csrf, given if isinstance(given, str) else None):
                raise HTTPException(403, "the form's CSRF token is missing or stale; reload the page and try again")
        request.state.principal = principal
        return principal

    check.__name__ = f"guard_{permission_of(name)}"
    return check


def record(request: Request, action: str, target: str | None = None, detail: dict | None = None,
           username: str | None = None) -> None:
    """Write one audit entry in its own transaction (who, what, when, from where)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    who = username or (principal.username if principal else None)
    if principal is not None and principal.via == "token":
        detail = {**(detail or {}), "via": f"api token {principal.token_id}"}
    with session_scope(context(request).engine) as session:
        audit_log.append(session, who, action, target, detail, client_ip(request))
