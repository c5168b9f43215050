"""What a report file is: its kind (sniffed from its first bytes), its format (detected from
its header) and how each of its cells becomes a video field (SQL, run over the staged rows).

Two formats are known:

- `youtube`: YouTube Content Manager's video report (`content_owner_video_metadata` a2/a4,
  and the CSV the Videos screen downloads): snake_case columns, one row per claim, so a
  video may have several rows; they are merged into one video (importer/merge.py).
- `catalog`: the Catalog Tool's own import format; the latest row of a video wins. The
  catalog's own CSV export is read as this format too, with all its columns (and custom
  fields, matched by name in the importer).

Headers match whatever their case, spaces, underscores or hyphens ("Video ID" is
`video_id`). Cells are validated in SQL over the whole staged file at once (never row by
row in Python): per field, `value_sql` gives the expression of its value and `check_sql`
the condition and the reason a cell is refused. A refused cell rejects its row; the row's
number, column and reason are reported; an unreadable cell of a SOFT_KINDS field (a date)
does not: the row stays and the cell is listed as a warning.
"""

import re
from dataclasses import dataclass, field

from catalog.models.video import ENGAGEMENT_FIELDS, MONETIZATION_FIELDS

# The videos' Yes/No booleans (NOT NULL), which only the catalog's own export carries.
FLAGS = ("hidden", "administered", "is_short", "is_live_stream", "published", "is_hero")

# Most columns a file may have: the staging table has one column per file column.
MAX_COLUMNS = 500
LONG_TEXT = 10_000  # effective_policy, other_owners_claiming: text, but not a novel
VIDEO_ID_PATTERN = "^[A-Za-z0-9_-]{11}$"
CHANNEL_ID_PATTERN = "^UC[A-Za-z0-9_-]{22}$"
ISRC_PATTERN = "^[A-Z]{2}[A-Z0-9]{3}[0-9]{2}[0-9]{5}$"
UPC_PATTERN = "^[0-9]{12,13}$"


class ReportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why, for the person who
    uploaded it. Nothing is changed."""


def normalize(name: str) -> str:
    """A header name as it is matched: lower case, without spaces, underscores or hyphens
    (and without a byte-order mark or quotes a spreadsheet may leave)."""
    return re.sub(r"[\s_\-\ufeff\"']+", "", name).lower()


# -- the fields a report can fill ------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One staged field: how its cells are read. `kind` picks the SQL (see value_sql, check_sql)."""

    name: str
    kind: str
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    # A custom field's column (kind custom_<type>): the field's id and its audit key.
    field_id: int | None = None
    key: str = ""


FIELDS = {
    f.name: f
    for f in (
        Field("video_id", "video_id"),
        Field("channel_key", "channel_id"),
        Field("channel_name", "text", 200),
        Field("title", "text", 200),
        Field("time_published", "timestamp"),
        Field("video_length", "duration"),
        Field("views", "count"),
        Field("privacy_status", "choice", choices=("public", "private", "unlisted")),
        Field("category", "text", 100),
        Field("claimed_status", "choice", choices=("claim", "appeal", "dispute")),
        Field("claimed_by_this_owner", "yes_no"),
        Field("claim_id", "text", 100),
        Field("claimed_by_another_owner", "yes_no"),
        Field("other_owners_claiming", "text", LONG_TEXT),
        Field("asset_id", "text", 50),
        Field("custom_id", "text", 100),
        Field("effective_policy", "text", LONG_TEXT),
        Field("isrc", "isrc"),
        Field("upload_source", "text", 20),
        *(Field(name, "yes_no") for name in (*MONETIZATION_FIELDS, *ENGAGEMENT_FIELDS)),
        # What only the catalog's own CSV export carries (YouTube's report has none of it).
        Field("artist", "list", 200),
        Field("genre", "list", 100),
        Field("label", "text", 200),
        Field("upc", "upc"),
        Field("notes", "text", 500),
        *(Field(name, "flag") for name in FLAGS),
        Field("administered_at", "timestamp"),
    )
}

