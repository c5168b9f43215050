"""The set-based import of one report file: stream → COPY → SQL.

1. Stage (staging.py). The file is streamed (never held whole) into a temporary table of
   text columns, one per file column, by COPY in 1 MiB chunks. The fast path hands the
   bytes to PostgreSQL's own CSV parser, which is what a plain COPY costs. A file it
   refuses (a blank line, a wrong number of values, an unterminated quote, a NUL byte,
   bytes that are not UTF-8) is staged again through Python's csv module, row by row, so
   that each bad row is skipped and reported instead of failing the file, and a file-level
   problem (another encoding) gets its own clear message.
1b. Set aside (unchanged.py). Most rows of a real report say what the catalog holds: each
   row of a video with one row in the file is compared, as text, with its video written as
   a report writes it; a row that proves to change nothing (every cell reads back as the
   video's value and passes its check) goes to `import_same` and skips steps 2, 4 and 5.
   Anything in doubt takes the full path, which decides as before.
2. Read (checking.py). One statement turns the text of the other rows into typed fields
   and, per row, whether it is refused (cells.value_sql, cells.check_sql): `import_rows`.
   Unreadable cells that do not refuse their row become warnings (unreadable.py).
3. Channels (lookups.py, with the categories and the custom fields a file names). The
   report's channels that the catalog does not know are created, renamed ones take the
   report's name; both audited (entity "channel"), set-based.
4. Merge (merge.py). One row per video: for YouTube's report the claim rows of a video
   become one video (see merge.py), for the Catalog Tool format the latest row wins. Most
   videos have one row; only those with several are sorted and merged.
5. Diff (merge.py). The merged rows are joined to the catalog; only videos that are new or
   differ in a field the file carries are kept, each with its delta {field: [old, new]}
   built in SQL (jsonb_build_object over IS DISTINCT FROM, jsonb_strip_nulls):
   `import_diff`.
6. Apply (writing.py; not for a preview). UPDATE the changed videos (version + 1,
   updated_at) and INSERT the new ones, collecting each one's audit row in `import_audit`
   (as step 3 does for channels); the audit rows (source "report", the report's id, one
   batch id whose first row carries the batch's size) are written last, in one statement,
   just before the commit: the first audit row of a transaction holds the audit hash chain
   until commit (migration 0010), and every other writer waits for it. Unchanged videos
   write nothing.

pipeline.py runs the steps in this order; outcome.py holds what they report (Outcome).

What it costs, in backend CPU seconds (1,000,000 rows against a catalog of 1,000,000
videos, 2% new, 10% changed; measured on the benchmark's shared 2-core machine, so read the
proportions): setting the unchanged rows aside ~7.5 (one hash join with the catalog and
~30 text comparisons a row; typing a row costs half as much again, and the old diff joined
every row), reading and checking the other rows ~2.5, diff ~2.5, staging a few (what
PostgreSQL's COPY parse costs), and writing ~17 of the ~42 in all: the UPDATE ~11, nearly
all of it the videos' own index maintenance (every changed video is updated outside HOT:
views and updated_at are indexed, so each adds entries to all of the indexes, the trigram
GIN included; setting only the columns that changed measured the same), the GIN clean-up
~4.5, and the audit rows ~4.5. Python's memory stays at ~100 MB whatever the file's size.

Everything happens in the caller's transaction; the staging tables are temporary and
dropped at its end (ON COMMIT DROP). A preview runs steps 1-5 inside a savepoint that is
rolled back, so it changes nothing, channels included.

What an empty cell means: for a column the file has, empty is empty (the report is the
truth for what it carries) — except the channel, the category and the Yes/No flags (NOT
NULL), which an empty cell leaves as they are. A column the file does not have is never
touched. An import never blanks what it cannot read: an unreadable date keeps the date a
video has (a video the import creates gets none) and is listed as a
warning (row, column, value, reason); any other unreadable cell refuses its row. An
unknown category name leaves the category as it is (a note says so).

The catalog's own CSV export (/videos/export.csv) is read as the Catalog Tool format with
every column it writes: the formula-neutralising quote of its cells is taken off
(csvexport.NEUTRALISED_SQL), and a column named as a custom field is that field's values,
checked against its type, written beside the video's other changes in its audit row
("field:Name"), as the edit form does. Exported and imported back, a catalog is unchanged.
"""

from catalog.reports.importer.outcome import ConcurrentChange, Outcome
from catalog.reports.importer.pipeline import apply, preview
from catalog.reports.importer.staging import Opener, Progress
from catalog.web.text import plural

__all__ = ["ConcurrentChange", "Opener", "Outcome", "Progress", "apply", "plural", "preview"]
