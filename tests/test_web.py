"""The web app through its HTTP interface: every route refuses anonymous callers and enforces its roles,
searches/views/exports/feedback are audited in a verifiable chain, scraped payloads are escaped, evidence
is never served as HTML, CSRF and login rate limiting hold, exports are well-formed."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.audit import verify_chain
from storage.evidence import EvidenceStore, sha256_hex
from storage.models import AuditLog, ClusterFeedback, ClusterLink, Listing
from tests import web_fixtures as wf
from tests.storage_helpers import drop_audit_guard
from web.access import PUBLIC, ROLES, ROUTE_ROLES, permission_of
from web.app import create_app
from web.security import LoginLimiter

HTML = {"accept": "text/html"}
PAYLOAD_MARKERS = ["<script>alert", "<img src=x", "<svg onload", 'href="javascript:', "onerror=alert(1)>"]


class Env:
    def __init__(self, root: Path, engine, limiter: LoginLimiter | None = None):
        self.root = root
        self.engine = engine
        self.store = EvidenceStore(root / "evidence")
        with Session(engine, expire_on_commit=False) as session:
            self.world = wf.build(session, self.store, root / "reports")
        self.app = create_app(engine, root / "evidence", root, root / "reports", limiter=limiter)
        self._clients: dict[str, TestClient] = {}

    def client(self, role: str | None = None) -> TestClient:
        """A browser-like client signed in as the fixture user holding `role` (None: anonymous)."""
        key = role or "anonymous"
        if key not in self._clients:
            client = TestClient(self.app, follow_redirects=False)
            if role:
                login(client, wf.ROLE_USERS[role])
            self._clients[key] = client
        return self._clients[key]


def csrf_of(client: TestClient, html: str | None = None) -> str:
    html = html if html is not None else client.get("/login", headers=HTML).text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client: TestClient, username: str, password: str = wf.PASSWORD, check: bool = True):
    token = csrf_of(client)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                           "next": "/"})
    if check and password == wf.PASSWORD:
        assert response.status_code == 303, response.text
    return response



@pytest.fixture(scope="module", autouse=True)
def _cheap_argon2():
    with wf.cheap_password_hashing():
        yield

@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from storage.db import make_engine
    from storage.migrate import upgrade

    root = tmp_path_factory.mktemp("web")
    engine = make_engine(f"sqlite:///{root / 'nw.db'}")
    upgrade(engine)
    yield Env(root, engine)
    engine.dispose()


def concrete_path(route: APIRoute, w: wf.World) -> str:
    values = {"listing_id": w.listings["coke"], "page_id": w.pages["coke"], "account_id": w.vendors["DrGreen"],
              "cluster_id": w.cluster_id, "link_id": w.links["outside"], "thread_id": w.thread_id,
              "site_id": w.sites["market_a"], "week": w.report_week, "name": "report.csv"}
    names = re.findall(r"{(\w+)}", route.path)
    missing = [n for n in names if n not in values]
    assert not missing, f"route {route.path}: the walk has no value for {missing}; add one to concrete_path"
    return route.path.format(**{n: values[n] for n in names})


def guarded_routes(app) -> list[APIRoute]:
    # logout last: it ends the walking client's session
    return sorted((r for r in app.routes if isinstance(r, APIRoute) and r.name not in PUBLIC),
                  key=lambda r: r.name == "logout")


def _call(client: TestClient, route: APIRoute, path: str, headers: dict | None = None):
    method = sorted(route.methods)[0]
    headers = dict(headers or {})
    if method == "GET":
        return client.get(path, headers={**HTML, **headers})
    if path.startswith("/api/"):
        return client.post(path, json={"decision": "reject", "note": "walk"}, headers=headers)
    return client.post(path, data={"decision": "reject", "note": "walk", "csrf_token": headers.pop("csrf", "")},
                       headers=headers)


def test_every_route_is_in_the_role_table_and_the_table_has_no_stale_entries(env):
    names = {permission_of(r.name) for r in guarded_routes(env.app)}
    assert names == set(ROUTE_ROLES), (names ^ set(ROUTE_ROLES))
    for route in env.app.routes:
        assert getattr(route, "name", None) in PUBLIC or permission_of(route.name) in ROUTE_ROLES, route


# The policy as the issue states it, written out here rather than read from web.access: admins everything,
# cyber units sites and schedules, investigators search and feedback (listings, posts, vendors, clusters),
# the drug desk reports, the audit log and accounts admins only. The role walks below use the app's table;
# this pins that table to the policy.
POLICY = {
    "admin only": ({"audit", "audit_verify", "users"}, {"admin"}),
    "investigators": ({"search", "search_csv", "listing", "listing_bundle", "page_body", "page_text",
                       "page_screenshot", "thread", "vendor", "clusters", "cluster", "cluster_graphml",
                       "cluster_i2", "link_decision"}, {"admin", "investigator"}),
    "cyber units": ({"sites", "site"}, {"admin", "cyber_unit"}),
    "drug desk": ({"reports", "report_file"}, {"admin", "drug_desk"}),
    "anyone signed in": ({"home", "logout", "openapi"}, set(ROLES)),
}


def test_the_role_table_is_the_stated_policy(env):
    names = {permission_of(r.name) for r in guarded_routes(env.app)}
    covered = set().union(*(routes for routes, _ in POLICY.values()))
    assert names == covered, f"routes without a stated policy: {sorted(names - covered)}; " \
                             f"policy for routes that do not exist: {sorted(covered - names)}"
    for group, (routes, roles) in POLICY.items():
        for name in routes:
            assert set(ROUTE_ROLES[name]) == roles, (group, name, sorted(ROUTE_ROLES[name]))


def test_every_route_refuses_anonymous_callers(env):
    client = TestClient(env.app, follow_redirects=False)
    routes = guarded_routes(env.app)
    assert len(routes) > 30
    for route in routes:
        path = concrete_path(route, env.world)
        response = _call(client, route, path)
        if path.startswith("/api/") or path == "/openapi.json":
            assert response.status_code == 401, (path, response.status_code)
            assert response.headers.get("www-authenticate") == "Bearer"
        elif "POST" in route.methods:  # a form post without a session: refused before anything happens
            assert response.status_code in (303, 401, 403), (path, response.status_code)
        else:
            assert response.status_code == 303, (path, response.status_code)
            assert response.headers["location"].startswith("/login?next=")
        assert "DrGreen" not in response.text, path


@pytest.mark.parametrize("role", ROLES)
def test_every_route_enforces_its_roles_for_sessions(env, role):
    client = TestClient(env.app, follow_redirects=False)
    login(client, wf.ROLE_USERS[role])
    token = csrf_of(client, client.get("/", headers=HTML).text)
    for route in guarded_routes(env.app):
        path = concrete_path(route, env.world)
        response = _call(client, route, path, {"x-csrf-token": token, "csrf": token})
        if role in ROUTE_ROLES[permission_of(route.name)]:
            assert response.status_code < 400, (role, path, response.status_code, response.text[:300])
            if route.name != "logout":  # signing out sends you to the login page; nothing else may
                assert not response.headers.get("location", "").startswith("/login"), (role, path)
        else:
            assert response.status_code == 403, (role, path, response.status_code)
            assert "DrGreen" not in response.text


@pytest.mark.parametrize("role", ROLES)
def test_every_route_enforces_its_roles_for_api_tokens(env, role):
    from storage.db import session_scope
    from web.accounts import create_token

    with session_scope(env.engine) as session:
        _, token = create_token(session, wf.ROLE_USERS[role], f"walk {role}", actor="test")
    client = TestClient(env.app, follow_redirects=False)
    auth = {"authorization": f"Bearer {token}"}
    for route in guarded_routes(env.app):
        if route.name == "logout":
            continue
        path = concrete_path(route, env.world)
        response = _call(client, route, path, auth)
        expected_ok = role in ROUTE_ROLES[permission_of(route.name)]
        assert (response.status_code < 400) == expected_ok, (role, path, response.status_code, response.text[:200])
        if not expected_ok:
            assert response.status_code == 403


def test_wrong_revoked_and_disabled_tokens_are_refused(env):
    from storage.db import session_scope
    from web.accounts import create_token, revoke_token, set_active

    with session_scope(env.engine) as session:
        row, token = create_token(session, "ivan", "to revoke", actor="test")
    client = TestClient(env.app)
    assert client.get("/api/search?q=cocaine", headers={"authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/search?q=cocaine", headers={"authorization": f"Bearer {token}x"}).status_code == 401
    assert client.get("/api/search?q=cocaine", headers={"authorization": f"Basic {token}"}).status_code == 401
    with session_scope(env.engine) as session:
        revoke_token(session, row.id, actor="test")
    assert client.get("/api/search?q=cocaine", headers={"authorization": f"Bearer {token}"}).status_code == 401
    with session_scope(env.engine) as session:
        _, token2 = create_token(session, "dora", "disabled", actor="test")
        set_active(session, "dora", False, actor="test")
    try:
        assert client.get("/api/reports", headers={"authorization": f"Bearer {token2}"}).status_code == 401
    finally:
        with session_scope(env.engine) as session:
            set_active(session, "dora", True, actor="test")


def test_scraped_payloads_are_escaped_on_every_page(env):
    client = env.client("admin")
    w = env.world
    pages = ["/", "/search?q=ketamine", "/search?kind=posts&q=scam", "/search?kind=posts&q=drgreen",
             f"/listings/{w.listings['xss']}", f"/listings/{w.listings['coke']}",
             f"/vendors/{w.vendors['evil' + wf.SCRIPT]}", f"/vendors/{w.vendors['DrGreen']}", "/clusters",
             f"/clusters/{w.cluster_id}", "/clusters/c-evil", f"/threads/{w.thread_id}", "/sites",
             f"/sites/{w.sites['market_a']}", "/reports", "/admin/audit", "/admin/users"]
    for path in pages:
        response = client.get(path, headers=HTML)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        for marker in PAYLOAD_MARKERS:
            assert marker not in response.text, (path, marker)
    xss = client.get(f"/listings/{w.listings['xss']}", headers=HTML).text
    assert "Ketamine 5g &lt;script&gt;alert(1)&lt;/script&gt;" in xss  # shown, as text
    assert "javascript:alert(1)" in xss and 'href="javascript' not in xss  # the URL is text, never a link


def test_templates_never_disable_escaping():
    templates = Path(__file__).resolve().parents[1] / "web" / "templates"
    for path in templates.glob("*.html"):
        source = path.read_text(encoding="utf-8")
        assert "|safe" not in source.replace(" ", ""), path
        assert "autoescape" not in source, path
        assert "<script" not in source.lower(), f"{path}: no inline scripts (CSP forbids them)"
        assert not re.search(r"\sstyle\s*=", source), f"{path}: inline style (CSP style-src 'self')"
        assert not re.search(r"\son[a-z]+\s*=", source), f"{path}: inline event handler"


def test_security_headers_on_pages_and_evidence(env):
    client = env.client("investigator")
    page = client.get(f"/listings/{env.world.listings['coke']}", headers=HTML)
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    pid = env.world.pages["xss"]
    body = client.get(f"/pages/{pid}/body")
    assert body.headers["content-type"] == "application/octet-stream"
    assert body.headers["content-disposition"].startswith("attachment")
    assert body.headers["content-security-policy"].startswith("sandbox")
    assert b"<script>alert('body')</script>" in body.content  # bytes as stored, for the record
    as_text = client.get(f"/pages/{pid}/text")
    assert as_text.headers["content-type"].startswith("text/plain")
    assert as_text.headers["content-security-policy"].startswith("sandbox")
    shot = client.get(f"/pages/{pid}/screenshot")
    assert shot.headers["content-type"] == "image/png" and shot.content.startswith(b"\x89PNG")
    assert shot.headers["content-security-policy"].startswith("sandbox")
    report = env.client("drug_desk").get(f"/reports/{env.world.report_week}/report.html")
    assert report.headers["content-security-policy"].startswith("sandbox")  # its scripts cannot run
    assert "allow-scripts" not in report.headers["content-security-policy"]


def test_listing_page_shows_hashes_history_and_verified_evidence(env):
    client = env.client("investigator")
    data = client.get(f"/api/listings/{env.world.listings['coke']}").json()
    assert [s["price"] for s in data["snapshots"]] == ["210.00000000", "175.00000000", "192.50000000"] or \
        [float(s["price"]) for s in data["snapshots"]] == [210.0, 175.0, 192.5]
    assert len(data["chart"]["points"]) == 3
    assert data["pages"] and all(p["body_verified"] for p in data["pages"])
    for p in data["pages"]:
        assert p["sha256"] == sha256_hex(env.store.read_body(p["sha256"]))
    html = client.get(f"/listings/{env.world.listings['coke']}", headers=HTML).text
    assert data["pages"][0]["sha256"] in html and "<svg" in html and "<path d=\"M" in html


def test_evidence_bundle_download(env):
    client = env.client("investigator")
    response = client.get(f"/listings/{env.world.listings['coke']}/bundle.zip")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        names = bundle.namelist()
        assert "manifest.json" in names and "SHA256SUMS" in names and "evidence.warc.gz" in names
        for line in bundle.read("SHA256SUMS").decode().splitlines():
            digest, name = line.split("  ", 1)
            assert sha256_hex(bundle.read(name)) == digest
        assert '"exported_by": "ivan"' in bundle.read("manifest.json").decode()


def test_search_filters_and_csv_export_neutralises_formulas(env):
    client = env.client("investigator")
    found = client.get("/api/search", params={"q": "cocaine"}).json()
    assert {r["site"] for r in found["results"]} == {"market_a", "market_c"}
    only_c = client.get("/api/search", params={"q": "cocaine", "site": "market_c"}).json()
    assert [r["site"] for r in only_c["results"]] == ["market_c"]
    cheap = client.get("/api/search", params={"q": "cocaine", "max_ppu": "52"}).json()
    assert all(float(r["price_per_unit"]) <= 52 for r in cheap["results"]) and cheap["total"] >= 1
    dated = client.get("/api/search", params={"from": "2030-01-01"}).json()
    assert dated["total"] == 0
    bad = client.get("/api/search", params={"from": "yesterday"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.json()["error"]
    assert client.get("/api/search", params={"origin": "N<L"}).status_code == 422
    export = client.get("/search.csv", params={"q": "ketamine"})
    assert export.headers["content-disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "site", "title"] and len(rows) == 2
    description_free = rows[1]
    assert not any(c.startswith(("=", "+", "@")) for c in description_free)
    posts = client.get("/api/search", params={"kind": "posts", "q": "scam"}).json()
    assert posts["total"] == 1 and wf.SVG in posts["results"][0]["text"]


def test_cluster_exports(env):
    client = env.client("investigator")
    cid = env.world.cluster_id
    graph = client.get(f"/clusters/{cid}/graph.graphml")
    assert graph.status_code == 200
    root = ET.fromstring(graph.content)
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    nodes = root.findall(".//g:node", ns)
    edges = root.findall(".//g:edge", ns)
    assert len(nodes) == 4 and len(edges) == 3  # 3 members + GreenDoctor outside; 3 links
    keys = {k.get("id"): k.get("attr.name") for k in root.findall("g:key", ns)}
    for edge in edges:
        attrs = {keys[d.get("key")]: d.text for d in edge.findall("g:data", ns)}
        assert float(attrs["score"]) > 0 and attrs["sentence"]
    handles = {d.text for n in nodes for d in n.findall("g:data", ns) if keys[d.get("key")] == "handle"}
    assert {"DrGreen", "DrGreen_NL", "drgreen", "GreenDoctor"} == handles
    i2 = client.get(f"/clusters/{cid}/i2.csv")
    rows = list(csv.DictReader(io.StringIO(i2.content.decode("utf-8-sig"))))
    assert len(rows) == 3 and {r["Entity1_Type"] for r in rows} == {"Vendor Account"}
    assert all(r["Entity1_ID"].startswith("account-") and r["Entity2_ID"].startswith("account-") for r in rows)


def test_feedback_sets_the_decision_and_keeps_who_when_why(env):
    client = env.client("investigator")
    link_id = env.world.links["pgp"]
    page = client.get(f"/clusters/{env.world.cluster_id}", headers=HTML).text
    token = csrf_of(client, page)
    response = client.post(f"/links/{link_id}/decision", data={
        "decision": "confirm", "note": "same PGP key", "csrf_token": token,
        "back": f"/clusters/{env.world.cluster_id}"})
    assert response.status_code == 303 and response.headers["location"].endswith(f"#link-{link_id}")
    with Session(env.engine) as session:
        link = session.get(ClusterLink, link_id)
        assert (link.decision, link.decided_by) == ("confirmed", "ivan") and link.decided_at is not None
        fb = session.scalars(select(ClusterFeedback).where(ClusterFeedback.note == "same PGP key")).one()
        assert (fb.kind, fb.who, fb.account_a_id, fb.account_b_id) == ("confirm", "ivan", link.account_a_id,
                                                                       link.account_b_id)
    api = client.post(f"/api/links/{link_id}/decision", json={"decision": "reject", "note": "api"},
                      headers={"x-csrf-token": token})
    assert api.status_code == 200 and api.json()["decision"] == "rejected"
    assert client.post("/api/links/999999/decision", json={"decision": "reject"},
                       headers={"x-csrf-token": token}).status_code == 404


def test_csrf_is_required_for_state_changes(env):
    client = env.client("investigator")
    link_id = env.world.links["forum"]
    for data in ({"decision": "confirm"}, {"decision": "confirm", "csrf_token": "forged"}):
        response = client.post(f"/links/{link_id}/decision", data=data)
        assert response.status_code == 403, data
    assert client.post(f"/api/links/{link_id}/decision", json={"decision": "confirm"}).status_code == 403
    with Session(env.engine) as session:
        assert session.get(ClusterLink, link_id).decision is None
    fresh = TestClient(env.app, follow_redirects=False)
    fresh.get("/login")
    bad = fresh.post("/login", data={"username": "ivan", "password": wf.PASSWORD, "csrf_token": "nope"})
    assert bad.status_code == 403


def test_every_search_view_export_feedback_and_login_is_audited(env):
    client = TestClient(env.app, follow_redirects=False)
    login(client, "ivan")
    w = env.world
    with Session(env.engine) as session:
        before = session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
    client.get("/search", params={"q": "mdma", "category": "ecstasy"}, headers=HTML)
    client.get("/api/search", params={"q": "mdma"})
    client.get(f"/vendors/{w.vendors['DrGreen']}", headers=HTML)
    client.get(f"/clusters/{w.cluster_id}", headers=HTML)
    client.get("/search.csv", params={"q": "mdma"})
    client.get(f"/clusters/{w.cluster_id}/graph.graphml")
    client.get(f"/clusters/{w.cluster_id}/i2.csv")
    client.get(f"/listings/{w.listings['mdma']}/bundle.zip")
    token = csrf_of(client, client.get("/", headers=HTML).text)
    client.post(f"/links/{w.links['outside']}/decision", data={"decision": "reject", "note": "n", "csrf_token": token})
    client.post("/logout", data={"csrf_token": token})
    with Session(env.engine) as session:
        entries = list(session.scalars(select(AuditLog).where(AuditLog.id > before).order_by(AuditLog.id)))
        problems = verify_chain(session)
    actions = [e.action for e in entries]
    assert actions == ["search", "search", "view_vendor", "view_cluster", "export_search_csv",
                       "export_cluster_graphml", "export_cluster_i2", "export_evidence_bundle", "feedback", "logout"]
    assert all(e.username == "ivan" and e.remote_addr == "testclient" and e.at is not None for e in entries)
    assert entries[0].detail["q"] == "mdma" and entries[0].detail["category"] == ["ecstasy"]
    assert problems == []


def test_audit_chain_detects_edits_and_deletions(engine):
    from storage import audit

    with Session(engine) as session:
        for i in range(5):
            audit.append(session, "ivan", "search", "listings", {"q": f"word{i}"}, "10.0.0.1")
        session.commit()
        entries = list(session.scalars(select(AuditLog).order_by(AuditLog.id)))
        assert entries[0].prev_hash == "0" * 64
        assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
        assert verify_chain(session) == []
        drop_audit_guard(session)  # the triggers refuse edits; an attacker with DDL rights drops them first
        session.execute(update(AuditLog).where(AuditLog.id == entries[2].id).values(detail={"q": "innocent"}))
        session.commit()
        problems = verify_chain(session)
        assert len(problems) == 1 and f"audit entry {entries[2].id}" in problems[0] and "edited" in problems[0]
        session.execute(update(AuditLog).where(AuditLog.id == entries[2].id).values(detail={"q": "word2"}))
        session.delete(session.get(AuditLog, entries[1].id))
        session.commit()
        problems = verify_chain(session)
        assert len(problems) == 1 and f"audit entry {entries[2].id}" in problems[0] and "deleted" in problems[0]


def test_login_rate_limit_per_user_and_address(tmp_path):
    from storage.db import make_engine
    from storage.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'nw.db'}")
    upgrade(engine)
    env = Env(tmp_path, engine, limiter=LoginLimiter(per_pair=3, per_ip=100, window_seconds=600))
    client = TestClient(env.app, follow_redirects=False)
    for _ in range(3):
        assert login(client, "ivan", "wrong password!").status_code == 401
    blocked = login(client, "ivan", wf.PASSWORD, check=False)
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    assert login(client, "dora", wf.PASSWORD).status_code == 303  # another account is not locked out
    with Session(engine) as session:
        actions = list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions.count("login_failed") == 3 and "login_rate_limited" in actions
    engine.dispose()


def test_sessions_cannot_be_forged_and_end_on_password_change(env):
    client = TestClient(env.app, follow_redirects=False)
    login(client, "cyrus")
    assert client.get("/sites", headers=HTML).status_code == 200
    cookie = client.cookies.get("nw_session")
    body, sig = cookie.split(".")
    forged = TestClient(env.app, follow_redirects=False)
    forged.cookies.set("nw_session", body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + sig)
    assert forged.get("/sites", headers=HTML).status_code == 303
    from storage.db import session_scope
    from web.accounts import set_password

    with session_scope(env.engine) as session:
        set_password(session, "cyrus", wf.PASSWORD + "!", actor="test")
    try:
        assert client.get("/sites", headers=HTML).status_code == 303
    finally:
        with session_scope(env.engine) as session:
            set_password(session, "cyrus", wf.PASSWORD, actor="test")


def test_login_never_redirects_off_site(env):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client = TestClient(env.app, follow_redirects=False)
        token = csrf_of(client)
        response = client.post("/login", data={"username": "ivan", "password": wf.PASSWORD, "csrf_token": token,
                                               "next": target})
        assert response.headers["location"] == "/", target


def test_report_files_are_confined_to_the_reports_folder(env):
    client = env.client("drug_desk")
    listing = client.get("/api/reports").json()
    assert listing["reports"][0]["week"] == env.world.report_week
    assert listing["reports"][0]["summary"]["listings_new"] == 4
    for path in (f"/reports/{env.world.report_week}/..%2F..%2Fnw.db", "/reports/..%2F/secret_key",
                 f"/reports/{env.world.report_week}/.hidden"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/reports/{env.world.report_week}/report.csv").headers["content-disposition"].startswith(
        "attachment")


def test_openapi_describes_a_json_twin_for_every_page(env):
    spec = env.client("investigator").get("/openapi.json").json()
    paths = set(spec["paths"])
    for route in guarded_routes(env.app):
        if route.include_in_schema is False and route.name not in ("logout", "openapi"):
            twin = "/api" + (route.path if route.path != "/" else "/me")
            assert twin in paths, f"page {route.path} has no JSON twin in OpenAPI"
    assert "/search.csv" in paths and "/clusters/{cluster_id}/graph.graphml" in paths
    assert {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]} >= {"q", "site", "category",
                                                                                      "substance", "from", "max_ppu"}


def test_web_flow_on_each_backend(engine, tmp_path):
    """Login, search, cluster, decision and audit verification on SQLite and PostgreSQL."""
    env = Env(tmp_path, engine)
    client = env.client("investigator")
    found = client.get("/api/search", params={"q": "coca"}).json()
    assert found["total"] == 2
    assert client.get("/api/search", params={"destination": "GB", "site": ["market_a", "market_c"]}
                      ).json()["total"] == 1
    cluster = client.get(f"/api/clusters/{env.world.cluster_id}").json()
    assert {m["site"] for m in cluster["members"]} == {"market_a", "market_c", "forum_b"}
    token = csrf_of(client, client.get("/", headers=HTML).text)
    assert client.post(f"/api/links/{env.world.links['forum']}/decision", json={"decision": "confirm"},
                       headers={"x-csrf-token": token}).status_code == 200
    admin = env.client("admin")
    assert admin.get("/api/admin/audit/verify").json() == {"intact": True, "problems": []}
    assert admin.get("/api/admin/audit").json()["total"] >= 4


def test_search_orders_and_capped_counts(engine, tmp_path):
    """The web asks for newest-first with a capped count; both orders find the same rows, on each backend."""
    from storage.search import ListingFilters, search_listings

    env = Env(tmp_path, engine)
    with Session(engine) as session:
        newest = search_listings(session, "cocaine", order="newest")
        ranked = search_listings(session, "cocaine", order="relevance")
        assert set(newest.ids) == set(ranked.ids) and len(newest.ids) == 2
        assert newest.ids == sorted(newest.ids, reverse=True)
        stored = session.scalar(select(func.count()).select_from(Listing))
        assert stored >= 3 + len(env.world.hostile.listings)
        capped = search_listings(session, "", ListingFilters(), count_limit=2)
        assert (capped.total, capped.exact) == (2, False) and len(capped.ids) == stored
        exact = search_listings(session, "", ListingFilters(), count_limit=100)
        assert (exact.total, exact.exact) == (stored, True)
        dest = search_listings(session, "", ListingFilters(destination="gb", sites=["market_a"]), order="newest",
                               count_limit=10)
        assert dest.ids == [env.world.listings["coke"]]
    client = env.client("investigator")
    page = client.get("/search", params={"q": "cocaine", "sort": "relevance"}, headers=HTML)
    assert page.status_code == 200 and "<strong>best match</strong>" in page.text
    assert client.get("/api/search", params={"sort": "random"}).status_code == 422


def test_passwords_are_hashed_with_argon2id_defaults():
    """Production hashing: argon2id at the library's recommended cost (the tests above use a cheap one)."""
    from argon2 import Type, extract_parameters

    hasher = wf.production_hasher()
    params = extract_parameters(hasher.hash("correct horse battery"))
    assert params.type == Type.ID and params.time_cost >= 3 and params.memory_cost >= 65536