# Kinds whose unreadable cell does not refuse its row: the catalog keeps the value it has
# (a video the import creates gets none) and the preview lists the cell as a warning.
# The original Catalog Tool's "invalid dates become null" is right only for a new video.
SOFT_KINDS = ("timestamp",)

# Columns both formats may carry under the same name.
_SETTINGS = {name: name for name in (*MONETIZATION_FIELDS, *ENGAGEMENT_FIELDS)}


@dataclass(frozen=True)
class Format:
    key: str
    label: str
    # report column name (as YouTube or the Catalog Tool spell it) → staged field
    columns: dict[str, str]
    required: tuple[str, ...]
    # Columns that only this format has: they decide which format a header is.
    distinctive: frozenset[str] = field(default_factory=frozenset)
    # Columns this format is known to carry that are not imported, and why (not listed as
    # "not imported", which is for columns the importer does not know).
    read_only: dict[str, str] = field(default_factory=dict)


YOUTUBE = Format(
    key="youtube",
    label="YouTube Content Manager video report",
    columns={
        "video_id": "video_id",
        "channel_id": "channel_key",
        "channel_display_name": "channel_name",
        "video_title": "title",
        "time_published": "time_published",
        "video_length": "video_length",
        "views": "views",
        "video_privacy_status": "privacy_status",
        "category": "category",
        "claimed_by_this_owner": "claimed_by_this_owner",
        "claim_id": "claim_id",
        "claimed_by_another_owner": "claimed_by_another_owner",
        "other_owners_claiming": "other_owners_claiming",
        "asset_id": "asset_id",
        "custom_id": "custom_id",
        "effective_policy": "effective_policy",
        "isrc": "isrc",
        "upload_source": "upload_source",
        **_SETTINGS,
    },
    required=("video_id", "channel_id", "video_title"),
    distinctive=frozenset(
        {
            "video_title",
            "video_privacy_status",
            "channel_display_name",
            "time_published",
            "time_uploaded",
            "video_length",
            "claim_id",
            "claimed_by_this_owner",
            "claim_origin",
            "content_type",
            "video_url",
            "offweb_syndicatable",
            "third_party_video_id",
            "eidr",
            "engaged_views",
            "in_video_ads_enabled",
        }
    ),
)

CATALOG = Format(
    key="catalog",
    label="Catalog Tool import",
    columns={
        "video_id": "video_id",
        "title": "title",
        "channel_id": "channel_key",
        "channel_name": "channel_name",
        "published_at": "time_published",
        "duration": "video_length",
        "views": "views",
        "privacy_status": "privacy_status",
        "claimed_status": "claimed_status",
        "effective_policy": "effective_policy",
        # Beyond the original format: the other report fields, under the names the
        # catalog's own CSV export uses.
        "asset_id": "asset_id",
        "custom_id": "custom_id",
        "isrc": "isrc",
        "upload_source": "upload_source",
        "category": "category",
        "claimed_by_another_owner": "claimed_by_another_owner",
        "other_owners_claiming": "other_owners_claiming",
        **_SETTINGS,
        # The catalog's own CSV export (/videos/export.csv) names these as the videos do;
        # with them the export imports back as it is.
        "time_published": "time_published",
        "video_length": "video_length",
        "channel": "channel_name",
        "artist": "artist",
        "genre": "genre",
        "label": "label",
        "upc": "upc",
        "notes": "notes",
        **{name: name for name in FLAGS},
        "administered_at": "administered_at",
    },
    required=("video_id", "title"),
    distinctive=frozenset(
        {
            "title",
            "channel_name",
            "published_at",
            "duration",
            "privacy_status",
            "claimed_status",
            "likes",
        }
    ),
    read_only={
        "updated_at": "the time of the last change is the catalog's own: an import that "
        "changes a video sets it",
    },
)

FORMATS = {f.key: f for f in (YOUTUBE, CATALOG)}


@dataclass(frozen=True)
class Layout:
    """A header understood: the format, and for each staged field the file column (0-based)
    it is read from."""

    format: Format
    header: tuple[str, ...]
    fields: dict[str, int]
    ignored: tuple[str, ...]
    # The columns of custom fields (the catalog's export has one per field), by staged name
    # ("cf_<field id>"); they are in `fields` too.
    custom: dict[str, Field] = field(default_factory=dict)

    def column_name(self, index: int) -> str:
        return self.header[index] if 0 <= index < len(self.header) else ""

    def spec(self, name: str) -> Field:
        return self.custom[name] if name in self.custom else FIELDS[name]


