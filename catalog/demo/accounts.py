"""The demo sign-ins of `flask catalog demo`: one account per role, their generated passwords
kept in a file under instance/ so that later runs can show them again; and the demo pipeline
worker, whose token is kept in the same file for the same reason (Catalog itself keeps only
its hash), so `make run` prints it every time and `flask catalog tasks demo-worker` finds it."""

import os
from pathlib import Path

import click

from catalog.accounts.commands import create_account, generate_password
from catalog.extensions import security

DEMO_URL = "http://127.0.0.1:5000"  # where `make run` serves the app
DEMO_ADMIN = "admin@example.com"
DEMO_ACCOUNTS = (
    (DEMO_ADMIN, "admin"),
    ("editor@example.com", "editor"),
    ("auditor@example.com", "auditor"),
    ("viewer@example.com", "viewer"),
)
LOGIN_FILE = "admin-login.txt"
DEMO_WORKER = "demo-worker"
# The token's line in the login file: "worker:demo-worker <token>".
WORKER_KEY = f"worker:{DEMO_WORKER}"


def ensure_demo_accounts(login_file: Path) -> dict[str, str | None]:
    """Create the demo accounts that are missing; return each one's password if known.

    Generated passwords are kept in `login_file` so later runs can show them again.
    A demo account that exists but is not in the file was made by someone else: its
    password is unknown and left alone.
    """
    known = _read_logins(login_file)
    logins: dict[str, str | None] = {}
    created = False
    for email, role in DEMO_ACCOUNTS:
        if security.datastore.find_user(case_insensitive=True, email=email):
            logins[email] = known.get(email)
            continue
        logins[email] = known[email] = generate_password()
        create_account(email, role, logins[email])
        created = True
    if created:
        # Written before the commit: should the commit fail, the next run sees the accounts
        # missing and makes new ones, so the file never lacks a password that works.
        _write_logins(login_file, known)
    return logins


def ensure_demo_worker(login_file: Path) -> str | None:
    """Create the demo pipeline worker (every stage) if it is missing; return its token if
    known. One that exists but whose token is not on file (or that was revoked) was not made
    here, or no longer works: None, and the banner says how to get a token."""
    from sqlalchemy import select

    from catalog.extensions import db
    from catalog.models import PipelineWorker
    from catalog.models.task import STAGES
    from catalog.production import workers

    known = _read_logins(login_file)
    worker = db.session.scalars(
        select(PipelineWorker).where(PipelineWorker.name == DEMO_WORKER)
    ).first()
    if worker is not None:
        return known.get(WORKER_KEY) if worker.revoked_at is None else None
    _worker, token = workers.create_worker(DEMO_WORKER, list(STAGES), actor=None, source="cli")
    known[WORKER_KEY] = token
    _write_logins(login_file, known)  # before the commit, as the passwords are
    return token


def read_worker_token(login_file: Path) -> str | None:
    """The demo worker's token as `make run` wrote it, if it did."""
    return _read_logins(login_file).get(WORKER_KEY)


def _read_logins(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    logins = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            logins[parts[0]] = parts[1]
    return logins


def _write_logins(path: Path, logins: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Demo sign-ins made by `flask catalog demo`: email password (and worker:name token)"]
    lines += [f"{email} {password}" for email, password in logins.items()]
    # Created owner-only, and chmod in case an older file had looser permissions.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    path.chmod(0o600)


def print_banner(
    logins: dict[str, str | None], data_line: str, login_file: Path,
    worker_token: str | None = None,
) -> None:  # fmt: skip
    def shown(email: str) -> str:
        password = logins.get(email)
        return f"{email} / {password}" if password else f"{email} (password not on file)"

    rule = "=" * 78
    click.echo(rule)
    click.echo(f"Catalog is starting on {DEMO_URL} — sign in as {shown(DEMO_ADMIN)}")
    others = [shown(email) for email, _role in DEMO_ACCOUNTS if email != DEMO_ADMIN]
    click.echo("Other demo sign-ins: " + ", ".join(others))
    click.echo(data_line)
    if worker_token:
        click.echo(f"Demo pipeline worker token ({DEMO_WORKER}, every stage): {worker_token}")
        click.echo("  Run it in another terminal: flask catalog tasks demo-worker")
    else:
        click.echo(
            f"Demo pipeline worker: token not on file; create one on {DEMO_URL}/accounts/workers"
        )
    click.echo(f"The demo passwords and token are kept in {login_file}")
    click.echo(rule)
