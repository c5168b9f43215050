"""Step 2, reading and checking: one statement turns the staged text into typed fields
and, per row, whether it is refused (cells.value_sql, cells.check_sql): `import_rows`.
The reasons of the refused rows are worked out afterwards, for the first of them only.
"""

from catalog.reports.cells import check_sql, value_sql
from catalog.reports.formats import SOFT_KINDS, Layout
from catalog.reports.importer.outcome import MAX_ROW_ERRORS, Outcome
from catalog.reports.importer.sql import run_sql
from catalog.reports.importer.staging import Rejected
from catalog.reports.importer.unreadable import soft_fields, unreadable_cells
from catalog.web import csv as csvexport
from catalog.web.text import plural

# A cell: surrounding spaces trimmed (btrim's default set, three times cheaper than naming
# the characters), empty as NULL.
CELL = "nullif(btrim(r.c{n}), '')"
# A text cell as the catalog's export wrote it: a value a spreadsheet would run as a formula
# ("=…", "-…") is written with a quote before it (csvexport.cell); the quote is no part of
# the value. The first character is the cheap test that nearly every cell fails (and no
# percent sign: the driver would read it as a parameter).
UNQUOTED_CELL = (
    "CASE WHEN left(r.c{n}, 1) = '''' AND r.c{n} ~ '" + csvexport.NEUTRALISED_SQL + "' "
    "THEN substr(r.c{n}, 2) ELSE " + CELL + " END"
)
UNQUOTED_KINDS = ("video_id", "text", "list", "custom_text", "custom_select")


def cell_sql(layout: Layout, name: str) -> str:
    """The cell of field `name` in import_raw r, trimmed, NULL when empty (a text unquoted)."""
    # Only the catalog's format can be its own export: YouTube's reports pay nothing for it.
    unquote = layout.format.key == "catalog" and layout.spec(name).kind in UNQUOTED_KINDS
    return (UNQUOTED_CELL if unquote else CELL).format(n=layout.fields[name] + 1)


def _cells(layout: Layout) -> str:
    """The mapped cells of import_raw r, trimmed, NULL when empty (texts unquoted)."""
    return ", ".join(f"{cell_sql(layout, name)} AS {name}" for name in layout.fields)


def _checks(layout: Layout) -> list[tuple[int, str, str]]:
    """(column index, condition, reason) of every check, over the names `<field>__cell`
    (the cell) and `<field>` (its value), the missing video id first."""
    checks = [(layout.fields["video_id"], "video_id__cell IS NULL", "'missing video_id'")]
    for name, index in layout.fields.items():
        check = check_sql(layout.spec(name), f"{name}__cell", name)
        if check:
            checks.append((index, *check))
    return checks


def _typed(layout: Layout, source: str) -> str:
    """SELECT of each staged row of `source` (import_raw or a part of it): its fields
    typed, `blank`, and the cells (`<field>__cell`) for the checks above it."""
    fields = layout.fields
    every_cell = " || ".join(f"coalesce(r.c{n}, '')" for n in range(1, len(layout.header) + 1))
    values = ", ".join(
        f"{value_sql(layout.spec(name), name)} AS {name}, {name} AS {name}__cell" for name in fields
    )
    return f"""
  SELECT row_no, blank, {values}
  FROM (
    SELECT r.row_no, {_cells(layout)},
           CASE WHEN {CELL.format(n=fields["video_id"] + 1)} IS NULL
                THEN ({every_cell}) !~ '[^[:space:]]' ELSE false END AS blank
    FROM {source} r OFFSET 0
  ) cells OFFSET 0
"""


def _refused(layout: Layout) -> str:
    """SQL true when a typed row is refused; cheap, as it runs a million times a report.

    A readable cell of most kinds has a value, an unreadable one has none: comparing the
    number of empty cells with the number of empty values (num_nulls) checks them all at
    once. Texts are checked for length (octet_length first: it costs nothing, and a text
    is never longer in characters than in bytes), identifiers against their patterns."""
    by_value, conditions = [], ["video_id__cell IS NULL"]
    for name in layout.fields:
        kind = layout.spec(name).kind
        if kind in SOFT_KINDS:
            continue  # never refuses its row (see unreadable.py)
        if kind in BY_VALUE:
            by_value.append(name)
        elif kind == "text":
            limit = layout.spec(name).max_length
            conditions.append(
                f"(octet_length({name}__cell) > {limit} AND length({name}__cell) > {limit})"
            )
        else:
            conditions.append(check_sql(layout.spec(name), f"{name}__cell", name)[0])
    if by_value:
        conditions.append(
            f"num_nulls({', '.join(f'{n}__cell' for n in by_value)}) "
            f"<> num_nulls({', '.join(by_value)})"
        )
    return " OR ".join(f"({c})" for c in conditions)


