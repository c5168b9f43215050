"""Step 1, staging: the stored file streamed into `import_raw`, a temporary table of text
columns (one per file column), by COPY in 1 MiB chunks.

The fast path hands the bytes to PostgreSQL's own CSV parser, which is what a plain COPY
costs. A file it refuses (a blank line, a wrong number of values, an unterminated quote, a
NUL byte, bytes that are not UTF-8) is staged again through Python's csv module, row by
row, so that each bad row is skipped and reported instead of failing the file, and a
file-level problem (another encoding) gets its own clear message.
"""

import csv
import gzip
import hashlib
import io
import itertools
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import psycopg

from catalog.extensions import db
from catalog.reports.formats import (
    GZIP_MAGIC,
    Layout,
    ReportFileError,
    detect,
    looks_binary,
    sniff,
)
from catalog.reports.importer.outcome import MAX_ROW_ERRORS
from catalog.reports.importer.sql import driver, run_sql
from catalog.web.text import plural

CHUNK = 1 << 20
HEADER_LIMIT = 1 << 20  # a header line longer than this is no report
# A lone "\." line ends COPY's input early (PostgreSQL < 18); such a file takes the
# Python path, which reads it as data.
END_OF_DATA = re.compile(rb"(?:^|\n)\\\.\r?(?:\n|$)")

Opener = Callable[[], BinaryIO]
Progress = Callable[[float], None]


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


def _columns(count: int) -> str:
    return ", ".join(f"c{n}" for n in range(1, count + 1))


def _create_raw(count: int) -> None:
    run_sql("DROP TABLE IF EXISTS pg_temp.import_raw")
    run_sql(
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
        driver().cursor() as cursor,
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
        # The last line keeps the file's own line end: PostgreSQL refuses a "\n" after
        # lines ended by "\r\n" (a spreadsheet's CSV), which sent such files, whole, to
        # the row-by-row path.
        data = pending.rstrip(b"\r\n")
        if _ends_early(carry + data):
            raise _FallBack
        if data:
            ending = pending[len(data) :]
            copy.write(data + (b"\r\n" if ending.startswith(b"\r\n") else ending[:1]))


@dataclass
class Rejected:
    """Rows the Python path refused before staging: counted and (some) kept for reading."""

    count: int = 0
    blank: int = 0
    errors: list[dict] = field(default_factory=list)

    def add(self, row: int, column: str, reason: str) -> None:
        self.count += 1
        if len(self.errors) < MAX_ROW_ERRORS:
            self.errors.append({"row": row, "column": column, "reason": reason})


def _copy_rows(source: _Source, header: list[str], progress, size: int) -> Rejected:
    """Stage the file row by row: blank rows skipped, bad rows refused and reported."""
    rejected = Rejected()
    count = len(header)
    lines = source.lines()
    first = next(lines, "")
    # The header, already understood; a BOM before it is no part of the data.
    reader = csv.reader(itertools.chain([first.removeprefix("\ufeff")], lines))
    next(reader, None)
    row_no = 1
    with (
        driver().cursor() as cursor,
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
) -> tuple[Layout, Rejected, str, int]:
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
            return layout, Rejected(), *source.finish()
    finally:
        source.release()
    # The Python path: a fresh pass from the first byte.
    source = _Source(opener, max_bytes)
    try:
        rejected = _copy_rows(source, header, progress, size)
        return layout, rejected, *source.finish()
    finally:
        source.release()