CUSTOM_KINDS = {
    "text": "custom_text",
    "select": "custom_select",
    "rating": "custom_rating",
    "boolean": "custom_boolean",
}
CUSTOM_TEXT_LIMIT = 2000  # as catalog.videos.custom_values.clean


def custom_field(field_id: int, name: str, field_type: str, config: dict) -> Field:
    """The staged field of a custom field's column."""
    return Field(
        f"cf_{field_id}", CUSTOM_KINDS[field_type],
        max_length=config.get("max_rating") if field_type == "rating" else CUSTOM_TEXT_LIMIT,
        choices=tuple(config.get("options") or ()) if field_type == "select" else (),
        field_id=field_id, key=f"field:{name}",
    )  # fmt: skip


def sql_literal(value: str) -> str:
    """A text people chose (a custom field's name or options) as an SQL literal. No percent
    sign may reach the driver (it would read a parameter), hence chr(37)."""
    quoted = "'" + value.replace("'", "''") + "'"
    return quoted.replace("%", "' || chr(37) || '")


def detect(header: list[str]) -> Layout:
    """Which format `header` is, and where each field is; ReportFileError naming the missing
    columns when it is neither."""
    if len(header) > MAX_COLUMNS:
        raise ReportFileError(
            f"The file has {len(header):,} columns; a report has at most {MAX_COLUMNS}."
        )
    if len(header) == 1 and re.search(r"[;\t|]", header[0]):
        raise ReportFileError(
            "The header is one single column: the file seems to use semicolons or tabs "
            "between values. Save it as CSV with commas (“CSV UTF-8” in Excel)."
        )
    keys = [normalize(name) for name in header]
    present = set(keys)

    def score(fmt: Format) -> tuple[bool, int]:
        complete = all(normalize(c) in present for c in fmt.required)
        return complete, sum(normalize(c) in present for c in fmt.distinctive)

    best = max(FORMATS.values(), key=score)
    complete, distinctive = score(best)
    if not complete:
        if distinctive:
            missing = [c for c in best.required if normalize(c) not in present]
            raise ReportFileError(
                f"This looks like a {best.label}, but it lacks the column"
                f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}."
            )
        shown = ", ".join(h for h in header[:12] if h.strip()) or "(none)"
        raise ReportFileError(
            "Unknown report format. A "
            + "; a ".join(
                f"{f.label} needs the columns {', '.join(f.required)}" for f in FORMATS.values()
            )
            + f". This file's columns are: {shown}{'…' if len(header) > 12 else ''}."
        )
    by_key = {normalize(column): target for column, target in best.columns.items()}
    read_only = {normalize(column) for column in best.read_only}
    fields: dict[str, int] = {}
    ignored = []
    for index, key in enumerate(keys):
        target = by_key.get(key)
        if target is None and key in read_only:
            continue
        if target is None or target in fields:  # the first of two same-named columns wins
            if header[index].strip():
                ignored.append(header[index].strip())
            continue
        fields[target] = index
    return Layout(best, tuple(header), fields, tuple(ignored))


# -- what kind of file it is -----------------------------------------------------------------

GZIP_MAGIC = b"\x1f\x8b"


