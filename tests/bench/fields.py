"""Custom fields for the benchmark (issue 5): a rating and a select field, values on most videos.

The definitions are one schema attached to no channel (so it applies to every video) with
both fields shown on the card, i.e. as columns of the video list. The values are a function
of the video's id through the same hash as the rest of the data (``pg_temp.u``), so every
build gives the same rows; they are inserted set-based, ordered by video, the way a
video's save writes its values together.

The step is idempotent and self-contained: one transaction empties the custom-field tables
(only the benchmark writes them), drops the value table's secondary indexes and foreign
keys, inserts, and executes their catalog definitions again (checked against what was
there). It runs at the end of a full build, and on its own to extend a database built by
an earlier generator whose videos and audit rows are unchanged (no five-minute rebuild).

The values carry no audit rows: they stand for values loaded before the audit log began
(the videos' `version` and audit rows stay as the core generator made them).
"""

import time

from tests.bench.database import log
from tests.bench.generate import FUNCTIONS, _deferred_objects, _quote, u, weighted

# Bumped when what this step produces changes: the step is then run again on reuse.
FIELDS_VERSION = 1
VACUUM_RETRIES = 5

RATING = "Rating"
SELECT = "Presentation"
SCHEMA = "Editorial review"
MAX_RATING = 5
OPTIONS = ("bad", "good", "great")
# ~85% of videos rated, most of them 3 or 4 (what reviewers give most), few 1s; ~80% with a
# presentation value, "good" the most common. Independent of the video's id and channel.
RATED_SHARE = 0.85
RATING_SHARES = {1: 0.06, 2: 0.12, 3: 0.36, 4: 0.30, 5: 0.16}
SELECT_SHARE = 0.80
OPTION_SHARES = {"bad": 0.20, "good": 0.55, "great": 0.25}
TABLES = (
    "video_field_values", "schema_fields", "schema_channels", "field_schemas", "custom_fields",
)  # fmt: skip

DEFINITIONS_SQL = """
INSERT INTO custom_fields (id, name, field_type, description, required, config)
VALUES (1, %(rating)s, 'rating', 'Editorial quality, 1 to 5 stars.', false,
        jsonb_build_object('max_rating', %(max_rating)s::int)),
       (2, %(select)s, 'select', 'How the video is presented.', false,
        jsonb_build_object('options', %(options)s::text[]));
INSERT INTO field_schemas (id, name, description)
VALUES (1, %(schema)s, 'Applies to every video (attached to no channel).');
INSERT INTO schema_fields (schema_id, field_id, display_order, show_on_card)
VALUES (1, 1, 0, true), (1, 2, 1, true);
SELECT setval(pg_get_serial_sequence('custom_fields', 'id'), 3, false);
SELECT setval(pg_get_serial_sequence('field_schemas', 'id'), 2, false);
"""


def _values_sql() -> str:
    rating = weighted(u("v.id", 202), [(str(k), share) for k, share in RATING_SHARES.items()])
    option = weighted(u("v.id", 204), [(f"'{k}'", share) for k, share in OPTION_SHARES.items()])
    return f"""
INSERT INTO video_field_values (id, video_id, field_id, value_text, value_numeric,
                                value_boolean, created_at, updated_at)
SELECT row_number() OVER (ORDER BY video_id, field_id), video_id, field_id, value_text,
       value_numeric, NULL, at, at
FROM (
    SELECT v.id AS video_id, f.field_id, f.value_text, f.value_numeric, v.updated_at AS at
    FROM videos v
    CROSS JOIN LATERAL (
        VALUES (1, NULL::text,
                CASE WHEN {u("v.id", 201)} < {RATED_SHARE} THEN ({rating})::numeric END),
               (2, CASE WHEN {u("v.id", 203)} < {SELECT_SHARE} THEN {option} END, NULL::numeric)
    ) f(field_id, value_text, value_numeric)
    WHERE f.value_text IS NOT NULL OR f.value_numeric IS NOT NULL
) s
ORDER BY video_id, field_id
"""


