"""The whole import, its steps in order (see the package's docstring): `preview` and
`apply`, both in the caller's transaction."""

import uuid

from catalog.extensions import db
from catalog.models import User
from catalog.reports.cells import HELPER_FUNCTIONS
from catalog.reports.formats import ReportFileError
from catalog.reports.importer.checking import counts, typed_rows
from catalog.reports.importer.lookups import (
    categories,
    category_lookup,
    channels,
    with_custom_fields,
)
from catalog.reports.importer.merge import diff, merge, summarize
from catalog.reports.importer.outcome import Clock, ConcurrentChange, Outcome
from catalog.reports.importer.sql import run_sql
from catalog.reports.importer.staging import Opener, Progress, stage
from catalog.reports.importer.unchanged import REST, set_aside
from catalog.reports.importer.writing import (
    clean_gin_pending_lists,
    collect_audit,
    record_audit,
    write_videos,
)

ATTEMPTS = 3  # a concurrent edit of a video being imported: the import starts over


def _prepare() -> None:
    # The import's own settings, for this transaction only: dates without a zone are UTC,
    # and sorts and hashes of a large report stay in memory.
    run_sql("SET LOCAL timezone = 'UTC'")
    run_sql("SET LOCAL work_mem = '256MB'")
    # GIN indexes collect what the import adds and merge it once, at the end (see
    # clean_gin_pending_lists).
    run_sql("SET LOCAL gin_pending_list_limit = '256MB'")
    for statement in HELPER_FUNCTIONS:
        run_sql(statement)


def _run(
    opener: Opener,
    *,
    apply: bool,
    actor: User | None,
    report_id: int | None,
    max_bytes: int,
    expected_sha256: str | None,
    size: int,
    progress: Progress | None,
) -> Outcome:
    clock = Clock()
    _prepare()
    layout, rejected, sha256, stored_size = stage(
        opener, max_bytes=max_bytes, progress=progress, size=size
    )
    timings = {"stage": clock.lap()}
    if expected_sha256 and sha256 != expected_sha256:
        raise ReportFileError(
            "The stored file is not the one that was checked (its SHA-256 differs). "
            "Upload it again."
        )
    outcome = Outcome(
        format=layout.format.key, format_label=layout.format.label, sha256=sha256,
        size=stored_size, ignored_columns=list(layout.ignored), timings=timings,
    )  # fmt: skip
    batch_id = uuid.uuid4()
    params = {
        "user_id": actor.id if actor else None,
        "user_email": actor.email if actor else None,
        "batch_id": str(batch_id),
        "report_id": report_id,
    }
    layout = with_custom_fields(layout)
    outcome.ignored_columns = list(layout.ignored)
    category_lookup(layout)
    same = set_aside(layout)
    timings["same"] = clock.lap()
    typed_rows(layout, REST if same else "import_raw")
    counts(outcome, rejected, layout)
    outcome.rows += same
    timings["read"] = clock.lap()
    categories(outcome, layout)
    collect_audit()
    channels(outcome, layout, params)
    timings["channels"] = clock.lap()
    merged = merge(outcome, layout)
    outcome.videos += same
    timings["merge"] = clock.lap()
    columns = diff(layout, merged)
    summarize(outcome)
    timings["diff"] = clock.lap()
    if apply:
        write_videos(outcome, layout, columns, params)
        timings["apply"] = clock.lap()
        record_audit(params)
        clean_gin_pending_lists(("metadata_syncs",))
        outcome.batch_id = str(batch_id)
        timings["audit"] = clock.lap()
    return outcome


def preview(
    opener: Opener,
    *,
    max_bytes: int,
    expected_sha256: str | None = None,
    size: int = 0,
    progress: Progress | None = None,
) -> Outcome:
    """What importing the file would do, computed exactly as the import computes it, in a
    savepoint that is rolled back: nothing changes. ReportFileError for a bad file."""
    savepoint = db.session.begin_nested()
    try:
        return _run(
            opener, apply=False, actor=None, report_id=None, max_bytes=max_bytes,
            expected_sha256=expected_sha256, size=size, progress=progress,
        )  # fmt: skip
    finally:
        savepoint.rollback()


def apply(
    opener: Opener,
    *,
    actor: User | None,
    report_id: int | None,
    max_bytes: int,
    expected_sha256: str | None = None,
    size: int = 0,
    progress: Progress | None = None,
) -> Outcome:
    """Import the file in the caller's transaction. A video changed by someone else while
    this ran makes it start over (in a savepoint), at most ATTEMPTS times."""
    for attempt in range(1, ATTEMPTS + 1):
        savepoint = db.session.begin_nested()
        try:
            outcome = _run(
                opener, apply=True, actor=actor, report_id=report_id, max_bytes=max_bytes,
                expected_sha256=expected_sha256, size=size, progress=progress,
            )  # fmt: skip
        except ConcurrentChange:
            savepoint.rollback()
            if attempt == ATTEMPTS:
                raise
            continue
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()
        # The ORM may hold videos and channels this wrote behind its back.
        db.session.expire_all()
        return outcome
    raise AssertionError("unreachable")
