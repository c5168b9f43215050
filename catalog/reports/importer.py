"""The set-based import of one report file: stream → COPY → SQL.

1. Stage. The file is streamed (never held whole) into a temporary table of text columns,
   one per file column, by COPY in 1 MiB chunks. The fast path hands the bytes to
   PostgreSQL's own CSV parser, which is what a plain COPY costs. A file it refuses
   (a blank line, a wrong number of values, an unterminated quote, a NUL byte, bytes that
   are not UTF-8) is staged again through Python's csv module, row by row, so that each
   bad row is skipped and reported instead of failing the file, and a file-level problem
   (another encoding) gets its own clear message.
2. Read. One statement turns the text into typed fields and, per row, whether it is
   refused (formats.value_sql, formats.check_sql): `import_rows`.
3. Channels. The report's channels that the catalog does not know are created, renamed
   ones take the report's name; both audited (entity "channel"), set-based.
4. Merge. One row per video: for YouTube's report the claim rows of a video become one
   video (see below), for the Catalog Tool format the latest row wins. Most videos
   have one row; only those with several are sorted and merged.
5. Diff. The merged rows are joined to the catalog; only videos that are new or differ in
   a field the file carries are kept, each with its delta {field: [old, new]} built in SQL
   (jsonb_build_object over IS DISTINCT FROM, jsonb_strip_nulls): `import_diff`.
6. Apply (not for a preview). UPDATE the changed videos (version + 1, updated_at) and
   INSERT the new ones, collecting each one's audit row in `import_audit` (as step 3 does
   for channels); the audit rows (source "report", the report's id, one batch id whose
   first row carries the batch's size) are written last, in one statement, just before
   the commit: the first audit row of a transaction holds the audit hash chain until
   commit (migration 0010), and every other writer waits for it. Unchanged videos write
   nothing.

What it costs (1,000,000 rows against a catalog of 1,000,000 videos, 2% new, 10% changed,
on the benchmark's 2-core machine): staging ~2.5 s (what PostgreSQL's COPY parse costs;
the Python side only reads, hashes and forwards bytes), reading and checking ~9 s
(expression work: ~30 fields a row, kept to cheap operations; helper functions only for
rare shapes, as a call costs ~60 µs), channels and merge ~1.5 s (hash aggregates, no
sort of the whole file), diff ~4 s (one hash join with the catalog), and writing ~11 s,
nearly all of it the videos' own index maintenance: every changed video is updated
outside HOT (views and updated_at are indexed), so each adds entries to all fifteen
indexes, the trigram GIN index included. Python's memory stays at ~100 MB whatever the
file's size.

Everything happens in the caller's transaction; the staging tables are temporary and
dropped at its end (ON COMMIT DROP). A preview runs steps 1-5 inside a savepoint that is
rolled back, so it changes nothing, channels included.

Merging YouTube claim rows (one row per claim of a video):
- single-valued fields come from the video's primary row: the row with the lowest claim_id
  (rows without a claim last), the latest such row when claim ids repeat; a stable choice,
  whatever order YouTube lists the rows in;
- claimed_status: "claim" when any row is claimed by this owner (claimed_by_this_owner, or
  a claim_id when that column is absent), keeping "appeal" or "dispute" that staff set on a
  claimed video (those come from the claims report, not this one); none when no row is;
  unchanged when the rows do not say;
- claimed_by_another_owner: "Yes" when any row says Yes, else "No" when any says No;
- other_owners_claiming: every owner named by any row, once each, sorted, comma-separated.

What an empty cell means: for a column the file has, empty is empty (the report is the
truth for what it carries) — except the channel, the category and the Yes/No flags (NOT
NULL), which an empty cell leaves as they are. A column the file does not have is never
touched. An import never blanks what it cannot read: an unreadable date keeps the date a
video has (a video the import creates gets none, reference.md F) and is listed as a
warning (row, column, value, reason); any other unreadable cell refuses its row. An
unknown category name leaves the category as it is (a note says so).

The catalog's own CSV export (/videos/export.csv) is read as the Catalog Tool format with
every column it writes: the formula-neutralising quote of its cells is taken off
(csvexport.NEUTRALISED_SQL), and a column named as a custom field is that field's values,
checked against its type, written beside the video's other changes in its audit row
("field:Name"), as the edit form does. Exported and imported back, a catalog is unchanged.
"""

import csv
import dataclasses
import gzip
import hashlib
import io
import itertools
import re
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import psycopg
from sqlalchemy import select, text
from sqlalchemy import sql as sa_sql
from sqlalchemy.exc import DBAPIError

from catalog.extensions import db
from catalog.models import CustomField, User
from catalog.reports.formats import (
    FIELDS,
    FLAGS,
    GZIP_MAGIC,
    HELPER_FUNCTIONS,
    SOFT_KINDS,
    Field,
    Layout,
    ReportFileError,
    check_sql,
    custom_field,
    detect,
    looks_binary,
    normalize,
    sniff,
    sql_literal,
    value_sql,
)
from catalog.videos.service import AUDITED_FIELDS, lock_videos
from catalog.web import csv as csvexport

CHUNK = 1 << 20
HEADER_LIMIT = 1 << 20  # a header line longer than this is no report
MAX_ROW_ERRORS = 1000  # kept for reading; every invalid row is counted
SAMPLE_UPDATES = 20
SAMPLE_CREATES = 5
ATTEMPTS = 3  # a concurrent edit of a video being imported: the import starts over
# A lone "\." line ends COPY's input early (PostgreSQL < 18); such a file takes the
# Python path, which reads it as data.
END_OF_DATA = re.compile(rb"(?:^|\n)\\\.\r?(?:\n|$)")
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

Opener = Callable[[], BinaryIO]
Progress = Callable[[float], None]