def load(conn) -> dict[str, float]:
    """(Re)create the definitions and the values in one transaction; returns step timings."""
    timings: dict[str, float] = {}
    with conn.transaction():
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        # The cluster commits asynchronously, and VACUUM marks a page all-visible (which
        # the index-only scans of the filters and sorts need) only once the commit record
        # of its rows is flushed: this commit waits for its own (see vacuum_analyze).
        conn.execute("SET LOCAL synchronous_commit = on")
        for statement in FUNCTIONS:
            conn.execute(statement)
        conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
        definitions = {
            "rating": RATING,
            "select": SELECT,
            "schema": SCHEMA,
            "max_rating": MAX_RATING,
            "options": list(OPTIONS),
        }
        for statement in DEFINITIONS_SQL.split(";"):
            if statement.strip():
                conn.execute(statement, {k: v for k, v in definitions.items() if k in statement})
        indexes, foreign_keys = _deferred_objects(conn, "video_field_values")
        for name in foreign_keys:
            conn.execute(f"ALTER TABLE video_field_values DROP CONSTRAINT {_quote(name)}")
        for name in indexes:
            conn.execute(f"DROP INDEX {_quote(name)}")
        t0 = time.perf_counter()
        cursor = conn.execute(_values_sql())
        timings["values"] = time.perf_counter() - t0
        log(f"  video_field_values: {cursor.rowcount:,} rows", t0)
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('video_field_values', 'id'), "
            "(SELECT coalesce(max(id), 0) + 1 FROM video_field_values), false)"
        )
        t0 = time.perf_counter()
        for definition in indexes.values():
            conn.execute(definition)
        for name, definition in foreign_keys.items():
            conn.execute(
                f"ALTER TABLE video_field_values ADD CONSTRAINT {_quote(name)} {definition}"
            )
        if _deferred_objects(conn, "video_field_values") != (indexes, foreign_keys):
            raise RuntimeError("Recreated video_field_values indexes differ from the migrated ones")
        timings["value_indexes"] = time.perf_counter() - t0
        log(f"  {len(indexes)} indexes and {len(foreign_keys)} foreign keys recreated", t0)
    return timings


def vacuum_analyze(connect) -> float:
    """The index-only look-ups of the filters need the visibility map: VACUUM, not only
    ANALYZE. Returns the share of the value table's pages marked all-visible."""
    with connect() as conn:
        for table in TABLES:
            conn.execute(f"VACUUM ANALYZE {table}")
        for _ in range(VACUUM_RETRIES):
            pages, visible = conn.execute(
                "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'video_field_values'"
            ).fetchone()
            share = visible / pages if pages else 1.0
            if share >= 0.99:
                break
            # Hint bits wait for the WAL to be flushed up to the latest asynchronous commit
            # of a neighbouring transaction id (the commit log keeps one LSN per group of
            # them), which the WAL writer does within a second: seen once at a million
            # videos, 15% of the pages all-visible after the first VACUUM.
            log(f"  {100 * share:.0f}% of video_field_values all-visible; VACUUM again")
            time.sleep(1)
            conn.execute("VACUUM video_field_values")
    return share


def describe(conn) -> dict:
    """Facts about the values, for the report and the page checks, and their checksum."""
    fields = dict(conn.execute("SELECT name, id FROM custom_fields").fetchall())
    rating_id, select_id = fields[RATING], fields[SELECT]
    ratings = {
        int(value): count
        for value, count in conn.execute(
            "SELECT value_numeric, count(*) FROM video_field_values WHERE field_id = %s "
            "GROUP BY 1 ORDER BY 1",
            (rating_id,),
        )
    }
    options = dict(
        conn.execute(
            "SELECT value_text, count(*) FROM video_field_values WHERE field_id = %s "
            "GROUP BY 1 ORDER BY 1",
            (select_id,),
        ).fetchall()
    )
    conn.execute("SET TimeZone = 'UTC'")
    (checksum,) = conn.execute(
        "SELECT md5(string_agg(h::text, ',' ORDER BY t)) FROM ("
        " SELECT 'v' AS t, sum(hashtext(f::text)::numeric) AS h FROM video_field_values f"
        " UNION ALL SELECT 'f', sum(hashtext((id, name, field_type, config)::text)::numeric)"
        "   FROM custom_fields"
        " UNION ALL SELECT 's', sum(hashtext(s::text)::numeric) FROM schema_fields s) t"
    ).fetchone()
    return {
        "version": FIELDS_VERSION,
        "rating_field": {"id": rating_id, "name": RATING, "max": MAX_RATING, "values": ratings},
        "select_field": {"id": select_id, "name": SELECT, "values": options},
        "schema": SCHEMA,
        "values": sum(ratings.values()) + sum(options.values()),
        "checksum": checksum,
    }
