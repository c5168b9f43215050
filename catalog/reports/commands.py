"""`flask catalog import-report FILE [--dry-run]`: the same check and import as the web's,
for operators. The import itself runs here, in this process, not through the queue."""

from pathlib import Path

import click
from flask import current_app

from catalog.extensions import db
from catalog.reports import importer, service
from catalog.reports.formats import ReportFileError
from catalog.reports.storage import StorageError, get_storage, suffix_of
from catalog.web import db_retry

ERRORS_SHOWN = 50


def import_report(path: Path, *, dry_run: bool) -> None:
    """Check (dry run) or import the file; ClickException (exit 1) for a bad file."""
    if suffix_of(path.name) is None:
        raise click.ClickException(f"{path.name}: reports are .csv or .csv.gz files.")
    if dry_run:
        _dry_run(path)
    else:
        _import(path)


def _dry_run(path: Path) -> None:
    try:
        outcome = importer.preview(
            lambda: path.open("rb"), size=path.stat().st_size,
            max_bytes=int(current_app.config["REPORTS_MAX_UNCOMPRESSED_BYTES"]),
        )  # fmt: skip
    except ReportFileError as exc:
        raise click.ClickException(f"{path.name}: {exc}") from exc
    finally:
        db.session.rollback()
    _print_outcome(outcome, would=True)
    click.echo("Dry run: nothing was changed.")


def _import(path: Path) -> None:
    try:
        with path.open("rb") as stream:
            report = service.create_report(stream, path.name, actor=None, storage=get_storage())
    except StorageError as exc:
        raise click.ClickException(f"The file could not be stored: {exc}") from exc
    db.session.commit()  # the report exists, and says what happened, whatever happens next
    try:
        # Commits; an import that lost a race (a deadlock) runs again whole.
        applied = db_retry.run_in_transaction(lambda: service.apply_report(report, actor=None))
    except ReportFileError as exc:
        db.session.rollback()
        report.status, report.error_message = "error", str(exc)
        db.session.commit()
        raise click.ClickException(f"{path.name}: {exc} Nothing was changed.") from exc
    except BaseException:
        db.session.rollback()
        raise
    if applied.duplicate_of is not None:
        click.echo(
            f"This file was imported already, as report #{applied.duplicate_of.id}; "
            f"nothing was changed (report #{report.id})."
        )
        return
    _print_outcome(applied.outcome, would=False)
    click.echo(f"Imported as report #{report.id}.")


def _print_outcome(outcome: importer.Outcome, *, would: bool) -> None:
    click.echo(f"Format: {outcome.format_label}")
    blank = f" ({outcome.blank_rows:,} blank, ignored)" if outcome.blank_rows else ""
    click.echo(f"Rows: {outcome.rows:,}{blank}; videos: {outcome.videos:,}")
    verbs = ("Would create", "would update") if would else ("Created", "updated")
    click.echo(
        f"{verbs[0]} {outcome.created:,}, {verbs[1]} {outcome.updated:,}, "
        f"unchanged {outcome.unchanged:,}; invalid rows skipped: {outcome.invalid:,}"
    )
    if outcome.channels_created or outcome.channels_renamed:
        click.echo(
            f"Channels: {outcome.channels_created:,} new, {outcome.channels_renamed:,} renamed"
        )
    if outcome.field_counts:
        counts = ", ".join(f"{name} {count:,}" for name, count in outcome.field_counts.items())
        click.echo(f"Updates by field: {counts}")
    for note in outcome.notes:
        click.echo(f"Note: {note}")
    if outcome.warnings:
        click.echo(
            f"Values that could not be read ({outcome.unreadable:,}), imported without them "
            "(row numbers count the header as row 1):"
        )
        for warning in outcome.warnings[:ERRORS_SHOWN]:
            click.echo(
                f"  row {warning['row']:,}, {warning['column']}: “{warning['value']}”: "
                f"{warning['reason']}"
            )
        if outcome.unreadable > ERRORS_SHOWN:
            click.echo(f"  … and {outcome.unreadable - ERRORS_SHOWN:,} more")
    if outcome.errors:
        click.echo("Invalid rows (row numbers count the header as row 1):")
        for error in outcome.errors[:ERRORS_SHOWN]:
            column = f", {error['column']}" if error["column"] else ""
            click.echo(f"  row {error['row']:,}{column}: {error['reason']}")
        if outcome.invalid > ERRORS_SHOWN:
            click.echo(f"  … and {outcome.invalid - ERRORS_SHOWN:,} more")