def sniff(head: bytes) -> None:
    """Refuse, with a clear reason, a file that is no CSV text at all (`head`: its first
    bytes, already decompressed)."""
    if not head.strip():
        raise ReportFileError("The file is empty.")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise ReportFileError(
            "This is a ZIP archive (or an Excel workbook), not a CSV file. Unzip it, or save "
            "the sheet as “CSV UTF-8”, and upload the .csv (or .csv.gz)."
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReportFileError("This is an old Excel workbook (.xls), not a CSV file.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16_without_bom(head):
        raise ReportFileError(
            "The file is UTF-16 text; reports must be UTF-8. "
            "Save it as “CSV UTF-8” and upload it again."
        )
    if head.startswith(b"%PDF"):
        raise ReportFileError("This is a PDF document, not a CSV file.")
    if looks_binary(head):
        raise ReportFileError(
            "This is a binary file (an image, an archive or a program, say), not CSV text. "
            "Upload the report as a .csv (or .csv.gz) file."
        )


def _utf16_without_bom(head: bytes) -> bool:
    """UTF-16 text of mostly Latin letters: every other byte is a NUL."""
    even, odd = head[0::2], head[1::2]
    return len(head) >= 4 and max(even.count(0), odd.count(0)) * 10 > len(odd) * 9


# Bytes no text file holds: the C0 controls but tab, line feed, form feed and carriage
# return, and DEL. (UTF-16 text, full of NULs, is told apart before this is asked.)
_CONTROL = bytes([*range(0x09), 0x0B, *range(0x0E, 0x20), 0x7F])


def looks_binary(data: bytes) -> bool:
    """Whether `data` (the first bytes of a file, or a line) is binary rather than text in
    some encoding: more than 2 % control bytes (a text in Latin-1 has none, random bytes
    ~13 %; a stray NUL in a CSV is a bad row, reported as such, not a binary file)."""
    controls = len(data) - len(data.translate(None, _CONTROL))
    return controls > 1 and controls * 50 > len(data)


# -- reading cells, in SQL ---------------------------------------------------------------------
# Each field is read in two steps over the staged text: its value (NULL when the cell is
# empty or unreadable) and its error (a reason when the cell refuses the row, else NULL).
# Reasons are fixed text plus the cell itself, cut short; no cell ever becomes SQL.


def _snippet(v: str) -> str:
    return f"left({v}, 40)"


YES_NO_SQL = (
    "CASE {v} WHEN 'Yes' THEN 'Yes' WHEN 'No' THEN 'No' ELSE CASE lower({v}) "
    "WHEN 'yes' THEN 'Yes' WHEN 'y' THEN 'Yes' WHEN 'true' THEN 'Yes' WHEN '1' THEN 'Yes' "
    "WHEN 'no' THEN 'No' WHEN 'n' THEN 'No' WHEN 'false' THEN 'No' WHEN '0' THEN 'No' END END"
)
# Whole numbers: plain digits (checked without a regular expression: this is the common
# case, a million times per report), with thousands separators, or a spreadsheet's "123.0".
DIGITS = "'0123456789'"
COUNT_SQL = (
    "CASE WHEN length({v}) <= 18 AND translate({v}, " + DIGITS + ", '') = '' THEN {v}::bigint "
    "WHEN {v} ~ '^[0-9]{{1,3}}(,[0-9]{{3}}){{1,5}}$' THEN replace({v}, ',', '')::bigint "
    "WHEN {v} ~ '^[0-9]{{1,18}}\\.0*$' THEN split_part({v}, '.', 1)::bigint END"
)
# Seconds as a number, M:SS or H:MM:SS, read inline (a report may have them on every row);
# anything else (ISO 8601 PT#M#S) goes through the helper, which is slow but rare.
DURATION_SQL = (
    "CASE WHEN length({v}) <= 9 AND translate({v}, " + DIGITS + ", '') = '' THEN {v}::integer "
    "WHEN length({v}) <= 9 AND translate({v}, " + DIGITS + ", '') = ':' "
    "AND strpos({v}, ':') BETWEEN 2 AND 7 AND length({v}) = strpos({v}, ':') + 2 "
    "THEN CASE WHEN right({v}, 2)::integer <= 59 "
    "THEN split_part({v}, ':', 1)::integer * 60 + right({v}, 2)::integer END "
    "WHEN length({v}) <= 10 AND translate({v}, " + DIGITS + ", '') = '::' "
    "AND length(split_part({v}, ':', 1)) BETWEEN 1 AND 4 "
    "AND length(split_part({v}, ':', 2)) = 2 AND length(split_part({v}, ':', 3)) = 2 "
    "THEN CASE WHEN split_part({v}, ':', 2)::integer <= 59 "
    "AND split_part({v}, ':', 3)::integer <= 59 "
    "THEN split_part({v}, ':', 1)::integer * 3600 + split_part({v}, ':', 2)::integer * 60 "
    "+ split_part({v}, ':', 3)::integer END "
    "WHEN {v} IS NOT NULL THEN pg_temp.report_seconds({v}) END"
)
# Other ISO 8601 shapes (another fraction, no zone…) are checked inline too, part by part:
# the shape first (digits where they belong), then, the parts being digits, their ranges
# (30 February is no date: NULL). The casts to integer sit in a CASE of their own, so they
# never see anything but digits. Anything else goes through the helper: slow, but rare.
_TIMESTAMP_GENERAL = (
    "CASE WHEN translate({v}, " + DIGITS + ", '') IN ('--', '--T::', '-- ::', '--T::Z', "
    "'-- ::Z', '--T::.', '-- ::.', '--T::.Z', '-- ::.Z') "
    "AND substr({v}, 5, 1) = '-' AND substr({v}, 8, 1) = '-' "
    "AND (length({v}) = 10 OR (substr({v}, 11, 1) IN ('T', ' ') "
    "AND substr({v}, 14, 1) = ':' AND substr({v}, 17, 1) = ':' AND length({v}) <= 27 "
    "AND (length({v}) = 19 OR substr({v}, 20) = 'Z' OR (substr({v}, 20, 1) = '.' "
    "AND substr({v}, 21, 1) BETWEEN '0' AND '9' AND strpos({v}, 'Z') IN (0, length({v}))))))"
    " THEN CASE WHEN substr({v}, 1, 4)::integer >= 1 "
    "AND substr({v}, 6, 2)::integer BETWEEN 1 AND 12 "
    "AND substr({v}, 9, 2)::integer BETWEEN 1 AND CASE substr({v}, 6, 2)::integer "
    "WHEN 2 THEN CASE WHEN mod(substr({v}, 1, 4)::integer, 4) = 0 "
    "AND (mod(substr({v}, 1, 4)::integer, 100) <> 0 "
    "OR mod(substr({v}, 1, 4)::integer, 400) = 0) "
    "THEN 29 ELSE 28 END WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30 "
    "ELSE 31 END "
    "AND CASE WHEN length({v}) = 10 THEN true ELSE substr({v}, 12, 2)::integer <= 23 "
    "AND substr({v}, 15, 2)::integer <= 59 AND substr({v}, 18, 2)::integer <= 59 END "
    "THEN {v}::timestamptz END "
    "WHEN {v} IS NOT NULL THEN pg_temp.report_timestamp({v}) END"
)
# The shapes YouTube writes, exactly (2023-05-02T12:30:00.000Z, …Z, "… 12:30:00", a date):
# a million dates are checked with a few one-character comparisons; days 29 to 31 only
# also ask the calendar.
_DAYS_IN_MONTH = (
    "CASE substr({v}, 6, 2)::integer WHEN 2 THEN CASE WHEN mod(substr({v}, 1, 4)::integer, 4) = 0 "
    "AND (mod(substr({v}, 1, 4)::integer, 100) <> 0 "
    "OR mod(substr({v}, 1, 4)::integer, 400) = 0) THEN 29 ELSE 28 END "
    "WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30 ELSE 31 END"
)
TIMESTAMP_SQL = (
    "CASE WHEN ({v} LIKE '____-__-__T__:__:__.___Z' OR {v} LIKE '____-__-__T__:__:__Z' "
    "OR {v} LIKE '____-__-__ __:__:__' OR {v} LIKE '____-__-__') "
    "AND translate({v}, " + DIGITS + ", '') IN ('--T::.Z', '--T::Z', '-- ::', '--') "
    "THEN CASE WHEN substr({v}, 1, 4) COLLATE \"C\" >= '0001' "
    "AND substr({v}, 6, 2) COLLATE \"C\" BETWEEN '01' AND '12' "
    "AND substr({v}, 9, 2) COLLATE \"C\" BETWEEN '01' AND '31' "
    "AND (substr({v}, 9, 2) COLLATE \"C\" <= '28' "
    "OR substr({v}, 9, 2)::integer <= " + _DAYS_IN_MONTH + ") "
    "AND (length({v}) = 10 OR (substr({v}, 12, 2) COLLATE \"C\" <= '23' "
    "AND substr({v}, 15, 1) COLLATE \"C\" <= '5' AND substr({v}, 18, 1) COLLATE \"C\" <= '5')) "
    "THEN {v}::timestamptz END "
    "ELSE " + "{general}" + " END"
)

# The helpers: temporary functions, created by the import in its own session. (No percent
# signs: the driver would read them as parameters.)
HELPER_FUNCTIONS = (
    r"""
CREATE OR REPLACE FUNCTION pg_temp.report_seconds(t text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN m IS NOT NULL AND length(coalesce(m[1], '')) <= 4 AND length(m[2]) <= 6
      THEN coalesce(m[1]::integer, 0) * 3600 + m[2]::integer * 60 + m[3]::integer
    WHEN p IS NOT NULL AND t <> 'PT' AND t <> 'P' AND length(coalesce(p[1], '')) <= 3
         AND length(coalesce(p[2], '')) <= 4 AND length(coalesce(p[3], '')) <= 6
         AND length(coalesce(p[4], '')) <= 7
      THEN coalesce(p[1]::integer, 0) * 86400 + coalesce(p[2]::integer, 0) * 3600
         + coalesce(p[3]::integer, 0) * 60 + coalesce(p[4]::integer, 0)
  END
  FROM (SELECT regexp_match(t, '^(?:([0-9]+):)?([0-9]+):([0-5][0-9])$') AS m,
               regexp_match(t, '^P(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)S)?)?$')
                 AS p) parts
$$
""",
    r"""
CREATE OR REPLACE FUNCTION pg_temp.report_timestamp(t text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN m IS NULL THEN NULL
    WHEN m[1]::integer < 1 OR m[2]::integer NOT BETWEEN 1 AND 12 THEN NULL
    WHEN m[3]::integer NOT BETWEEN 1 AND extract(day FROM make_date(m[1]::integer,
         m[2]::integer, 1) + interval '1 month - 1 day')::integer THEN NULL
    WHEN coalesce(m[4]::integer, 0) > 23 OR coalesce(m[5]::integer, 0) > 59
         OR coalesce(m[6]::numeric, 0) >= 60 THEN NULL
    WHEN m[8] IS NOT NULL AND (m[8]::integer > 15 OR coalesce(m[9]::integer, 0) > 59)
      THEN NULL
    ELSE (m[1] || '-' || m[2] || '-' || m[3] || ' ' || coalesce(m[4], '0') || ':'
          || coalesce(m[5], '0') || ':' || coalesce(m[6], '0')
          || CASE WHEN m[8] IS NULL THEN '+00'
                  ELSE m[7] || m[8] || ':' || coalesce(m[9], '00') END)::timestamptz
  END
  FROM regexp_match(btrim(t), '^([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})'
       '(?:[T ]+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}(?:\.[0-9]{1,6})?))?)?'
       '\s*(?:Z|UTC|GMT|([+-])([0-9]{2}):?([0-9]{2})?)?$') AS m
$$
""",
)


def value_sql(f: Field, cell: str) -> str:
    """The SQL of field `f`'s value read from `cell` (trimmed, NULL when empty)."""
    if f.kind == "count":
        return COUNT_SQL.format(v=cell)
    if f.kind == "duration":
        return DURATION_SQL.format(v=cell)
    if f.kind == "timestamp":
        return TIMESTAMP_SQL.format(v=cell, general=_TIMESTAMP_GENERAL.format(v=cell))
    if f.kind == "yes_no":
        return YES_NO_SQL.format(v=cell)
    if f.kind == "choice":
        quoted = ", ".join(f"'{c}'" for c in f.choices)
        return f"CASE WHEN lower({cell}) IN ({quoted}) THEN lower({cell}) END"
    if f.kind == "isrc":
        return f"upper(replace(replace({cell}, '-', ''), ' ', ''))"
    if f.kind == "flag":
        return f"CASE {YES_NO_SQL.format(v=cell)} WHEN 'Yes' THEN true WHEN 'No' THEN false END"
    if f.kind == "custom_text":
        return cell
    if f.kind == "custom_select":
        options = ", ".join(sql_literal(option) for option in f.choices) or "NULL"
        return f"CASE WHEN {cell} IN ({options}) THEN {cell} END"
    if f.kind == "custom_rating":  # a whole number (a spreadsheet may write 4.0) in 1..max
        return (
            f"CASE WHEN {cell} ~ '^[0-9]{{1,4}}([.]0*)?$' "
            f"AND split_part({cell}, '.', 1)::integer BETWEEN 1 AND {int(f.max_length or 0)} "
            f"THEN split_part({cell}, '.', 1)::integer END"
        )
    if f.kind == "custom_boolean":
        return f"CASE {YES_NO_SQL.format(v=cell)} WHEN 'Yes' THEN true WHEN 'No' THEN false END"
    if f.kind == "list":
        # Items as the export joins them ("a; b"); an empty cell is the empty list. As
        # varchar[], the videos' type (varchar[] and text[] do not compare).
        return (
            f"coalesce(array_remove(regexp_split_to_array({cell}, '[[:space:]]*;[[:space:]]*'), "
            "'')::varchar[], '{}'::varchar[])"
        )
    return cell


def check_sql(f: Field, cell: str, value: str) -> tuple[str, str] | None:
    """(condition, reason): SQL true when `cell` (its value `value`) refuses its row, and
    the SQL of the reason given. None when every cell of the field is accepted."""
    snippet = _snippet(cell)
    unreadable = f"{cell} IS NOT NULL AND {value} IS NULL"
    if f.kind == "video_id":
        return (
            f"{cell} !~ '{VIDEO_ID_PATTERN}'",
            f"'not a YouTube video id (11 letters, digits, - or _): ' || {snippet}",
        )
    if f.kind == "channel_id":
        return (
            f"{cell} !~ '{CHANNEL_ID_PATTERN}'",
            f"'not a YouTube channel id (UC and 22 letters, digits, - or _): ' || {snippet}",
        )
    if f.kind == "text":
        return (
            f"length({cell}) > {f.max_length}",
            f"'longer than {f.max_length:,} characters (' || length({cell}) || ')'",
        )
    if f.kind == "count":
        return unreadable, f"'not a whole number: ' || {snippet}"
    if f.kind == "duration":
        return unreadable, f"'not a duration (seconds, H:MM:SS or PT#M#S): ' || {snippet}"
    if f.kind == "timestamp":
        return None  # a SOFT_KINDS field: an unreadable date becomes empty; the row stays
    if f.kind == "yes_no":
        return unreadable, f"'expected Yes or No: ' || {snippet}"
    if f.kind == "choice":
        return unreadable, f"'expected one of {', '.join(f.choices)}: ' || {snippet}"
    if f.kind == "isrc":
        return (
            f"{value} !~ '{ISRC_PATTERN}'",
            f"'not an ISRC (e.g. USRC17607839): ' || {snippet}",
        )
    if f.kind == "custom_text":
        return (
            f"length({cell}) > {CUSTOM_TEXT_LIMIT}",
            f"'longer than {CUSTOM_TEXT_LIMIT:,} characters (' || length({cell}) || ')'",
        )
    if f.kind == "custom_select":
        shown = sql_literal(f"expected one of {', '.join(f.choices)}: ")
        return unreadable, f"{shown} || {snippet}"
    if f.kind == "custom_rating":
        return unreadable, f"'expected a rating from 1 to {f.max_length}: ' || {snippet}"
    if f.kind == "custom_boolean":
        return unreadable, f"'expected Yes or No: ' || {snippet}"
    if f.kind == "upc":
        return f"{cell} !~ '{UPC_PATTERN}'", f"'not a UPC (12 or 13 digits): ' || {snippet}"
    if f.kind == "flag":
        return unreadable, f"'expected Yes or No: ' || {snippet}"
    if f.kind == "list":
        return (
            # A cell no longer than the limit has no item longer than it: no unnest.
            f"length({cell}) > {f.max_length} AND "
            f"EXISTS (SELECT FROM unnest({value}) AS item WHERE length(item) > {f.max_length})",
            f"'an item is longer than {f.max_length:,} characters'",
        )
    raise ValueError(f"unknown field kind {f.kind}")
