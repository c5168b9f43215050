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
(both in catalog/reports/cells.py) the condition and the reason a cell is refused. A
refused cell rejects its row; the row's number, column and reason are reported; an
unreadable cell of a SOFT_KINDS field (a date) does not: the row stays and the cell is
listed as a warning.
"""

import re
from dataclasses import dataclass, field

from catalog.channels import service as channel_rules
from catalog.models.video import ENGAGEMENT_FIELDS, MONETIZATION_FIELDS

# The videos' Yes/No booleans (NOT NULL), which only the catalog's own export carries.
FLAGS = ("hidden", "administered", "is_short", "is_live_stream", "published", "is_hero")

# Most columns a file may have: the staging table has one column per file column.
MAX_COLUMNS = 500
LONG_TEXT = 10_000  # effective_policy, other_owners_claiming: text, but not a novel


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
    """One staged field: how its cells are read. `kind` picks the SQL (cells.py)."""

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
        # The channel service's own limit: a name it would refuse refuses the row.
        Field("channel_name", "text", channel_rules.NAME_MAX),
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
