"""Login, logout, the home page and "who am I"."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import ClusterLink, User
from web.app import DB, Registrar, anonymous_payload, context_of, render, set_session
from web.auth import client_ip, current_principal, record, roles_of, session_payload
from web.security import csrf_ok, new_csrf, password_fingerprint, verify_password


def _safe_next(value: str | None) -> str:
    # only local paths: never an open redirect to another host ("//evil", "/\\evil", "https://...")
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return "/"
    return value


def register(reg: Registrar) -> None:
    app = reg.app

    @app.get("/login", name="login_form", include_in_schema=False)
    async def login_form(request: Request, next: str = "/"):
        if await current_principal(request):
            return RedirectResponse(_safe_next(next), status_code=303)
        payload = session_payload(request)
        fresh = not payload or not payload.get("csrf")
        if fresh:
            payload = anonymous_payload()
            request.scope["nw_session_payload"] = payload
        response = render(request, "login.html", {"next": _safe_next(next), "error": None}, title="Sign in")
        if fresh:
            set_session(response, request, payload)
        return response

    @app.post("/login", name="login", include_in_schema=False)
    def login(request: Request, session: DB, username: Annotated[str, Form(max_length=100)] = "",
              password: Annotated[str, Form(max_length=1000)] = "", csrf_token: Annotated[str, Form()] = "",
              next: Annotated[str, Form()] = "/"):
        ctx = context_of(request)
        ip = client_ip(request)
        payload = session_payload(request) or {}

        def again(message: str, status: int):
            fresh = anonymous_payload()
            request.scope["nw_session_payload"] = fresh
            response = render(request, "login.html", {"next": _safe_next(next), "error": message}, status=status,
                              title="Sign in")
            set_session(response, request, fresh)
            return response

        if not csrf_ok(payload.get("csrf"), csrf_token):
            return again("The sign-in form expired; please try again.", 403)
        wait = ctx.limiter.retry_after(username, ip)
        if wait:
            record(request, "login_rate_limited", f"user:{username[:100]}", username=None)
            return again(f"Too many failed sign-ins for this account from your address; try again in "
                         f"{wait // 60 + 1} minutes.", 429)
        user = session.scalar(select(User).where(User.username == username))
        good = verify_password(user.password_hash if user else None, password)
        if not good or user is None or not user.active:
            ctx.limiter.failed(username, ip)
            record(request, "login_failed", f"user:{username[:100]}", username=None)
            return again("Wrong username or password.", 401)
        ctx.limiter.succeeded(username, ip)
        record(request, "login", f"user:{user.username}", {"roles": sorted(roles_of(session, user.id))},
               username=user.username)
        response = RedirectResponse(_safe_next(next), status_code=303)
        # a new session (and CSRF token) on every sign-in: a planted pre-login cookie is worthless
        set_session(response, request, {"uid": user.id, "pwf": password_fingerprint(user.password_hash),
                                        "csrf": new_csrf()})
        return response

    @reg.page("/logout", "logout", methods=("POST",))
    def logout(request: Request):
        record(request, "logout", f"user:{request.state.principal.username}")
        response = RedirectResponse("/login", status_code=303)
        set_session(response, request, anonymous_payload())
        return response

    def home_data(request: Request, session: Session) -> dict:
        principal = request.state.principal
        data: dict = {"username": principal.username, "roles": sorted(principal.roles)}
        if principal.can("clusters"):
            data["undecided_links"] = session.scalar(select(func.count()).select_from(ClusterLink)
                                                     .where(ClusterLink.decision.is_(None))) or 0
        return data

    @reg.page("/", "home")
    def home(session: DB, request: Request):
        return render(request, "home.html", home_data(request, session), title="Home")

    @reg.api("/me", "home", tag="account", summary="Who am I: username and roles")
    def me(session: DB, request: Request):
        return home_data(request, session)