# Kinds whose cell is readable exactly when it has a value (see _refused).
BY_VALUE = (
    "count", "duration", "yes_no", "choice", "flag",
    "custom_select", "custom_rating", "custom_boolean",
)  # fmt: skip


def typed_rows(layout: Layout, source: str = "import_raw") -> None:
    """import_rows: one row per staged row of `source` (import_raw, or the part of it that
    is not known unchanged), its fields typed, and whether it is accepted (`ok`). The
    reasons of the refused ones are worked out later, for them only."""
    fields = layout.fields
    # <field>__bad: the cell of a soft field could not be read (its value is NULL).
    bad = "".join(
        f", {n}__cell IS NOT NULL AND {n} IS NULL AS {n}__bad" for n in soft_fields(layout)
    )
    run_sql("DROP TABLE IF EXISTS pg_temp.import_rows")
    run_sql(
        f"""
CREATE TEMP TABLE import_rows ON COMMIT DROP AS
SELECT row_no, blank, NOT blank AND NOT coalesce({_refused(layout)}, false) AS ok,
       {", ".join(fields)}{bad}
FROM ({_typed(layout, source)}) typed
"""
    )
    # Statistics for the steps that join or group on these columns (the merge's duplicate
    # videos, the channels, the categories, the diff): sampling every column of a wide
    # table cost several times more than the plans need.
    keys = [name for name in ("video_id", "channel_key", "category") if name in fields]
    run_sql(f"ANALYZE import_rows (row_no, ok, {', '.join(keys)})")


def _errors(layout: Layout) -> list[dict]:
    """The reasons of the first refused rows, worked out again from their cells."""
    reasons = ", ".join(
        f"CASE WHEN {condition} THEN '{index}|' || {reason} END"
        for index, condition, reason in _checks(layout)
    )
    source = (
        f"(SELECT r.* FROM import_raw r JOIN (SELECT row_no FROM import_rows "
        f"WHERE NOT ok AND NOT blank ORDER BY row_no LIMIT {MAX_ROW_ERRORS}) bad USING (row_no))"
    )
    errors = []
    for row_no, entries in run_sql(
        f"SELECT row_no, array_remove(ARRAY[{reasons}]::text[], NULL) "
        f"FROM ({_typed(layout, source)}) typed ORDER BY row_no"
    ):
        for entry in entries:
            index, _, reason = entry.partition("|")
            errors.append(
                {"row": row_no, "column": layout.column_name(int(index)), "reason": reason}
            )
    return errors


def counts(outcome: Outcome, rejected: Rejected, layout: Layout) -> None:
    """The outcome's row counts, row errors and warnings, from import_rows and the rows
    staging refused."""
    soft = soft_fields(layout)
    unreadable = " + ".join(f"count(*) FILTER (WHERE ok AND {n}__bad)" for n in soft) or "0"
    rows, blank, invalid, outcome.unreadable = run_sql(
        "SELECT count(*) FILTER (WHERE NOT blank), count(*) FILTER (WHERE blank), "
        f"count(*) FILTER (WHERE NOT blank AND NOT ok), {unreadable} FROM import_rows"
    ).one()
    outcome.rows = rows + rejected.count
    outcome.blank_rows = blank + rejected.blank
    outcome.invalid = invalid + rejected.count
    if outcome.unreadable:
        outcome.warnings = unreadable_cells(layout, soft)
        outcome.notes.append(
            f"{plural(outcome.unreadable, 'value')} could not be read (listed below): a video "
            "the catalog holds keeps the value it has; a video the import creates gets none."
        )
    errors = rejected.errors + (_errors(layout) if invalid else [])
    errors.sort(key=lambda e: e["row"])
    outcome.errors = errors[:MAX_ROW_ERRORS]
