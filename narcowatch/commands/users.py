"""`narcowatch users`: accounts, roles and API tokens for the web app."""

from __future__ import annotations

import getpass
import sys

import click
from sqlalchemy import select

from narcowatch.context import database
from storage.db import session_scope
from storage.models import ApiToken, User, UserRole
from web.access import ROLES
from web.accounts import (
    AccountError,
    add_user,
    create_token,
    revoke_token,
    set_active,
    set_password,
    set_roles,
)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (containers): still say it came from the command line
        return "cli"


def _password(from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)


def _run(fn, *args, **kwargs):
    try:
        with session_scope(database()) as session:
            return fn(session, *args, **kwargs)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("users")
def users() -> None:
    """Manage web app accounts: roles admin, cyber_unit, investigator, drug_desk; API tokens."""


@users.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="Role to grant (repeat for several): admin, cyber_unit (sites, schedules), investigator "
                   "(search, feedback), drug_desk (reports).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin "
                                                     "instead of prompting (for scripts).")
def users_add(username: str, roles: tuple[str, ...], password_stdin: bool) -> None:
    """Create an account; the password (12+ characters) is hashed with argon2."""
    password = _password(password_stdin)
    _run(add_user, username, password, list(roles), actor=_actor())
    click.echo(f"user {username} added with role{'s' if len(roles) > 1 else ''} {', '.join(sorted(set(roles)))}")


@users.command("list")
def users_list() -> None:
    """List accounts with their roles, state and API tokens (never the tokens themselves)."""
    with session_scope(database()) as session:
        accounts = list(session.scalars(select(User).order_by(User.username)))
        for user in accounts:
            roles = sorted(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
            tokens = list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))
            state = "active" if user.active else "disabled"
            click.echo(f"{user.username}\t{','.join(roles) or '-'}\t{state}\tcreated {user.created_at:%Y-%m-%d}")
            for t in tokens:
                used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
                click.echo(f"  token {t.id}\t{t.name}\t{'revoked' if t.revoked else 'valid'}\tlast used {used}")
        if not accounts:
            click.echo("no users yet: `narcowatch users add NAME --role admin`")


@users.command("roles")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="The user's roles from now on (repeat for several); replaces the current ones.")
def users_roles(username: str, roles: tuple[str, ...]) -> None:
    """Replace a user's roles."""
    _run(set_roles, username, list(roles), actor=_actor())
    click.echo(f"{username} now has {', '.join(sorted(set(roles)))}")


@users.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of stdin.")
def users_password(username: str, password_stdin: bool) -> None:
    """Set a new password; every open session of the user ends."""
    _run(set_password, username, _password(password_stdin), actor=_actor())
    click.echo(f"password of {username} changed; their sessions have ended")


@users.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """Disable an account: sign-in, sessions and its API tokens stop working at once."""
    _run(set_active, username, False, actor=_actor())
    click.echo(f"{username} disabled")


@users.command("enable")
@click.argument("username")
def users_enable(username: str) -> None:
    """Enable a disabled account again."""
    _run(set_active, username, True, actor=_actor())
    click.echo(f"{username} enabled")


@users.group("token")
def token() -> None:
    """API tokens for the JSON API (`Authorization: Bearer <token>`); only their SHA-256 is stored."""


@token.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'analyst notebook sync'.")
def token_create(username: str, name: str) -> None:
    """Create a token for USERNAME and print it once (it cannot be shown again)."""
    row, secret = _run(create_token, username, name, actor=_actor())
    click.echo(f"token {row.id} for {username} ({name}); copy it now, it is not stored:", err=True)
    click.echo(secret)


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token by its id (`narcowatch users list` shows ids); it stops working at once."""
    _run(revoke_token, token_id, actor=_actor())
    click.echo(f"token {token_id} revoked")


@users.command("audit-verify")
def users_audit_verify() -> None:
    """Recompute the audit log's hash chain; exits 1 and names each problem when it is broken."""
    from storage.audit import verify_chain

    with session_scope(database()) as session:
        problems = verify_chain(session)
    if not problems:
        click.echo("audit log intact")
        return
    for problem in problems:
        click.echo(problem, err=True)
    raise SystemExit(1)


commands = [users]