# The video columns a report can write, and the staged field each comes from (the
# channel, its display name, the category and the claim status are derived, see _new).
DIRECT = (
    "title", "time_published", "video_length", "views", "privacy_status", "asset_id",
    "custom_id", "effective_policy", "isrc", "upload_source", "claimed_by_another_owner",
    "other_owners_claiming", "artist", "genre", "label", "upc", "notes",
    *(name for name, f in FIELDS.items() if f.kind == "yes_no" and name not in (
        "claimed_by_this_owner", "claimed_by_another_owner")),
)  # fmt: skip
assert {*DIRECT, *FLAGS, "administered_at"} <= set(AUDITED_FIELDS), "only audited fields"


class ConcurrentChange(Exception):
    """A video changed (or was created) by someone else while the report was being applied."""


@dataclass
class Outcome:
    """What a report does (preview) or did (apply)."""

    format: str = ""
    format_label: str = ""
    sha256: str = ""
    size: int = 0
    rows: int = 0  # data rows, blank ones not counted
    blank_rows: int = 0
    invalid: int = 0
    videos: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    channels_created: int = 0
    channels_renamed: int = 0
    field_counts: dict[str, int] = field(default_factory=dict)
    sample: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    # Cells that could not be read but did not refuse their row (formats.SOFT_KINDS):
    # {row, column, value, reason}, the first MAX_ROW_ERRORS; `unreadable` counts them all.
    warnings: list[dict] = field(default_factory=list)
    unreadable: int = 0
    notes: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    batch_id: str | None = None
    # Seconds per step (stage, read, channels, merge, diff, apply), for operators and the
    # benchmark.
    timings: dict[str, float] = field(default_factory=dict)

    def as_preview(self) -> dict:
        """The JSON kept on Report.preview (the row errors go to Report.row_errors)."""
        keys = (
            "format", "format_label", "sha256", "rows", "blank_rows", "invalid", "videos",
            "created", "updated", "unchanged", "channels_created", "channels_renamed",
            "field_counts", "sample", "warnings", "unreadable", "notes", "ignored_columns",
        )  # fmt: skip
        return {key: getattr(self, key) for key in keys}


# -- reading the stored bytes ------------------------------------------------------------------


class _Hashing(io.RawIOBase):
    """Reads a stream, keeping its SHA-256 and how many bytes have passed."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.digest = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.digest.update(data)
        self.count += n
        return n

    def drain(self) -> None:
        """Read to the end: bytes after the data (gzip padding) are part of the file."""
        while self.raw.read(CHUNK):
            pass


class _Source(io.RawIOBase):
    """One pass over a stored report: raw bytes hashed, gzip undone, size capped."""

    def __init__(self, opener: Opener, max_bytes: int):
        super().__init__()
        self.stream = opener()
        self.hashing = _Hashing(self.stream)
        buffered = io.BufferedReader(self.hashing, CHUNK)
        self.gzipped = buffered.peek(2)[:2] == GZIP_MAGIC
        self.data: BinaryIO = gzip.GzipFile(fileobj=buffered) if self.gzipped else buffered
        self.max_bytes = max_bytes
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self.data.read(len(buffer))
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            raise ReportFileError(
                "The file is not a valid gzip file (damaged or cut short): " + str(exc)
            ) from exc
        self.read_bytes += len(data)
        if self.read_bytes > self.max_bytes:
            raise ReportFileError(
                f"The file is larger than {self.max_bytes:,} bytes once uncompressed."
            )
        n = len(data)
        buffer[:n] = data
        return n

    def lines(self):
        """The text lines of the file (after its header was read by read_header), each
        decoded on its own, so that bytes that are not UTF-8 are found on their line."""
        for number, line in enumerate(io.BufferedReader(self, CHUNK), start=1):
            try:
                yield line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ReportFileError(
                    _encoding_message(line, exc.start, f"line {number:,}")
                ) from exc

    def finish(self) -> tuple[str, int]:
        """Read what is left of the stored bytes; return their SHA-256 and size."""
        self.hashing.drain()
        return self.hashing.digest.hexdigest(), self.hashing.count

    def release(self) -> None:
        """Close the stored file (closing this reader, as its wrappers do, does not)."""
        self.stream.close()


def _split_header(block: bytes) -> tuple[bytes, bytes] | None:
    """(header line, the rest) of `block`; None when the line does not end within it.
    A newline inside quotes belongs to the header."""
    in_quotes = False
    for index, byte in enumerate(block):
        if byte == 0x22:
            in_quotes = not in_quotes
        elif byte == 0x0A and not in_quotes:
            return block[: index + 1], block[index + 1 :]
    return None


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportFileError(_encoding_message(data, exc.start, where)) from exc


def _encoding_message(data: bytes, start: int, where: str) -> str:
    """Why `data` (a line, or the header) is refused: its byte at `start` is no UTF-8."""
    if looks_binary(data):
        return (
            f"The file holds binary data ({where}), not CSV text: it is no report. "
            "Upload the report as a .csv (or .csv.gz) file."
        )
    hint = ""
    if data[start : start + 1] >= b"\x80":
        hint = " It looks like Latin-1 / Windows-1252 (what Excel's plain “CSV” saves)."
    return (
        f"The file is not UTF-8 text ({where}).{hint} Save it as “CSV UTF-8” and upload it again."
    )


def read_header(source: _Source) -> tuple[list[str], bytes]:
    """The header's cells and the bytes read past it."""
    block = source.read(CHUNK)
    sniff(block[:4096])
    if block.startswith(b"\xef\xbb\xbf"):
        block = block[3:]
    split = _split_header(block)
    while split is None and len(block) < HEADER_LIMIT:
        more = source.read(CHUNK)
        if not more:
            split = (block, b"")
            break
        block += more
        split = _split_header(block)
    if split is None:
        raise ReportFileError("The first line is longer than 1 MiB: this is no report.")
    line, rest = split
    if b"\x00" in line:
        raise ReportFileError("The header line contains NUL bytes: this is no CSV text.")
    header = next(csv.reader([_decode(line, "in the header line").rstrip("\r\n")]), [])
    if not any(cell.strip() for cell in header):
        raise ReportFileError("The first line of the file is empty; it must name the columns.")
    return header, rest


