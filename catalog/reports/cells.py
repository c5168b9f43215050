"""Reading a report's cells, in SQL over the staged rows: each field's value (`value_sql`)
and the reason a cell refuses its row (`check_sql`), plus the helper functions they call
(`HELPER_FUNCTIONS`, created once per import). What a field is lives in formats.py."""

from catalog import identifiers
from catalog.identifiers import sql_full
from catalog.reports.formats import CUSTOM_TEXT_LIMIT, Field, sql_literal

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


# Kinds checked against an identifier's pattern, and what a refusal calls the identifier.
PATTERNS = {
    "video_id": (identifiers.VIDEO_ID, "a YouTube video id (11 letters, digits, - or _)"),
    "channel_id": (
        identifiers.CHANNEL_ID,
        "a YouTube channel id (UC and 22 letters, digits, - or _)",
    ),
    "isrc": (identifiers.ISRC, "an ISRC (e.g. USRC17607839)"),
}
# Kinds whose cell refuses its row when it cannot be read, and what the refusal says.
UNREADABLE = {
    "count": "not a whole number",
    "duration": "not a duration (seconds, H:MM:SS or PT#M#S)",
    "yes_no": "expected Yes or No",
    "flag": "expected Yes or No",
    "custom_boolean": "expected Yes or No",
}


def check_sql(f: Field, cell: str, value: str) -> tuple[str, str] | None:
    """(condition, reason): SQL true when `cell` (its value `value`) refuses its row, and
    the SQL of the reason given. None when every cell of the field is accepted."""
    snippet = _snippet(cell)
    unreadable = f"{cell} IS NOT NULL AND {value} IS NULL"
    if f.kind in PATTERNS:  # the value as read: an ISRC without its dashes, in upper case
        pattern, what = PATTERNS[f.kind]
        return f"{value} !~ '{sql_full(pattern)}'", f"'not {what}: ' || {snippet}"
    if f.kind in UNREADABLE:
        return unreadable, f"'{UNREADABLE[f.kind]}: ' || {snippet}"
    if f.kind == "text":
        return _too_long(cell, f.max_length)
    if f.kind == "timestamp":
        return None  # a SOFT_KINDS field: an unreadable date becomes empty; the row stays
    if f.kind == "choice":
        return unreadable, f"'expected one of {', '.join(f.choices)}: ' || {snippet}"
    if f.kind == "custom_text":
        return _too_long(cell, CUSTOM_TEXT_LIMIT)
    if f.kind == "custom_select":
        shown = sql_literal(f"expected one of {', '.join(f.choices)}: ")
        return unreadable, f"{shown} || {snippet}"
    if f.kind == "custom_rating":
        return unreadable, f"'expected a rating from 1 to {f.max_length}: ' || {snippet}"
    if f.kind == "upc":
        return (
            identifiers.upc_refused_sql(cell),
            f"'not a UPC (12 to 14 digits, the last its check digit): ' || {snippet}",
        )
    if f.kind == "list":
        return (
            # A cell no longer than the limit has no item longer than it: no unnest.
            f"length({cell}) > {f.max_length} AND "
            f"EXISTS (SELECT FROM unnest({value}) AS item WHERE length(item) > {f.max_length})",
            f"'an item is longer than {f.max_length:,} characters'",
        )
    raise ValueError(f"unknown field kind {f.kind}")


def _too_long(cell: str, limit: int) -> tuple[str, str]:
    return (
        f"length({cell}) > {limit}",
        f"'longer than {limit:,} characters (' || length({cell}) || ')'",
    )
