"""The collapsed log's statements can use the partial indexes made for it (migration 0010).

The predicate must imply the indexes' own (EVENT), and stay one clause when ANDed with the
filters. Sequential scans are switched off so that the planner shows which indexes it can
use at all on a small table (bitmap scans too, so that the plan names one index and what
it filters); the plans at scale are in the commit that added this."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from catalog.changes import queries
from catalog.extensions import db
from catalog.web.pagination import encode_cursor
from tests.factories.audit import record, record_batch, video_change


def plan(statement) -> str:
    compiled = statement.compile(dialect=db.engine.dialect)
    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
    lines = connection.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
    return "\n".join(line[0] for line in lines)


@pytest.fixture
def db_owner() -> bool:
    # The statistics the plans are read against: only the table's owner may ANALYZE it (as
    # the app's role, ANALYZE skips the table with a warning and the plan depends on chance).
    return True


@pytest.fixture
def log(app, db_session, videos, people):
    start = datetime(2026, 2, 1, tzinfo=UTC)
    for n in range(40):
        at = start + timedelta(hours=n)
        source = "cli" if n % 8 == 0 else "web"
        single = video_change(
            videos[n % 5], {"label": ["a", "b"]}, actor=people.editor, at=at, source=source
        )
        record(app, single)
        rows = [
            video_change(v, {"label": ["b", "c"]}, actor=people.other, source="bulk", at=at)
            for v in videos
        ]
        record_batch(app, rows)
    db_session.execute(text("ANALYZE metadata_syncs"))
    return start


@pytest.mark.parametrize(
    ("args", "index"),
    [
        ({}, "ix_metadata_syncs_event_time"),
        ({"after": "cursor"}, "ix_metadata_syncs_event_time"),
        ({"from": "2026-02-01", "to": "2026-02-02"}, "ix_metadata_syncs_event_time"),
        ({"user": "editor", "from": "2026-02-01"}, "ix_metadata_syncs_event_user_time"),
        ({"source": "cli"}, "ix_metadata_syncs_event_source_time"),
    ],
)
def test_the_collapsed_log_reads_the_event_indexes(app, log, people, args, index):
    args = dict(args)
    if args.get("user"):
        args["user"] = str(getattr(people, args["user"]).id)
    if args.get("after"):
        args["after"] = encode_cursor(log + timedelta(hours=20), 10**9)
    with app.app_context():
        filters = queries.parse_filters(args)
        assert filters.grouped
        shown = plan(queries.page_query(filters).statement)
    assert f"Index Scan Backward using {index} on metadata_syncs" in shown, shown
    # The index holds exactly the rows of the collapsed log: nothing is read to be dropped.
    assert "batch_id IS NULL" not in shown, shown


def test_a_batch_is_read_at_its_instant(app, log):
    with app.app_context():
        batch = db.session.scalar(
            text("SELECT batch_id FROM metadata_syncs WHERE batch_size IS NOT NULL LIMIT 1")
        )
        filters = queries.parse_filters({"batch": str(batch)})
        shown = plan(queries.page_query(filters).statement)
    assert "sync_time >= " in shown, shown
    assert "sync_time <= " in shown, shown


def test_a_cursor_beyond_the_filters_bounds_is_left_out(app, log):
    """Its rows are the same; PostgreSQL would start the scan at the cursor and walk to the
    bound. A cursor inside the bounds is kept."""
    row_compare = "(metadata_syncs.sync_time, metadata_syncs.id) <"
    beyond = encode_cursor(log + timedelta(days=90), 1)
    inside = encode_cursor(log + timedelta(hours=30), 10**9)
    with app.app_context():
        batch = db.session.scalar(
            text("SELECT batch_id FROM metadata_syncs WHERE batch_size IS NOT NULL LIMIT 1")
        )
        for args in ({"to": "2026-02-01"}, {"batch": str(batch)}):
            plain = queries.audit_page(queries.parse_filters(args))
            paged = queries.parse_filters({**args, "after": beyond})
            assert row_compare not in str(queries.page_query(paged).statement)
            assert [r.id for r in queries.audit_page(paged).rows] == [r.id for r in plain.rows]
            assert plain.rows
        kept = queries.parse_filters({"to": "2026-02-03", "after": inside})
        assert row_compare in str(queries.page_query(kept).statement)
        # A cursor without a time zone (not one of ours) is read as UTC.
        naive = encode_cursor((log + timedelta(hours=30)).replace(tzinfo=None), 10**9)
        naive_page = queries.audit_page(queries.parse_filters({"to": "2026-02-03", "after": naive}))
        assert [r.id for r in naive_page.rows] == [r.id for r in queries.audit_page(kept).rows]