# -- staging -----------------------------------------------------------------------------------


class _FallBack(Exception):
    """The fast path cannot take this file; the Python path will."""


def _sql(statement: str):
    """Run generated SQL that takes no parameters as it is (its regular expressions hold
    colons that text() would read as parameters)."""
    return db.session.connection().exec_driver_sql(statement)


def _driver(connection=None) -> psycopg.Connection:
    connection = connection or db.session.connection()
    return connection.connection.driver_connection


def _columns(count: int) -> str:
    return ", ".join(f"c{n}" for n in range(1, count + 1))


def _create_raw(count: int) -> None:
    _sql("DROP TABLE IF EXISTS pg_temp.import_raw")
    _sql(
        "CREATE TEMP TABLE import_raw (row_no bigint GENERATED BY DEFAULT AS IDENTITY "
        f"(START WITH 2), {', '.join(f'c{n} text' for n in range(1, count + 1))}) "
        "ON COMMIT DROP"
    )


def _ends_early(data: bytes) -> bool:
    """Whether COPY would stop at a lone "\\." line in `data` (the substring test first:
    a regular expression over every megabyte costs more than the COPY itself)."""
    return b"\\." in data and END_OF_DATA.search(data) is not None


def _copy_fast(source: _Source, count: int, rest: bytes, progress, size: int) -> None:
    """COPY the bytes as they are; raise _FallBack (or psycopg.Error) when PostgreSQL's
    parser cannot take them."""
    carry = b""
    with (
        _driver().cursor() as cursor,
        cursor.copy(f"COPY import_raw ({_columns(count)}) FROM STDIN (FORMAT csv)") as copy,
    ):
        pending = rest
        while True:
            chunk = source.read(CHUNK)
            if not chunk:
                break
            if _ends_early(carry + pending):
                raise _FallBack
            carry = pending[-3:]
            copy.write(pending)
            pending = chunk
            if progress and size:
                progress(min(source.hashing.count / size, 1.0))
        # A blank line at the very end is common and harmless; PostgreSQL would refuse it.
        pending = pending.rstrip(b"\r\n")
        if _ends_early(carry + pending):
            raise _FallBack
        if pending:
            copy.write(pending + b"\n")


@dataclass
class _Rejected:
    """Rows the Python path refused before staging: counted and (some) kept for reading."""

    count: int = 0
    blank: int = 0
    errors: list[dict] = field(default_factory=list)

    def add(self, row: int, column: str, reason: str) -> None:
        self.count += 1
        if len(self.errors) < MAX_ROW_ERRORS:
            self.errors.append({"row": row, "column": column, "reason": reason})


def _copy_rows(source: _Source, header: list[str], progress, size: int) -> _Rejected:
    """Stage the file row by row: blank rows skipped, bad rows refused and reported."""
    rejected = _Rejected()
    count = len(header)
    lines = source.lines()
    first = next(lines, "")
    # The header, already understood; a BOM before it is no part of the data.
    reader = csv.reader(itertools.chain([first.removeprefix("\ufeff")], lines))
    next(reader, None)
    row_no = 1
    with (
        _driver().cursor() as cursor,
        cursor.copy(f"COPY import_raw (row_no, {_columns(count)}) FROM STDIN") as copy,
    ):
        while True:
            row_no += 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                limit = csv.field_size_limit()
                reason = (
                    f"a value is longer than {limit:,} characters (an unterminated quote?)"
                    if "field limit" in str(exc)
                    else f"not readable as CSV: {exc}"
                )
                rejected.add(row_no, "", reason)
                continue
            if not any(cell.strip() for cell in row):
                rejected.blank += 1
                continue
            if len(row) != count:
                hint = (
                    " (a quote left open swallows the lines after it)"
                    if any("\n" in cell for cell in row)
                    else ""
                )
                rejected.add(
                    row_no, "", f"has {plural(len(row), 'value')}; the header has {count}{hint}"
                )
                continue
            nul = next((i for i, cell in enumerate(row) if "\x00" in cell), None)
            if nul is not None:
                rejected.add(row_no, header[nul], "contains a NUL character")
                continue
            copy.write_row([row_no, *row])
            if progress and size and row_no % 10_000 == 0:
                progress(min(source.hashing.count / size, 1.0))
    return rejected


def stage(
    opener: Opener, *, max_bytes: int, progress: Progress | None = None, size: int = 0
) -> tuple[Layout, _Rejected, str, int]:
    """Stream the file into `import_raw`; return its layout, the rows refused on the way,
    and the SHA-256 and size of the stored bytes."""
    source = _Source(opener, max_bytes)
    try:
        header, rest = read_header(source)
        layout = detect(header)
        _create_raw(len(header))
        savepoint = db.session.begin_nested()
        try:
            _copy_fast(source, len(header), rest, progress, size)
        except (_FallBack, psycopg.Error):
            savepoint.rollback()
        else:
            savepoint.commit()
            return layout, _Rejected(), *source.finish()
    finally:
        source.release()
    # The Python path: a fresh pass from the first byte.
    source = _Source(opener, max_bytes)
    try:
        rejected = _copy_rows(source, header, progress, size)
        return layout, rejected, *source.finish()
    finally:
        source.release()


# -- reading, merging, comparing: SQL ------------------------------------------------------------


def _cells(layout: Layout) -> str:
    """The mapped cells of import_raw r, trimmed, NULL when empty (texts unquoted)."""
    # Only the catalog's format can be its own export: YouTube's reports pay nothing for it.
    unquote = UNQUOTED_KINDS if layout.format.key == "catalog" else ()
    cells = []
    for name, index in layout.fields.items():
        cell = UNQUOTED_CELL if layout.spec(name).kind in unquote else CELL
        cells.append(f"{cell.format(n=index + 1)} AS {name}")
    return ", ".join(cells)


