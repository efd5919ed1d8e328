"""The app factory: `create_app()` builds the FastAPI app (server-rendered pages + a JSON twin of each under
/api/, described at /openapi.json) around one database and one evidence store.

Routes are added only through `Registrar.page/api/download`, which attach the role guard named in
web.access.ROUTE_ROLES; a route without an entry there cannot be registered.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from narcowatch import __version__, settings
from storage.evidence import EvidenceStore
from web.access import ROUTE_ROLES, allowed
from web.auth import SESSION_COOKIE, LoginRequired, current_principal, guard, session_payload
from web.security import (
    LoginLimiter,
    SecurityHeadersMiddleware,
    SessionCodec,
    load_or_create_secret,
    new_csrf,
)

HERE = Path(__file__).resolve().parent

# Navigation: (route name, label); shown only to roles that may open it.
NAV = [("search", "Search"), ("clusters", "Clusters"), ("sites", "Sites"), ("reports", "Reports"),
       ("audit", "Audit log"), ("users", "Users")]
# which navigation entry a page belongs to
SECTION = {"listing": "search", "vendor": "search", "thread": "search", "cluster": "clusters", "site": "sites",
           "audit_verify": "audit"}


@dataclass
class WebContext:
    engine: Engine
    store: EvidenceStore
    codec: SessionCodec
    limiter: LoginLimiter
    reports_dir: Path
    templates: Environment


def jsonable(value):
    """Decimals stay exact (strings), datetimes ISO 8601, dataclasses dicts."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


