"""The identifiers of the catalog's world, one definition each: YouTube video and channel ids,
ISRC and UPC. The forms, the report importer (in SQL) and the YouTube side all read them
here, so a value one of them accepts the others accept too.

Each pattern is written once, in the syntax Python's `re` and PostgreSQL's regular
expressions (`~`) share; `python_full` and `sql_full` anchor it for each side.
"""

import re

VIDEO_ID = "[A-Za-z0-9_-]{11}"
CHANNEL_ID = "UC[A-Za-z0-9_-]{22}"
# ISRC: country (2 letters), registrant (3 alphanumerics), year (2 digits), designation (5).
ISRC = "[A-Z]{2}[A-Z0-9]{3}[0-9]{2}[0-9]{5}"
# UPC-A (12 digits), EAN-13 (13) or GTIN-14 (14: what Content ID gives, a UPC padded with
# zeros), each ending in its GS1 check digit (valid_upc, upc_refused_sql).
UPC = "[0-9]{12,14}"
UPC_LENGTHS = (12, 13, 14)


def python_full(pattern: str) -> str:
    """`pattern` matching a whole string in Python (`$` would allow a trailing newline)."""
    return rf"\A(?:{pattern})\Z"


def sql_full(pattern: str) -> str:
    """`pattern` matching a whole string with PostgreSQL's `~` (whose `$` is the very end)."""
    return f"^({pattern})$"


_VIDEO_ID = re.compile(python_full(VIDEO_ID))
_CHANNEL_ID = re.compile(python_full(CHANNEL_ID))
_ISRC = re.compile(python_full(ISRC))
_UPC = re.compile(python_full(UPC))


def gs1_check_digit(digits: str) -> str:
    """The GS1 check digit of `digits` (a UPC-A, EAN-13 or GTIN without its last digit).

    Weights 3 and 1 alternate from the rightmost digit, which weighs 3.
    """
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def valid_video_id(value: str | None) -> bool:
    return bool(value) and _VIDEO_ID.match(value) is not None


def valid_channel_id(value: str | None) -> bool:
    """A YouTube channel id: "UC" and 22 letters, digits, "-" or "_"."""
    return bool(value) and _CHANNEL_ID.match(value) is not None


def valid_isrc(value: str | None) -> bool:
    """An ISRC as stored: upper case, without the dashes or spaces it is often written with."""
    return bool(value) and _ISRC.match(value) is not None


def upc_shape(value: str | None) -> bool:
    """Whether `value` has the digits of a UPC (its check digit aside)."""
    return bool(value) and _UPC.match(value) is not None


def valid_upc(value: str | None) -> bool:
    """A UPC of 12 to 14 digits whose last digit is its GS1 check digit."""
    return upc_shape(value) and gs1_check_digit(value[:-1]) == value[-1]


def upc_refused_sql(cell: str) -> str:
    """SQL true when `cell` (text, NULL when empty) is not a valid UPC, as valid_upc says.
    Padded with zeros to 14 digits (which keeps the check digit), each digit's weight is
    fixed: only arithmetic, no loop, no function of ours. (No percent sign: the driver
    would read it as a parameter.) The digits are cast only once the
    pattern has said they are digits (a CASE: AND does not promise an order)."""
    padded = f"lpad({cell}, 14, '0')"
    terms = " + ".join(
        f"{3 if position % 2 else 1} * substr({padded}, {position}, 1)::integer"
        for position in range(1, 14)
    )
    return (
        f"CASE WHEN {cell} ~ '{sql_full(UPC)}' "
        f"THEN mod(10 - mod({terms}, 10), 10) <> substr({padded}, 14, 1)::integer "
        f"ELSE {cell} IS NOT NULL END"
    )