def _with_custom_fields(layout: Layout) -> Layout:
    """The layout with the columns named as custom fields are (the catalog's export has one
    per field): their definitions are read, and held still (FOR SHARE) until the import
    ends, so the values are checked against the options and maximum they keep."""
    if layout.format.key != "catalog" or not layout.ignored:
        return layout
    wanted = {normalize(name) for name in layout.ignored}
    names = db.session.execute(select(CustomField.id, CustomField.name)).all()
    ids = [field_id for field_id, name in names if normalize(name) in wanted]
    if not ids:
        return layout
    definitions = db.session.scalars(
        select(CustomField)
        .where(CustomField.id.in_(ids))
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).all()
    by_name = {normalize(d.name): d for d in definitions}
    fields, custom = dict(layout.fields), {}
    taken = set(fields.values())
    for index, header in enumerate(layout.header):
        definition = by_name.get(normalize(header))
        if definition is None or index in taken:
            continue
        spec = custom_field(
            definition.id, definition.name, definition.field_type, definition.config or {}
        )
        if spec.name in fields:  # the first of two same-named columns wins
            continue
        fields[spec.name], custom[spec.name] = index, spec
    used = {layout.header[index].strip() for index in (fields[n] for n in custom)}
    ignored = [name for name in layout.ignored if name not in used]
    return dataclasses.replace(layout, fields=fields, custom=custom, ignored=tuple(ignored))


def _soft(layout: Layout) -> list[str]:
    """The fields of the file whose unreadable cells are kept as warnings."""
    return [name for name in layout.fields if layout.spec(name).kind in SOFT_KINDS]


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
            continue  # never refuses its row (see _warnings)
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


def _typed_rows(layout: Layout) -> None:
    """import_rows: one row per staged row, its fields typed, and whether it is accepted
    (`ok`). The reasons of the refused ones are worked out later, for them only."""
    fields = layout.fields
    # <field>__bad: the cell of a soft field could not be read (its value is NULL).
    bad = "".join(f", {n}__cell IS NOT NULL AND {n} IS NULL AS {n}__bad" for n in _soft(layout))
    _sql("DROP TABLE IF EXISTS pg_temp.import_rows")
    _sql(
        f"""
CREATE TEMP TABLE import_rows ON COMMIT DROP AS
SELECT row_no, blank, NOT blank AND NOT coalesce({_refused(layout)}, false) AS ok,
       {", ".join(fields)}{bad}
FROM ({_typed(layout, "import_raw")}) typed
"""
    )


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
    for row_no, entries in _sql(
        f"SELECT row_no, array_remove(ARRAY[{reasons}]::text[], NULL) "
        f"FROM ({_typed(layout, source)}) typed ORDER BY row_no"
    ):
        for entry in entries:
            index, _, reason = entry.partition("|")
            errors.append(
                {"row": row_no, "column": layout.column_name(int(index)), "reason": reason}
            )
    return errors


SOFT_REASONS = {
    "timestamp": "not a date (YYYY-MM-DD, with an optional time and zone)",
}


def _counts(outcome: Outcome, rejected: _Rejected, layout: Layout) -> None:
    soft = _soft(layout)
    unreadable = " + ".join(f"count(*) FILTER (WHERE ok AND {n}__bad)" for n in soft) or "0"
    rows, blank, invalid, outcome.unreadable = _sql(
        "SELECT count(*) FILTER (WHERE NOT blank), count(*) FILTER (WHERE blank), "
        f"count(*) FILTER (WHERE NOT blank AND NOT ok), {unreadable} FROM import_rows"
    ).one()
    outcome.rows = rows + rejected.count
    outcome.blank_rows = blank + rejected.blank
    outcome.invalid = invalid + rejected.count
    if outcome.unreadable:
        outcome.warnings = _warnings(layout, soft)
        outcome.notes.append(
            f"{plural(outcome.unreadable, 'value')} could not be read (listed below): a video "
            "the catalog holds keeps the value it has; a video the import creates gets none."
        )
    errors = rejected.errors + (_errors(layout) if invalid else [])
    errors.sort(key=lambda e: e["row"])
    outcome.errors = errors[:MAX_ROW_ERRORS]


