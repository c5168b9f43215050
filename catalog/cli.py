"""`flask catalog ...`: operator commands."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from catalog.accounts.commands import create_account, generate_password
from catalog.demo import accounts as demo_accounts
from catalog.extensions import db
from catalog.models import Channel, Video
from catalog.permissions import ROLE_PERMISSIONS
from catalog.web.text import plural

catalog_cli = AppGroup("catalog", help="Catalog operator commands.")


def init_app(app: Flask) -> None:
    from catalog.production import tasks_cli  # `flask catalog tasks ...`

    if tasks_cli.name not in catalog_cli.commands:
        catalog_cli.add_command(tasks_cli)
    app.cli.add_command(catalog_cli)


# -- create-user -------------------------------------------------------------------------


@catalog_cli.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(sorted(ROLE_PERMISSIONS)))
@click.option("--password", help="The password; a strong one is generated and shown if omitted.")
@click.option("--username", help="An optional unique user name.")
def create_user_command(email: str, role: str, password: str | None, username: str | None):
    """Create a user with one role."""
    generated = password is None
    if generated:
        password = generate_password()
    user = create_account(email, role, password, username=username)
    db.session.commit()
    click.echo(f"Created {role} {user.email}.")
    if generated:
        # Shown once and stored nowhere: the operator has to pass it on now.
        click.echo(f"Generated password: {password}")


# -- demo ----------------------------------------------------------------------------------


@catalog_cli.command("demo")
def demo_command():
    """Load demo data into an empty catalog, make the demo sign-ins, print how to sign in."""
    if not inspect(db.engine).has_table(Video.__tablename__):
        raise click.ClickException("The database has no tables yet: run `flask db upgrade` first.")
    data_line = _ensure_demo_data()
    from catalog.demo.production import load_demo_tasks  # only this command needs it

    if tasks := load_demo_tasks():
        data_line += f", {plural(tasks, 'production task')}"
    login_file = Path(current_app.instance_path) / demo_accounts.LOGIN_FILE
    logins = demo_accounts.ensure_demo_accounts(login_file)
    worker_token = demo_accounts.ensure_demo_worker(login_file)
    data_line += _ensure_demo_library()
    db.session.commit()
    # Fresh tables have no statistics yet; the list's estimated totals come from them. Only
    # a table's owner may analyze it.
    with owner_session() as session:
        session.execute(text("ANALYZE"))
        session.commit()
    demo_accounts.print_banner(logins, data_line, login_file, worker_token)


def _ensure_demo_data() -> str:
    """Load the demo data when there are no videos; return the line that says what happened."""
    from catalog.demo.data import load_demo_data  # only this command needs the generator

    videos = db.session.scalar(select(func.count()).select_from(Video))
    if videos:
        return f"Reusing existing data: {plural(videos, 'video')}"
    click.echo("Loading demo data ...")
    counts = load_demo_data(actor=None)  # no person did this: the audit rows say source `cli`
    channels = db.session.scalar(select(func.count()).select_from(Channel))
    return f"Demo data: {plural(channels, 'channel')}, {plural(counts['videos'], 'video')}"


def _ensure_demo_library() -> str:
    """Files for the demo library when no video has one yet (after the accounts: they get
    some progress); what to add to the data line."""
    from catalog.demo import library  # only this command needs it

    try:
        videos = library.load_demo_library()
    except library.Unavailable as exc:  # the demo goes on without a library
        click.echo(str(exc))
        return ""
    return f", {plural(videos, 'video')} to watch on /library" if videos else ""


# -- worker --------------------------------------------------------------------------------


@catalog_cli.command("worker")
@click.option(
    "--concurrency", type=click.IntRange(min=1), help="Jobs at once (JOB_WORKER_CONCURRENCY)."
)
@click.option("--burst", is_flag=True, help="Stop once the queue is empty instead of waiting.")
def worker_command(concurrency: int | None, burst: bool):
    """Run a background worker: it claims and runs queued jobs until stopped (Ctrl+C)."""
    from catalog.jobs.worker import configure_logging, run_worker

    configure_logging()
    run_worker(current_app._get_current_object(), concurrency=concurrency, wait=not burst)


# -- import-report -------------------------------------------------------------------------


@catalog_cli.command("import-report")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what importing would do; change nothing.")
def import_report_command(file: Path, dry_run: bool):
    """Import a report FILE (.csv or .csv.gz): a YouTube Content Manager video report or a
    Catalog Tool CSV. Prints the counts and the invalid rows; exits non-zero on a bad file."""
    from catalog.reports.commands import import_report

    import_report(file, dry_run=dry_run)


# -- audit verify / archive -----------------------------------------------------------------


@catalog_cli.group("audit")
def audit_cli():
    """The audit trail: prove it whole, archive old months."""


@audit_cli.command("verify")
def audit_verify_command():
    """Walk the audit hash chain (live and archived rows) and report the first broken link,
    then check it against every signed checkpoint. Exits 1 when the chain does not hold."""
    from catalog.changes.checkpoints import CheckpointError, directory
    from catalog.changes.integrity import verify

    try:
        verdict = verify()
    except CheckpointError as exc:
        raise click.ClickException(str(exc)) from exc
    if not verdict.ok:
        click.echo(f"BROKEN at chain position {verdict.broken_at}: {verdict.reason}.", err=True)
        if verdict.against_checkpoint:
            click.echo(
                f"The chain's own hashes hold ({verdict.checked:,} rows): they were "
                "recomputed after the rows were changed.",
                err=True,
            )
        else:
            click.echo(f"{verdict.checked:,} rows checked before it.", err=True)
        raise SystemExit(1)
    click.echo(
        f"OK: {verdict.checked:,} audit rows, chain intact up to position {verdict.last_seq}."
    )
    if verdict.checkpoints:
        verb = "matches" if verdict.checkpoints == 1 else "match"
        click.echo(f"{plural(verdict.checkpoints, 'signed checkpoint')} {verb} the chain.")
    else:
        click.echo(
            f"No signed checkpoints in {directory(current_app)}: a rewrite that recomputes "
            "every hash would not be noticed (`flask catalog audit checkpoint`)."
        )


@audit_cli.command("checkpoint")
def audit_checkpoint_command():
    """Sign the audit chain's head (position and hash) with AUDIT_CHECKPOINT_KEY and write it
    to AUDIT_CHECKPOINT_DIR, after verifying the chain since the newest checkpoint. Workers
    also write one every hour (AUDIT_CHECKPOINT_CRON)."""
    from catalog.changes.checkpoints import CheckpointError, directory
    from catalog.changes.integrity import checkpoint

    try:
        written = checkpoint()
    except CheckpointError as exc:
        raise click.ClickException(str(exc)) from exc
    if written is None:
        click.echo("The audit trail is empty: nothing to vouch for yet.")
        return
    click.echo(
        f"Checkpoint at chain position {written.seq} ({written.row_hash.hex()[:16]}…): "
        f"{directory(current_app) / written.name}"
    )


@audit_cli.command("archive")
@click.option("--before", "month", required=True, help="First month to keep live (YYYY-MM).")
def audit_archive_command(month: str):
    """Move the audit rows of the months before MONTH to the archive table. They stay
    searchable on /audit (Archived) and part of the chain; nothing is deleted. Runs as the
    schema's owner (DATABASE_OWNER_URL): the application's role may not move audit rows."""
    from catalog.changes.integrity import ArchiveRefused, archive_before, month_start

    with owner_session() as session:
        try:
            moved = archive_before(month_start(month), session)
        except ArchiveRefused as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from exc
        session.commit()
    click.echo(f"Moved {moved:,} audit rows from before {month} to the archive.")


@contextmanager
def owner_session() -> Iterator[Session]:
    """A session of the schema's owner (DATABASE_OWNER_URL; DATABASE_URL's role when there
    is none), for the operator commands that the application's role may not run."""
    url = (
        current_app.config.get("DATABASE_OWNER_URL")
        or current_app.config["SQLALCHEMY_DATABASE_URI"]
    )
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()
