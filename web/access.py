"""Who may use which route: one table, read by the route guard and walked by the tests.

Every route is named; its JSON twin is named "api.<name>" and shares the entry. A route missing from
the table cannot be registered (web.app refuses to start), so nothing is reachable by accident.
"""

from __future__ import annotations

ROLES = ("admin", "cyber_unit", "investigator", "drug_desk")
ANY = frozenset(ROLES)  # any signed-in user
ADMIN = frozenset({"admin"})
INVESTIGATE = frozenset({"admin", "investigator"})
CYBER = frozenset({"admin", "cyber_unit"})
REPORTS = frozenset({"admin", "drug_desk"})

# Routes anyone may reach, signed in or not: the login form and the CSS.
PUBLIC = frozenset({"login_form", "login", "static"})

ROUTE_ROLES: dict[str, frozenset[str]] = {
    "home": ANY,
    "logout": ANY,
    "openapi": ANY,
    "search": INVESTIGATE,
    "search_csv": INVESTIGATE,
    "listing": INVESTIGATE,
    "listing_bundle": INVESTIGATE,
    "page_body": INVESTIGATE,
    "page_text": INVESTIGATE,
    "page_screenshot": INVESTIGATE,
    "thread": INVESTIGATE,
    "vendor": INVESTIGATE,
    "clusters": INVESTIGATE,
    "cluster": INVESTIGATE,
    "cluster_graphml": INVESTIGATE,
    "cluster_i2": INVESTIGATE,
    "link_decision": INVESTIGATE,
    "sites": CYBER,
    "site": CYBER,
    "reports": REPORTS,
    "report_file": REPORTS,
    "audit": ADMIN,
    "audit_verify": ADMIN,
    "users": ADMIN,
}


def permission_of(route_name: str) -> str:
    return route_name.removeprefix("api.")


def allowed(route_name: str, roles: set[str] | frozenset[str]) -> bool:
    return bool(ROUTE_ROLES[permission_of(route_name)] & set(roles))