def _warnings(layout: Layout, soft: list[str]) -> list[dict]:
    """The first unreadable cells of accepted rows: row, column, value and reason, and
    what becomes of it (a video the catalog holds keeps its value)."""
    parts = " UNION ALL ".join(
        f"(SELECT r.row_no, {layout.fields[n]} AS col, r.video_id, '{n}' AS field "
        f"FROM import_rows r WHERE r.ok AND r.{n}__bad ORDER BY r.row_no LIMIT {MAX_ROW_ERRORS})"
        for n in soft
    )
    cell = " ".join(f"WHEN {layout.fields[n]} THEN raw.c{layout.fields[n] + 1}" for n in soft)
    warnings = []
    for row_no, column, value, name, known in _sql(
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


def plural(count: int, word: str, words: str | None = None) -> str:
    """ "1 value", "2 values", "1,000 rows": a count with its noun in the right number."""
    return f"{count:,} {word if count == 1 else words or word + 's'}"


def _categories(outcome: Outcome, layout: Layout) -> None:
    """import_categories: each category name of the file and the catalog's category it
    names (by name or slug, ignoring case), NULL when none."""
    if "category" not in layout.fields:
        return
    _sql("DROP TABLE IF EXISTS pg_temp.import_categories")
    _sql("""
CREATE TEMP TABLE import_categories ON COMMIT DROP AS
SELECT n.name, n.rows, (
  SELECT c.id FROM video_categories c
  WHERE lower(c.name) = lower(n.name) OR c.slug = lower(n.name)
     OR c.slug = btrim(regexp_replace(lower(n.name), '[^a-z0-9]+', '-', 'g'), '-')
  ORDER BY lower(c.name) = lower(n.name) DESC, c.slug = lower(n.name) DESC, c.id LIMIT 1
) AS id
FROM (SELECT category AS name, count(*) AS rows FROM import_rows
      WHERE ok AND category IS NOT NULL GROUP BY category) n
""")
    unknown = _sql(
        "SELECT name, rows FROM import_categories WHERE id IS NULL ORDER BY rows DESC"
    ).all()
    if unknown:
        shown = ", ".join(f"{name} ({plural(rows, 'row')})" for name, rows in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        outcome.notes.append(
            f"Categories the catalog does not have were left as they were: {shown}{more}."
        )


AUDIT_WHO = ":user_id, :user_email, CAST(:batch_id AS uuid), :report_id"


def _collect_audit() -> None:
    """The audit rows of what this import writes, collected until _record_audit."""
    _sql("DROP TABLE IF EXISTS pg_temp.import_audit")
    _sql(
        "CREATE TEMP TABLE import_audit (position bigint GENERATED ALWAYS AS IDENTITY, "
        "entity_type text, entity_id bigint, entity_key text, video_title text, "
        "channel_display_name text, action text, changes jsonb) ON COMMIT DROP"
    )


COLLECT = (
    "INSERT INTO import_audit (entity_type, entity_id, entity_key, video_title, "
    "channel_display_name, action, changes) "
)


def _record_audit(params: dict) -> None:
    """Write the collected audit rows in one statement, in the order they were collected;
    the first carries the batch's size. Last thing before the commit: see step 6 above."""
    db.session.execute(
        text(f"""
INSERT INTO metadata_syncs (entity_type, entity_id, entity_key, video_title,
    channel_display_name, action, source, changes, user_id, user_email, batch_id, report_id,
    batch_size)
SELECT entity_type, entity_id, entity_key, video_title, channel_display_name, action,
       'report', changes, {AUDIT_WHO},
       CASE WHEN position = min(position) OVER () THEN count(*) OVER () END
FROM import_audit ORDER BY position
"""),
        params,
    )


def _channels(outcome: Outcome, layout: Layout, params: dict) -> None:
    """Create the report's unknown channels and rename the renamed, audited like
    catalog.channels.service.ensure_channel (which does it one channel at a time): an
    unknown id creates the channel, named as the report names it (or by its id); a known
    one takes the report's latest non-blank name."""
    if "channel_key" not in layout.fields:
        return
    # The latest non-blank name of each channel, by hashing (no sort of a million rows).
    name = "channel_name" if "channel_name" in layout.fields else "NULL::text"
    picked = "r.channel_name" if "channel_name" in layout.fields else "NULL::text"
    _sql("DROP TABLE IF EXISTS pg_temp.import_channels")
    _sql(f"""
CREATE TEMP TABLE import_channels ON COMMIT DROP AS
SELECT k.channel_key, {picked} AS channel_name
FROM (SELECT channel_key, max(row_no) FILTER (WHERE {name} IS NOT NULL) AS named
      FROM import_rows WHERE ok AND channel_key IS NOT NULL GROUP BY channel_key) k
LEFT JOIN import_rows r ON r.row_no = k.named
""")
    outcome.channels_created = db.session.scalar(
        text(
            f"""
WITH created AS (
  INSERT INTO channels (channel_id, name)
  SELECT channel_key, coalesce(channel_name, channel_key) FROM import_channels
  ORDER BY channel_key
  ON CONFLICT (channel_id) DO NOTHING
  RETURNING id, channel_id, name
), audited AS (
  {COLLECT}
  SELECT 'channel', id, channel_id, NULL, left(name, 100), 'create',
         jsonb_build_object('channel_id', jsonb_build_array(NULL, channel_id),
                            'name', jsonb_build_array(NULL, name))
  FROM created RETURNING 1
) SELECT count(*) FROM audited
"""
        ),
        params,
    )
    outcome.channels_renamed = db.session.scalar(
        text(
            f"""
WITH renamed AS (
  SELECT c.id, c.name AS old_name, i.channel_name AS new_name
  FROM channels c JOIN import_channels i ON i.channel_key = c.channel_id
  WHERE i.channel_name IS NOT NULL AND c.name <> i.channel_name
  ORDER BY c.id FOR NO KEY UPDATE OF c
), updated AS (
  UPDATE channels c SET name = r.new_name, updated_at = now() FROM renamed r
  WHERE c.id = r.id RETURNING c.id, c.channel_id, c.name, r.old_name
), audited AS (
  {COLLECT}
  SELECT 'channel', id, channel_id, NULL, left(name, 100), 'update',
         jsonb_build_object('name', jsonb_build_array(old_name, name))
  FROM updated RETURNING 1
) SELECT count(*) FROM audited
"""
        ),
        params,
    )


OWNERS = (
    "(SELECT string_agg(DISTINCT btrim(o), ', ' ORDER BY btrim(o)) "
    "FROM unnest({names}) AS whole, unnest(string_to_array(whole, ',')) AS o "
    "WHERE btrim(o) <> '')"
)


def _merge(outcome: Outcome, layout: Layout) -> str:
    """The SELECT of one row per video (see the module's docstring). Most videos have one
    row: only those with several (import_dups, found by hashing) are sorted and merged."""
    fields = layout.fields
    youtube = layout.format.key == "youtube"
    aggregated = ("claimed_by_another_owner", "other_owners_claiming") if youtube else ()
    plain = [
        name
        for name in fields
        if name not in ("video_id", "claimed_by_this_owner", "claim_id", *aggregated)
    ] + [f"{name}__bad" for name in _soft(layout)]
    _sql("DROP TABLE IF EXISTS pg_temp.import_dups")
    _sql(
        "CREATE TEMP TABLE import_dups ON COMMIT DROP AS SELECT video_id, count(*) AS n "
        "FROM import_rows WHERE ok GROUP BY video_id HAVING count(*) > 1"
    )
    ok_rows, extra = _sql(
        "SELECT (SELECT count(*) FROM import_rows WHERE ok), "
        "(SELECT coalesce(sum(n - 1), 0)::bigint FROM import_dups)"
    ).one()
    outcome.videos = ok_rows - extra
    alone = "NOT EXISTS (SELECT FROM import_dups d WHERE d.video_id = r.video_id)"
    several = "EXISTS (SELECT FROM import_dups d WHERE d.video_id = r.video_id)"
    columns = ", ".join(f"r.{name}" for name in ["video_id", "row_no", *plain])
    if not youtube:
        return f"""
SELECT {columns} FROM import_rows r WHERE r.ok AND {alone}
UNION ALL
(SELECT DISTINCT ON (r.video_id) {columns} FROM import_rows r WHERE r.ok AND {several}
 ORDER BY r.video_id, r.row_no DESC)
"""
    one, merged = [], []  # the claim fields of a video with one row, and with several
    if "claimed_by_this_owner" in fields:
        one.append("r.claimed_by_this_owner = 'Yes' AS claimed")
        merged.append("bool_or(r.claimed_by_this_owner = 'Yes') OVER w AS claimed")
    elif "claim_id" in fields:
        one.append("r.claim_id IS NOT NULL AS claimed")
        merged.append("bool_or(r.claim_id IS NOT NULL) OVER w AS claimed")
    if "claimed_by_another_owner" in fields:
        one.append("r.claimed_by_another_owner")
        merged.append(
            "CASE WHEN bool_or(r.claimed_by_another_owner = 'Yes') OVER w THEN 'Yes' "
            "WHEN bool_or(r.claimed_by_another_owner = 'No') OVER w THEN 'No' END "
            "AS claimed_by_another_owner"
        )
    if "other_owners_claiming" in fields:
        one.append(
            "CASE WHEN strpos(r.other_owners_claiming, ',') > 0 THEN "
            + OWNERS.format(names="ARRAY[r.other_owners_claiming]")
            + " ELSE r.other_owners_claiming END AS other_owners_claiming"
        )
        merged.append(
            "array_agg(r.other_owners_claiming) FILTER "
            "(WHERE r.other_owners_claiming IS NOT NULL) OVER w AS other_owners"
        )
    order = "r.claim_id NULLS LAST, r.row_no DESC" if "claim_id" in fields else "r.row_no DESC"
    names = [c.rsplit(" AS ", 1)[-1].removeprefix("r.") for c in one]
    outer = ", ".join(
        f"m.{name}"
        if name != "other_owners_claiming"
        else OWNERS.format(names="m.other_owners") + " AS other_owners_claiming"
        for name in ["video_id", "row_no", *plain, *names]
    )
    return f"""
SELECT {columns}{"".join(f", {c}" for c in one)} FROM import_rows r WHERE r.ok AND {alone}
UNION ALL
SELECT {outer} FROM (
  SELECT DISTINCT ON (r.video_id) {columns}{"".join(f", {c}" for c in merged)}
  FROM import_rows r WHERE r.ok AND {several}
  WINDOW w AS (PARTITION BY r.video_id ORDER BY {order}
               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
  ORDER BY r.video_id, {order}
) m
"""


def _new_values(layout: Layout) -> dict[str, str]:
    """Each video column the file writes → its new value (SQL over s = the merged rows,
    v = videos, ch = channels, cat = import_categories)."""
    fields = layout.fields
    youtube = layout.format.key == "youtube"
    new = {}
    for name in DIRECT:
        if name in fields:
            new[name] = f"s.{name}"
            if layout.spec(name).kind in SOFT_KINDS:  # never blank what could not be read
                new[name] = f"CASE WHEN s.{name}__bad THEN v.{name} ELSE s.{name} END"
    for name in FLAGS:
        if name in fields:  # NOT NULL: an empty cell keeps the flag (a new video: No)
            new[name] = f"coalesce(s.{name}, v.{name}, false)"
    if "administered" in fields or "administered_at" in fields:
        # As the video service derives it: set when a video becomes administered.
        derived = (
            "CASE WHEN s.administered AND NOT coalesce(v.administered, false) THEN now() "
            "ELSE v.administered_at END"
            if "administered" in fields
            else "v.administered_at"
        )
        new["administered_at"] = (
            "CASE WHEN s.administered_at__bad THEN v.administered_at "
            f"ELSE coalesce(s.administered_at, {derived}) END"
            if "administered_at" in fields
            else derived
        )
    if youtube and "claimed_by_another_owner" in fields:
        new["claimed_by_another_owner"] = "s.claimed_by_another_owner"
    if youtube and "other_owners_claiming" in fields:
        new["other_owners_claiming"] = "s.other_owners_claiming"
    if youtube and ("claimed_by_this_owner" in fields or "claim_id" in fields):
        new["claimed_status"] = (
            "CASE s.claimed WHEN true THEN CASE WHEN v.claimed_status IN ('appeal', 'dispute') "
            "THEN v.claimed_status ELSE 'claim' END WHEN false THEN NULL "
            "ELSE v.claimed_status END"
        )
    elif not youtube and "claimed_status" in fields:
        new["claimed_status"] = "s.claimed_status"
    report_name = "left(s.channel_name, 100)" if "channel_name" in fields else "NULL::varchar"
    if "channel_key" in fields:
        new["channel_id"] = "coalesce(ch.id, v.channel_id)"
        new["channel_display_name"] = (
            f"CASE WHEN ch.id IS NOT NULL THEN coalesce({report_name}, left(ch.name, 100)) "
            f"ELSE coalesce({report_name}, v.channel_display_name) END"
        )
    elif "channel_name" in fields:
        new["channel_display_name"] = f"coalesce({report_name}, v.channel_display_name)"
    if "category" in fields:
        new["category_id"] = "coalesce(cat.id, v.category_id)"
    return new


CUSTOM_OLD = {
    "custom_text": "value_text",
    "custom_select": "value_text",
    "custom_rating": "value_numeric::integer",
    "custom_boolean": "value_boolean",
}


def _diff(layout: Layout, merged: str) -> list[str]:
    """import_diff: the new videos and the changed ones, with their new values and their
    delta; returns the video columns the file writes. A custom field's column adds its
    value (cf_<id>) and whether it changes (cf_<id>__changed); its change is part of the
    video's delta, under the key the video's own audit rows use ("field:Name")."""
    new = _new_values(layout)
    columns = list(new)
    old = {c: f"v.{c}" for c in columns}
    keys = {c: f"'{c}'" for c in columns}
    joins = []
    if "channel_id" in new:
        joins.append("LEFT JOIN channels ch ON ch.channel_id = s.channel_key")
    if "category_id" in new:
        joins.append("LEFT JOIN import_categories cat ON cat.name = s.category")
    for name, spec in layout.custom.items():
        joins.append(
            f"LEFT JOIN video_field_values {name}_v "
            f"ON {name}_v.video_id = v.id AND {name}_v.field_id = {spec.field_id}"
        )
        new[name] = f"s.{name}"
        old[name] = f"{name}_v.{CUSTOM_OLD[spec.kind]}"
        keys[name] = sql_literal(spec.key)
    every = list(new)
    pairs = [
        f"{keys[c]}, CASE WHEN d.o_{c} IS DISTINCT FROM d.n_{c} "
        f"THEN jsonb_build_array(d.o_{c}, d.n_{c}) END"
        for c in every
    ]
    # jsonb_build_object takes at most 100 arguments: 50 pairs per call.
    objects = " || ".join(
        f"jsonb_build_object({', '.join(pairs[i : i + 50])})" for i in range(0, len(pairs), 50)
    )
    differs = " OR ".join(f"d.o_{c} IS DISTINCT FROM d.n_{c}" for c in every) or "false"
    changed = "".join(f"d.o_{c} IS DISTINCT FROM d.n_{c} AS {c}__changed, " for c in layout.custom)
    _sql("DROP TABLE IF EXISTS pg_temp.import_diff")
    _sql(f"""
CREATE TEMP TABLE import_diff ON COMMIT DROP AS
SELECT d.id, d.old_version, d.video_id, d.row_no,
       {"".join(f"d.n_{c} AS {c}, " for c in every)}{changed}
       jsonb_strip_nulls({objects or "'{}'::jsonb"}) AS changes
FROM (
  SELECT v.id, v.version AS old_version, s.video_id, s.row_no
         {"".join(f", {old[c]} AS o_{c}, {expr} AS n_{c}" for c, expr in new.items())}
  FROM ({merged}) s
  LEFT JOIN videos v ON v.video_id = s.video_id
  {" ".join(joins)}
  OFFSET 0
) d
WHERE d.id IS NULL OR {differs}
""")
    return columns


def _summarize(outcome: Outcome) -> None:
    created, updated = _sql(
        "SELECT count(*) FILTER (WHERE id IS NULL), count(id) FROM import_diff"
    ).one()
    outcome.created, outcome.updated = created, updated
    outcome.unchanged = outcome.videos - created - updated
    outcome.field_counts = dict(
        _sql(
            "SELECT k, count(*) FROM import_diff, jsonb_object_keys(changes) k "
            "WHERE id IS NOT NULL GROUP BY k ORDER BY count(*) DESC, k"
        ).all()
    )
    rows = db.session.execute(
        text(
            "(SELECT video_id, false AS created, changes, row_no FROM import_diff "
            " WHERE id IS NOT NULL ORDER BY row_no LIMIT :updates) UNION ALL "
            "(SELECT video_id, true, changes, row_no FROM import_diff "
            " WHERE id IS NULL ORDER BY row_no LIMIT :creates) ORDER BY row_no"
        ),
        {"updates": SAMPLE_UPDATES, "creates": SAMPLE_CREATES},
    ).all()
    outcome.sample = _readable_sample(rows)


def _readable_sample(rows) -> list[dict]:
    """Sample changes for people: channels and categories by name, not by row id."""
    channel_ids, category_ids = set(), set()
    for row in rows:
        channel_ids.update(i for i in row.changes.get("channel_id", []) if i is not None)
        category_ids.update(i for i in row.changes.get("category_id", []) if i is not None)
    names = {}
    if channel_ids:
        names["channel_id"] = dict(
            db.session.execute(
                text("SELECT id, channel_id FROM channels WHERE id = ANY(:ids)"),
                {"ids": list(channel_ids)},
            ).all()
        )
    if category_ids:
        names["category_id"] = dict(
            db.session.execute(
                text("SELECT id, name FROM video_categories WHERE id = ANY(:ids)"),
                {"ids": list(category_ids)},
            ).all()
        )
    sample = []
    for row in rows:
        changes = {
            key: [names.get(key, {}).get(v, v) for v in pair] if key in names else pair
            for key, pair in row.changes.items()
        }
        sample.append(
            {
                "video_id": row.video_id,
                "action": "create" if row.created else "update",
                "changes": changes,
            }
        )
    return sample


def _audited(action: str, changes: str) -> str:
    """The audit rows of the videos a statement returned as `x` (joined to import_diff d)."""
    return (
        f"{COLLECT} SELECT 'video', x.id, x.video_id, x.title, x.channel_display_name, "
        f"'{action}', {changes}"
    )


def _apply(outcome: Outcome, layout: Layout, columns: list[str], params: dict) -> None:
    """Write the changed and the new videos, their custom values and their audit rows;
    ConcurrentChange when a video moved on (or appeared) since it was compared."""
    if not columns and not layout.custom:
        return
    clock = _Clock()
    # The videos to update, locked first and in id order, as every writer of many videos
    # takes them: the UPDATE's join meets them in whatever order its plan produces (the
    # file's, say), which deadlocks with a bulk edit or an undo of the same videos.
    diff = sa_sql.table("import_diff", sa_sql.column("id"))
    lock_videos(select(diff.c.id).where(diff.c.id.is_not(None)))
    updated = db.session.scalar(
        text(
            f"""
WITH x AS (
  UPDATE videos v SET {"".join(f"{c} = d.{c}, " for c in columns)}
         version = v.version + 1, updated_at = now()
  FROM import_diff d
  WHERE d.id IS NOT NULL AND v.id = d.id AND v.version = d.old_version
  RETURNING v.id, v.video_id, v.title, v.channel_display_name
), audited AS (
  {_audited("update", "d.changes")}
  FROM x JOIN import_diff d ON d.id = x.id RETURNING 1
) SELECT count(*) FROM audited
"""
        ),
        params,
    )
    if updated != outcome.updated:
        raise ConcurrentChange(f"{plural(outcome.updated - updated, 'video')} changed meanwhile")
    outcome.timings["update"] = clock.lap()
    created_changes = (
        "jsonb_build_object('video_id', jsonb_build_array(NULL, x.video_id)) || d.changes"
    )
    # New videos are inserted in video_id order: two imports bringing the same new videos
    # then claim their ids in one order, one waiting for the other, instead of each holding
    # an id the other is inserting (a deadlock on the unique index).
    created = db.session.scalar(
        text(
            f"""
WITH x AS (
  INSERT INTO videos (video_id, {", ".join(columns)})
  SELECT video_id, {", ".join(columns)} FROM import_diff WHERE id IS NULL ORDER BY video_id
  ON CONFLICT (video_id) DO NOTHING
  RETURNING id, video_id, title, channel_display_name
), audited AS (
  {_audited("create", created_changes)}
  FROM x JOIN import_diff d ON d.video_id = x.video_id AND d.id IS NULL RETURNING 1
) SELECT count(*) FROM audited
"""
        ),
        params,
    )
    if created != outcome.created:
        raise ConcurrentChange(f"{plural(outcome.created - created, 'video')} created meanwhile")
    outcome.timings["insert"] = clock.lap()
    for name, spec in layout.custom.items():
        _write_custom(name, spec)
    if updated or created:
        _clean_gin_pending_lists(("videos", "channels"))
        outcome.timings["gin"] = clock.lap()


def _write_custom(name: str, spec: Field) -> None:
    """Write the changed values of one custom field's column (the videos are written
    already, so the new ones have their ids): upsert the values, delete the emptied ones."""
    column = CUSTOM_OLD[spec.kind].split("::")[0]
    _sql(f"""
WITH target AS (
  SELECT v.id AS video_id, d.{name} AS value
  FROM import_diff d JOIN videos v ON v.video_id = d.video_id
  WHERE d.{name}__changed ORDER BY v.id
), removed AS (
  DELETE FROM video_field_values f USING target t
  WHERE f.video_id = t.video_id AND f.field_id = {spec.field_id} AND t.value IS NULL
)
INSERT INTO video_field_values (video_id, field_id, {column})
SELECT video_id, {spec.field_id}, value FROM target WHERE value IS NOT NULL
ON CONFLICT ON CONSTRAINT uq_video_field_values_video_id_field_id
DO UPDATE SET {column} = EXCLUDED.{column}, updated_at = now()
""")


def _clean_gin_pending_lists(written: tuple[str, ...]) -> None:
    """Merge the GIN indexes' pending lists into the indexes, once, in bulk.

    Every video an import changes is updated outside HOT (views and updated_at are indexed),
    so each one adds its ~50 search trigrams to the GIN index's pending list. With the
    default limit (4 MB) the list is merged again and again during the import, which costs
    more than the rest of the UPDATE; the import raises the limit for its own transaction
    (_prepare) and merges once here, at the end, instead of leaving a long list for the
    next writer (a person saving a video) to merge. Needs the indexes' owner: without that
    right the merge is left to autovacuum."""
    tables = ", ".join(f"'{table}'::regclass" for table in written)
    names = _sql(
        "SELECT i.indexrelid::regclass::text FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
        f"WHERE am.amname = 'gin' AND i.indrelid IN ({tables})"
    ).scalars()
    for name in list(names):
        savepoint = db.session.begin_nested()
        try:
            db.session.execute(
                text("SELECT gin_clean_pending_list(CAST(:i AS regclass))"), {"i": name}
            )
        except DBAPIError:
            savepoint.rollback()
        else:
            savepoint.commit()


# -- the whole ----------------------------------------------------------------------------------


def _prepare() -> None:
    # The import's own settings, for this transaction only: dates without a zone are UTC,
    # and sorts and hashes of a large report stay in memory.
    _sql("SET LOCAL timezone = 'UTC'")
    _sql("SET LOCAL work_mem = '256MB'")
    # GIN indexes collect what the import adds and merge it once, at the end (see
    # _clean_gin_pending_lists).
    _sql("SET LOCAL gin_pending_list_limit = '256MB'")
    for statement in HELPER_FUNCTIONS:
        _sql(statement)


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
    clock = _Clock()
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
    layout = _with_custom_fields(layout)
    outcome.ignored_columns = list(layout.ignored)
    _typed_rows(layout)
    _sql("ANALYZE import_rows")
    _counts(outcome, rejected, layout)
    timings["read"] = clock.lap()
    _categories(outcome, layout)
    _collect_audit()
    _channels(outcome, layout, params)
    timings["channels"] = clock.lap()
    merged = _merge(outcome, layout)
    timings["merge"] = clock.lap()
    columns = _diff(layout, merged)
    _summarize(outcome)
    timings["diff"] = clock.lap()
    if apply:
        _apply(outcome, layout, columns, params)
        timings["apply"] = clock.lap()
        _record_audit(params)
        _clean_gin_pending_lists(("metadata_syncs",))
        outcome.batch_id = str(batch_id)
        timings["audit"] = clock.lap()
    return outcome


class _Clock:
    def __init__(self):
        self.last = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        elapsed, self.last = now - self.last, now
        return round(elapsed, 3)


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