class ApiJSON(JSONResponse):
    def render(self, content) -> bytes:
        return json.dumps(jsonable(content), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _fmt_dt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


# crypto prices are small numbers: 0.001306 BTC must not show as "0.00"
CRYPTO = frozenset({"BTC", "XMR", "ETH", "LTC", "BCH", "ZEC", "DASH", "USDT"})


def _fmt_money(value, currency: str | None = None) -> str:
    """Fiat with 2 decimals; crypto (or any amount under 1) with up to 8, trailing zeros cut."""
    if value is None:
        return "—"
    amount = Decimal(value)
    if (currency or "").upper() in CRYPTO or (currency is None and 0 < abs(amount) < 1):
        text = f"{amount:,.8f}".rstrip("0")
        whole, _, frac = text.partition(".")
        return f"{whole}.{frac.ljust(2, '0')}"
    return f"{amount:,.2f}"


def unit_price(row: dict) -> tuple[Decimal | None, bool]:
    """(price per gram/unit, computed here?): the stored figure, else price / quantity for one-tier listings
    whose analysis left it empty (shown with "≈" so nobody mistakes it for the extractor's number)."""
    stored = row.get("price_per_unit")
    if stored is not None:
        return Decimal(stored), False
    price, quantity = row.get("price"), row.get("quantity")
    if price is None or not quantity or float(quantity) <= 0:
        return None, False
    return Decimal(price) / Decimal(str(quantity)), True


def _fmt_num(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    return f"{float(value):,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{int(value):,}"


def _fmt_size(value: int | None) -> str:
    if value is None:
        return "—"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return str(value)


def _jsonfmt(value) -> str:
    return json.dumps(jsonable(value), ensure_ascii=False, indent=1, sort_keys=True)


def make_templates() -> Environment:
    # autoescape on for every template, whatever its name: scraped text is hostile by assumption
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(dt=_fmt_dt, money=_fmt_money, num=_fmt_num, size=_fmt_size, pretty=_jsonfmt,
                       unit_price=unit_price)
    return env


def context_of(request: Request) -> WebContext:
    return request.app.state.nw


def db(request: Request) -> Iterator[Session]:
    with Session(context_of(request).engine, expire_on_commit=False) as session:
        yield session


DB = Annotated[Session, Depends(db)]
PageNo = Annotated[int, Query(ge=1, le=100_000, description="Result page")]
OptStr = Annotated[str | None, Query()]


def query_with(request: Request, **changes) -> str:
    """The current query string with some parameters replaced (pagination, format links)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    items += [(k, str(v)) for k, v in changes.items() if v is not None]
    return urlencode(items)


def render(request: Request, template: str, data: dict, status: int = 200, title: str = "") -> HTMLResponse:
    principal = getattr(request.state, "principal", None) or request.scope.get("nw_principal")
    payload = session_payload(request) or {}
    nav = [(name, label) for name, label in NAV if principal and allowed(name, principal.roles)]
    route = request.scope.get("route")
    current = route.name if route is not None else ""
    json_url = None
    if principal and current and not current.startswith("api.") and status < 400:  # no twin for error pages
        try:
            json_url = request.app.url_path_for("api." + current, **request.path_params)
            json_url += f"?{request.url.query}" if request.url.query else ""
        except Exception:  # no JSON twin (logout, downloads)
            json_url = None
    html = context_of(request).templates.get_template(template).render(
        request=request, data=data, principal=principal, csrf=payload.get("csrf", ""), nav=nav, title=title,
        version=__version__, path=request.app.url_path_for, query_with=lambda **kw: query_with(request, **kw),
        current=current, json_url=json_url, section=SECTION.get(current, current))
    return HTMLResponse(html, status_code=status)


class Registrar:
    """Adds guarded routes. `page` = HTML (hidden from OpenAPI), `api` = JSON twin under /api (documented),
    `download` = a file both browsers and API clients fetch (documented)."""

    def __init__(self, app: FastAPI):
        self.app = app

    def _add(self, path: str, name: str, endpoint: Callable, methods: list[str], **kw) -> None:
        self.app.add_api_route(path, endpoint, methods=methods, name=name, dependencies=[Depends(guard(name))],
                               **kw)

    def page(self, path: str, name: str, methods: tuple[str, ...] = ("GET",), **kw):
        def deco(fn):
            self._add(path, name, fn, list(methods), include_in_schema=False, response_class=HTMLResponse, **kw)
            return fn
        return deco

    def api(self, path: str, name: str, methods: tuple[str, ...] = ("GET",), tag: str = "api", **kw):
        def deco(fn):
            self._add("/api" + path, "api." + name, fn, list(methods), response_class=ApiJSON, tags=[tag], **kw)
            return fn
        return deco

    def download(self, path: str, name: str, tag: str = "exports", **kw):
        def deco(fn):
            self._add(path, name, fn, ["GET"], tags=[tag], **kw)
            return fn
        return deco


def _error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "message": message}, status=status,
                  title=f"Error {status}")


def _install_handlers(app: FastAPI) -> None:
    from web.auth import is_api

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        return RedirectResponse("/login?" + urlencode({"next": exc.next_path}), status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if is_api(request) or request.headers.get("authorization") or "html" not in request.headers.get("accept", ""):
            return ApiJSON({"error": exc.detail, "status": exc.status_code}, status_code=exc.status_code,
                           headers=exc.headers)
        await current_principal(request)
        return _error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        problems = [f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()]
        message = "invalid request: " + "; ".join(problems)
        if is_api(request) or "html" not in request.headers.get("accept", ""):
            return ApiJSON({"error": message, "status": 422}, status_code=422)
        await current_principal(request)
        return _error_page(request, 422, message)


def create_app(engine: Engine | None = None, evidence_root: Path | None = None, home: Path | None = None,
               reports_dir: Path | None = None, limiter: LoginLimiter | None = None) -> FastAPI:
    from storage.db import default_engine, require_schema

    home = home or settings.home()
    engine = engine or default_engine()
    require_schema(engine)
    app = FastAPI(title="narcowatch", version=__version__, docs_url=None, redoc_url=None, openapi_url=None,
                  description="Investigator API. Authenticate with `Authorization: Bearer <token>` "
                              "(`narcowatch users token create`). Every search, view and export is audited.")
    app.state.nw = WebContext(
        engine=engine, store=EvidenceStore(evidence_root or settings.evidence_dir()),
        codec=SessionCodec(load_or_create_secret(home)), limiter=limiter or LoginLimiter(),
        reports_dir=reports_dir or home / "reports", templates=make_templates())
    app.add_middleware(SecurityHeadersMiddleware)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _install_handlers(app)
    reg = Registrar(app)

    from web import routes_account, routes_investigate, routes_ops

    routes_account.register(reg)
    routes_investigate.register(reg)
    routes_ops.register(reg)

    @app.get("/openapi.json", name="openapi", include_in_schema=False, dependencies=[Depends(guard("openapi"))])
    def openapi_json():
        if app.openapi_schema is None:
            app.openapi_schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                             routes=app.routes)
        return JSONResponse(app.openapi_schema)

    missing = [r.name for r in app.routes if getattr(r, "name", None) and r.name.removeprefix("api.")
               not in ROUTE_ROLES and r.name not in ("login_form", "login", "static")]
    if missing:
        raise RuntimeError(f"routes without an access rule in web.access.ROUTE_ROLES: {missing}")
    return app


def set_session(response, request: Request, payload: dict) -> None:
    response.set_cookie(SESSION_COOKIE, context_of(request).codec.dumps(payload), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/", max_age=context_of(request).codec.max_age)


def anonymous_payload() -> dict:
    return {"csrf": new_csrf()}
