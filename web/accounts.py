"""User accounts and API tokens: what `narcowatch users` and the tests call (the web app only reads them)."""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage import audit
from storage.models import ApiToken, User, UserRole
from web.access import ROLES
from web.security import hash_password, new_api_token

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,99}$")
MIN_PASSWORD = 12


class AccountError(ValueError):
    """A user-facing problem with an account request; the message says what to do."""


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password has {len(password)} characters; use at least {MIN_PASSWORD}")


def add_user(session: Session, username: str, password: str, roles: list[str], actor: str = "cli") -> User:
    if not USERNAME.match(username):
        raise AccountError(f"username {username!r}: use 2-100 letters, digits, '.', '_', '-' or '@'")
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise AccountError(f"role {', '.join(unknown) or '(none)'}: choose from {', '.join(ROLES)}")
    check_password(password)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists; `narcowatch users list` shows everyone")
    audit.append(session, actor, "user_add", f"user:{username}", {"roles": sorted(set(roles))}, "local")
    user = User(username=username, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    for role in sorted(set(roles)):
        session.add(UserRole(user_id=user.id, role=role))
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}; `narcowatch users list` shows everyone")
    return user


def set_roles(session: Session, username: str, roles: list[str], actor: str = "cli") -> None:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise AccountError(f"role {', '.join(unknown) or '(none)'}: choose from {', '.join(ROLES)}")
    audit.append(session, actor, "user_roles", f"user:{username}", {"roles": sorted(set(roles))}, "local")
    user = get_user(session, username)
    session.execute(delete(UserRole).where(UserRole.user_id == user.id))
    for role in sorted(set(roles)):
        session.add(UserRole(user_id=user.id, role=role))


def set_password(session: Session, username: str, password: str, actor: str = "cli") -> None:
    check_password(password)
    audit.append(session, actor, "user_password", f"user:{username}", None, "local")
    get_user(session, username).password_hash = hash_password(password)  # ends the user's sessions


def set_active(session: Session, username: str, active: bool, actor: str = "cli") -> None:
    audit.append(session, actor, "user_enable" if active else "user_disable", f"user:{username}", None, "local")
    get_user(session, username).active = active


def create_token(session: Session, username: str, name: str, actor: str = "cli") -> tuple[ApiToken, str]:
    """(row, the token itself): the token is shown once; only its SHA-256 is stored."""
    audit.append(session, actor, "token_create", f"user:{username}", {"name": name}, "local")
    user = get_user(session, username)
    token, digest = new_api_token()
    row = ApiToken(user_id=user.id, name=name, token_sha256=digest)
    session.add(row)
    session.flush()
    return row, token


def revoke_token(session: Session, token_id: int, actor: str = "cli") -> ApiToken:
    audit.append(session, actor, "token_revoke", f"token:{token_id}", None, "local")
    row = session.get(ApiToken, token_id)
    if row is None:
        raise AccountError(f"no API token {token_id}; `narcowatch users list` shows token ids")
    row.revoked = True
    return row
