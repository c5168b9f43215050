"""Step 1b, the rows known unchanged: most rows of a real report say what the catalog already
holds. Before anything is typed, each staged row of a video that has one row in the file is
compared, as text, with its video as the catalog holds it, written the way a report writes
it; a row equal in every column the file has is set aside in `import_same` and is never
typed, merged or diffed. Only the other rows go through steps 2-5.

A row is set aside only when its text proves the outcome: every cell reads back as exactly
the video's value (a text as it is, a number in plain digits, a date as YouTube writes it,
Yes/No as they are), passes its column's check, and gives no warning. Anything else (another
spelling of the same value, a second row of the video, a cell this module does not know how
to compare) takes the full path, which decides as it always did: setting a row aside is a
shortcut, never a second set of rules. A file with a column of a kind not compared here
(the catalog export's lists, flags, UPC or custom fields) takes the full path whole.

What the rows set aside still count for: the file's row and video counts, and the channel
names (a channel takes the report's latest name, whichever row carries it; step 3).
"""

from catalog import identifiers
from catalog.channels import service as channel_rules
from catalog.models import Video
from catalog.reports.formats import LONG_TEXT, Layout
from catalog.reports.importer.checking import cell_sql
from catalog.reports.importer.merge import OWNERS
from catalog.reports.importer.sql import run_sql