def test_money_unit_price_and_chart_labels_stay_readable():
    """Crypto prices keep their digits, per-unit prices fall back to price / quantity (flagged), and the
    price chart never repeats an axis label (a listing seen twice in one day, a price moving 0.165 -> 0.17)."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from web.app import _fmt_money, unit_price
    from web.chart import price_chart

    assert _fmt_money(Decimal("0.00130600"), "BTC") == "0.001306"
    assert _fmt_money(Decimal("9.87"), "XMR") == "9.87" and _fmt_money(Decimal("2559.5"), "USD") == "2,559.50"
    assert unit_price({"price": Decimal("210"), "quantity": 3.5, "price_per_unit": None}) == (Decimal("60"), True)
    assert unit_price({"price": Decimal("210"), "quantity": 3.5, "price_per_unit": Decimal("55")}) == (
        Decimal("55"), False)
    assert unit_price({"price": Decimal("210"), "quantity": None, "price_per_unit": None}) == (None, False)
    t = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    chart = price_chart([(t, Decimal("0.1653"), True), (t + timedelta(hours=2), Decimal("0.17"), True)], "XMR")
    for ticks in (chart.y_ticks, chart.x_ticks):
        labels = [tick["label"] for tick in ticks]
        assert len(labels) == len(set(labels)), labels
    assert [p["label"] for p in chart.points] == ["0.1653", "0.1700"]
    assert chart.x_ticks[0]["anchor"] == "start" and chart.x_ticks[-1]["anchor"] == "end"


def test_every_listing_filter_narrows_the_search(env):
    """site, category, substance, origin, destination, date range, price per gram: each one on its own."""
    client = env.client("investigator")
    w = env.world

    def ids(**params) -> set[int]:
        response = client.get("/api/search", params={"site": ["market_a", "market_c"], **params})
        assert response.status_code == 200, response.text
        return {r["id"] for r in response.json()["results"]}

    everything = ids()
    assert everything == {w.listings[k] for k in ("coke", "mdma", "xss", "onion")}
    assert ids(site="market_c") == {w.listings["onion"]}
    assert ids(category="ecstasy") == {w.listings["mdma"]}
    assert ids(substance="cocaine") == {w.listings["coke"], w.listings["onion"]}
    assert ids(substance="ketamine,mdma") == {w.listings["xss"], w.listings["mdma"]}
    assert ids(origin="DE") == {w.listings["mdma"]}
    assert ids(origin=["NL", "GB"]) == {w.listings["coke"], w.listings["onion"], w.listings["xss"]}
    assert ids(destination="WW") == {w.listings["xss"]}
    assert ids(min_ppu="50", max_ppu="55") == {w.listings["coke"], w.listings["onion"]}  # coke: 55 now
    # a listing matches a date range when it was seen at some time inside it
    assert ids(**{"from": "2026-09-15"}) == {w.listings["coke"], w.listings["mdma"], w.listings["xss"]}
    assert ids(**{"from": "2026-09-16"}) == set()
    assert ids(**{"to": "2026-09-02"}) == {w.listings["coke"], w.listings["mdma"], w.listings["xss"]}
    assert ids(**{"from": "2026-09-04", "to": "2026-09-04"}) == everything
    assert ids(**{"from": "2026-09-05", "to": "2026-09-06"}) == {w.listings["coke"], w.listings["mdma"],
                                                                  w.listings["xss"]}


def test_users_cli_creates_accounts_the_app_accepts(env, monkeypatch):
    """`narcowatch users ...` end to end on the app's database: an account added from the command line signs
    in with its role, a role change, a new password, disabling and token revocation take effect at once,
    and each change is in the audit log."""
    from click.testing import CliRunner
    from sqlalchemy import select

    from narcowatch.cli import cli
    from storage.models import AuditLog

    monkeypatch.setenv("NARCOWATCH_DATABASE_URL", str(env.engine.url))
    run = CliRunner().invoke
    pw, pw2 = "cli made password 1", "cli made password 2"
    added = run(cli, ["users", "add", "carla", "--role", "drug_desk", "--password-stdin"], input=pw + "\n")
    assert added.exit_code == 0 and "carla added with role drug_desk" in added.output, added.output
    short = run(cli, ["users", "add", "shorty", "--role", "admin", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "12" in short.output
    twice = run(cli, ["users", "add", "carla", "--role", "admin", "--password-stdin"], input=pw + "\n")
    assert twice.exit_code != 0 and "carla" in twice.output
    assert "carla\tdrug_desk\tactive" in run(cli, ["users", "list"]).output

    client = TestClient(env.app, follow_redirects=False)
    assert login(client, "carla", pw, check=False).status_code == 303
    assert client.get("/reports", headers=HTML).status_code == 200
    assert client.get("/search?q=cocaine", headers=HTML).status_code == 403
    assert run(cli, ["users", "roles", "carla", "--role", "investigator"]).exit_code == 0
    assert client.get("/search?q=cocaine", headers=HTML).status_code == 200
    assert client.get("/reports", headers=HTML).status_code == 403

    assert run(cli, ["users", "password", "carla", "--password-stdin"], input=pw2 + "\n").exit_code == 0
    assert client.get("/search?q=cocaine", headers=HTML).status_code == 303  # the session ended
    assert login(TestClient(env.app, follow_redirects=False), "carla", pw, check=False).status_code != 303
    assert login(client, "carla", pw2, check=False).status_code == 303

    made = run(cli, ["users", "token", "create", "carla", "--name", "notebook sync"])
    assert made.exit_code == 0
    secret = made.stdout.strip().splitlines()[-1]  # the token alone on stdout; the note goes to stderr
    bearer = {"authorization": f"Bearer {secret}"}
    assert TestClient(env.app).get("/api/search?q=cocaine", headers=bearer).status_code == 200
    assert run(cli, ["users", "disable", "carla"]).exit_code == 0
    assert TestClient(env.app).get("/api/search?q=cocaine", headers=bearer).status_code == 401
    assert client.get("/search?q=cocaine", headers=HTML).status_code == 303
    assert run(cli, ["users", "enable", "carla"]).exit_code == 0
    assert TestClient(env.app).get("/api/search?q=cocaine", headers=bearer).status_code == 200
    token_id = next(line.split()[1] for line in run(cli, ["users", "list"]).output.splitlines()
                    if "notebook sync" in line)
    assert run(cli, ["users", "token", "revoke", token_id]).exit_code == 0
    assert TestClient(env.app).get("/api/search?q=cocaine", headers=bearer).status_code == 401
    with Session(env.engine) as session:
        actions = session.execute(select(AuditLog.action, AuditLog.target).where(
            AuditLog.action.startswith("user_") | AuditLog.action.startswith("token_"))).all()
    mine = [a for a, target in actions if target == "user:carla" or target == f"token:{token_id}"]
    assert mine == ["user_add", "user_roles", "user_password", "token_create", "user_disable", "user_enable",
                    "token_revoke"], mine
