"""Warnings for unreadable cells: a cell of a soft kind (formats.SOFT_KINDS, a date) that
cannot be read does not refuse its row; a video the catalog holds keeps its value, a video
the import creates gets none, and the cell is listed as a warning (row, column, value,
reason).
"""

from catalog.reports.formats import SOFT_KINDS, Layout
from catalog.reports.importer.outcome import MAX_ROW_ERRORS
from catalog.reports.importer.sql import run_sql

SOFT_REASONS = {
    "timestamp": "not a date (YYYY-MM-DD, with an optional time and zone)",
}


def soft_fields(layout: Layout) -> list[str]:
    """The fields of the file whose unreadable cells are kept as warnings."""
    return [name for name in layout.fields if layout.spec(name).kind in SOFT_KINDS]


def unreadable_cells(layout: Layout, soft: list[str]) -> list[dict]:
    """The first unreadable cells of accepted rows: row, column, value and reason, and
    what becomes of it (a video the catalog holds keeps its value)."""
    parts = " UNION ALL ".join(
        f"(SELECT r.row_no, {layout.fields[n]} AS col, r.video_id, '{n}' AS field "
        f"FROM import_rows r WHERE r.ok AND r.{n}__bad ORDER BY r.row_no LIMIT {MAX_ROW_ERRORS})"
        for n in soft
    )
    cell = " ".join(f"WHEN {layout.fields[n]} THEN raw.c{layout.fields[n] + 1}" for n in soft)
    warnings = []
    for row_no, column, value, name, known in run_sql(
        f"SELECT w.row_no, w.col, CASE w.col {cell} END, w.field, "
        "EXISTS (SELECT FROM videos v WHERE v.video_id = w.video_id) "
        f"FROM ({parts}) w JOIN import_raw raw USING (row_no) "
        f"ORDER BY w.row_no, w.col LIMIT {MAX_ROW_ERRORS}"
    ):
        becomes = "the catalog's value is kept" if known else "the new video gets none"
        warnings.append(
            {
                "row": row_no,
                "column": layout.column_name(column),
                "value": value[:100],
                "reason": f"{SOFT_REASONS.get(layout.spec(name).kind, 'unreadable')}; {becomes}",
            }
        )
    return warnings