# The staged rows still to be typed: those not set aside.
REST = (
    "(SELECT r.* FROM import_raw r "
    "WHERE NOT EXISTS (SELECT FROM import_same s WHERE s.row_no = r.row_no))"
)
# A date as YouTube writes it, to the microsecond (years 1 to 9999 have four digits).
US = """to_char(v.{c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
# A cell written with microseconds, milliseconds or whole seconds, as the microsecond form
# (its last character is checked apart: it must be the Z this puts back).
AS_US = (
    "CASE length({cell}) WHEN 27 THEN {cell} WHEN 24 THEN left({cell}, 23) || '000Z' "
    "WHEN 20 THEN left({cell}, 19) || '.000000Z' END"
)
CLAIMED = "('claim', 'appeal', 'dispute')"
CHANNEL_DISPLAY_MAX = Video.__table__.c.channel_display_name.type.length


def _fits(cell: str, limit: int) -> str:
    # As checking._refused measures it: no longer than the limit, in characters.
    return f"(octet_length({cell}) <= {limit} OR length({cell}) <= {limit})"


def _plain(value: str, layout: Layout) -> str:
    """SQL true when the text `value` reads back as itself: a cell is trimmed and an empty
    one is none (checking.CELL), and the catalog's export quotes a text that looks like a
    formula (checking.UNQUOTED_CELL)."""
    plain = f"{value} <> '' AND btrim({value}) = {value}"
    quoted = f" AND left({value}, 1) <> ''''"
    return plain + (quoted if layout.format.key == "catalog" else "")


def _text(name: str, limit: int, layout: Layout) -> str:
    """The cell s.<name> as it is is the video's text (or both are empty), which reads back
    as itself and fits the field's limit (known when the video's column is no longer)."""
    column = Video.__table__.c.get(name)
    bounded = getattr(column.type, "length", None) if column is not None else None
    fits = "" if bounded and bounded <= limit else f" AND {_fits(f's.{name}', limit)}"
    return (
        f"CASE WHEN s.{name} IS NULL THEN v.{name} IS NULL "
        f"ELSE s.{name} = v.{name} AND {_plain(f'v.{name}', layout)}{fits} END"
    )


def _conditions(layout: Layout) -> list[str] | None:
    """SQL over the cells of a staged row as they are (s.<field>: the staged text, not
    trimmed), its video v and (with a channel column) the video's channel cur and the
    category lookup cat: true when the row's cells change nothing and pass every check.
    Each cell must be exactly what the catalog's value reads back from; a cell with spaces
    around it, say, takes the full path, which trims it. None when the file has a column
    these comparisons do not cover."""
    fields = layout.fields
    youtube = layout.format.key == "youtube"
    conditions = []
    for name in fields:
        spec, cell = layout.spec(name), f"s.{name}"
        kind = spec.kind
        if name == "video_id":  # joined on: equal, and a valid id has no spaces
            video_id = identifiers.sql_full(identifiers.VIDEO_ID)
            conditions.append(f"v.video_id ~ '{video_id}'")
        elif name == "channel_key":  # a valid channel id (checked in the join) has no spaces
            conditions.append(f"cur.channel_id = {cell}")
        elif name == "channel_name":
            # The display name the diff would give (merge._new_values), from this cell.
            fallback = (
                f"left(cur.name, {CHANNEL_DISPLAY_MAX})"
                if "channel_key" in fields
                else "v.channel_display_name"
            )
            conditions.append(
                f"CASE WHEN {cell} IS NULL "
                f"THEN {fallback} IS NOT DISTINCT FROM v.channel_display_name "
                f"ELSE left({cell}, {CHANNEL_DISPLAY_MAX}) = v.channel_display_name "
                f"AND {_plain(cell, layout)} AND {_fits(cell, channel_rules.NAME_MAX)} END"
            )
        elif name == "category":  # a name found is a trimmed one (lookups.category_lookup)
            conditions.append(
                f"({cell} IS NULL OR (cat.id = v.category_id AND {_fits(cell, spec.max_length)}))"
            )
        elif name == "claimed_by_this_owner" and youtube:
            conditions.append(
                f"({cell} IS NULL OR ({cell} = 'Yes' AND v.claimed_status IN {CLAIMED}) "
                f"OR ({cell} = 'No' AND v.claimed_status IS NULL))"
            )
        elif name == "claim_id":
            if youtube and "claimed_by_this_owner" not in fields:
                conditions.append(
                    f"CASE WHEN {cell} IS NULL THEN v.claimed_status IS NULL "
                    f"ELSE v.claimed_status IN {CLAIMED} AND {_plain(cell, layout)} "
                    f"AND {_fits(cell, spec.max_length)} END"
                )
            else:  # read only to order a video's rows: any cell that fits
                conditions.append(f"({cell} IS NULL OR {_fits(cell, spec.max_length)})")
        elif name == "other_owners_claiming" and youtube:
            # YouTube's owners are read trimmed and sorted, once each (merge.merge).
            conditions.append(
                f"CASE WHEN strpos({cell}, ',') > 0 THEN "
                + OWNERS.format(names=f"ARRAY[{cell}]")
                + f" IS NOT DISTINCT FROM v.{name} AND {_fits(cell, LONG_TEXT)} "
                f"ELSE {_text(name, LONG_TEXT, layout)} END"
            )
        elif kind == "text":
            conditions.append(_text(name, spec.max_length, layout))
        elif kind in ("yes_no", "choice"):  # the values it allows read as themselves
            choices = ("Yes", "No") if kind == "yes_no" else spec.choices
            allowed = "(" + ", ".join(f"'{c}'" for c in choices) + ")"
            conditions.append(
                f"{cell} IS NOT DISTINCT FROM v.{name} AND ({cell} IS NULL OR {cell} IN {allowed})"
            )
        elif kind == "count":  # plain digits, at most 18 (cells.COUNT_SQL's common case)
            conditions.append(
                f"{cell} IS NOT DISTINCT FROM v.{name}::text "
                f"AND coalesce(v.{name} <= 999999999999999999, true)"
            )
        elif kind == "duration":  # plain digits, at most 9 (cells.DURATION_SQL's first case)
            conditions.append(
                f"{cell} IS NOT DISTINCT FROM v.{name}::text "
                f"AND coalesce(v.{name} <= 999999999, true)"
            )
        elif kind == "isrc":  # stored upper case without dashes: such a cell reads as it is
            pattern = identifiers.sql_full(identifiers.ISRC)
            conditions.append(
                f"{cell} IS NOT DISTINCT FROM v.{name} AND ({cell} IS NULL OR {cell} ~ '{pattern}')"
            )
        elif kind == "timestamp" and name == "time_published":
            conditions.append(
                f"CASE WHEN {cell} IS NULL THEN v.{name} IS NULL "
                f"ELSE v.{name} >= '0001-01-01 00:00:00+00' AND right({cell}, 1) = 'Z' "
                f"AND {AS_US.format(cell=cell)} = {US.format(c=name)} END"
            )
        else:
            return None
    return conditions


def set_aside(layout: Layout) -> int:
    """import_same: the staged rows known unchanged (see the module's docstring), with their
    channel cells for step 3; returns how many. Needs the category lookup (lookups.py)."""
    run_sql("DROP TABLE IF EXISTS pg_temp.import_same")
    conditions = _conditions(layout)
    fields = layout.fields
    if conditions is None:
        run_sql(
            "CREATE TEMP TABLE import_same (row_no bigint, channel_key text, channel_name text) "
            "ON COMMIT DROP"
        )
        return 0
    # Not trimmed, but empty as none: a file staged row by row (staging._copy_rows) has
    # empty cells where PostgreSQL's CSV parser has none.
    cells = ", ".join(f"nullif(r.c{index + 1}, '') AS {name}" for name, index in fields.items())
    joins = ["JOIN videos v ON v.video_id = s.video_id"]  # a cell with spaces finds none
    if "channel_key" in fields:
        # A channel id that passes its check (checked once per channel, not per row).
        pattern = identifiers.sql_full(identifiers.CHANNEL_ID)
        joins.append(
            f"JOIN (SELECT id, channel_id, name FROM channels WHERE channel_id ~ '{pattern}') cur "
            "ON cur.id = v.channel_id"
        )
    if "category" in fields:
        joins.append("LEFT JOIN import_categories cat ON cat.name = s.category")
    # A video with several rows is merged (step 4): none of its rows is set aside.
    video_id = cell_sql(layout, "video_id")
    run_sql("DROP TABLE IF EXISTS pg_temp.import_raw_dups")
    run_sql(
        f"CREATE TEMP TABLE import_raw_dups ON COMMIT DROP AS SELECT {video_id} AS video_id "
        f"FROM import_raw r WHERE {video_id} IS NOT NULL GROUP BY 1 HAVING count(*) > 1"
    )
    run_sql("ANALYZE import_raw_dups")  # an anti-join by hashing, not a loop over it
    # The cells are compared as they are staged: trimming thirty cells a row cost a third of
    # the comparison, and a cell that is not exactly the catalog's value takes the full path.
    # The comparison is one column of the joined rows, filtered on above the joins: as a
    # WHERE clause of the join, its thirty conditions would be estimated to keep no row, and
    # the joins planned as loops.
    channel = "s.channel_key" if "channel_key" in fields else "NULL::text"
    name = "s.channel_name" if "channel_name" in fields else "NULL::text"
    # The statement's row count (its command tag) is the count of the rows set aside.
    return run_sql(f"""
CREATE TEMP TABLE import_same ON COMMIT DROP AS
SELECT row_no, channel_key, channel_name FROM (
  SELECT s.row_no, {channel} AS channel_key, {name} AS channel_name,
         {" AND ".join(f"({c})" for c in conditions)} AS same
  FROM (
    SELECT r.row_no, {cells} FROM import_raw r
    WHERE NOT EXISTS (SELECT FROM import_raw_dups d WHERE d.video_id = r.c{fields["video_id"] + 1})
    OFFSET 0
  ) s {" ".join(joins)}
  OFFSET 0
) compared WHERE same
""").rowcount
