"""CSV for spreadsheets: streamed row by row, and safe to open in Excel or Sheets."""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

# A cell starting with one of these is a formula to a spreadsheet ("CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What is written with a quote before it: a formula, and a text that already starts with
# quotes before a formula character ("'=x" is written "''=x"), so that taking one quote off
# a cell that matches NEUTRALISED gives back exactly the value, whatever it was.
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")
# A neutralised cell, as a PostgreSQL regular expression (the report import reads the
# catalog's own export back: catalog.reports.importer).
NEUTRALISED_SQL = r"^''*[-=+@\t\r]"


def cell(value: Any) -> str:
    """A value as a CSV cell: lists joined, booleans as Yes/No, times in UTC (ISO 8601),
    formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        # One unambiguous shape, which the report import reads without help.
        value = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    text = str(value)
    if _NEEDS_QUOTE.match(text):
        return "'" + text
    return text


def stream(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The CSV text, a line at a time, with a BOM so spreadsheets read it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([cell(name) for name in header])
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([cell(value) for value in row])
        yield buffer.getvalue()
