"""Accounts from the command line (`flask catalog create-user`, the demo sign-ins)."""

import secrets

import click

from catalog.models import User


def generate_password() -> str:
    """A strong random password (16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


def create_account(email: str, role: str, password: str, *, username: str | None = None) -> User:
    """Create an active user holding `role` through the audited accounts service (source
    `cli`); ClickException when a rule refuses it. Does not commit."""
    from catalog.accounts import service as accounts

    if "@" not in email:
        raise click.ClickException(f"{email!r} is not an email address (it has no @).")
    try:
        return accounts.create_user(
            email, username=username, roles=[role], password=password, actor=None, source="cli"
        )
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
