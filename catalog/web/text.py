"""Words for numbers, the same on every page and in every flash; text for HTML written in
Python."""

from typing import Any


def plural(count: int, one: str, many: str | None = None) -> str:
    """ "1 video", "2 videos", "12,345 videos": the count with thousands separators and the
    noun that agrees with it. `many` for nouns that do not just take an "s"."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def thousands(value: int | None, missing: str = "") -> str:
    """A figure with thousands separators ("12,345"), `missing` for none: a filter, so a list
    row formats its figures without a call through the template's context."""
    return missing if value is None else f"{value:,}"


def escape(value: Any) -> str:
    """`value` as HTML text, escaped as markupsafe (the templates' autoescape) escapes it,
    without a Markup object per value: for rows written in Python (catalog/videos/rows.py,
    catalog/changes/history_rows.py), where values are text and numbers, never markup."""
    text = value if type(value) is str else str(value)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace('"', "&#34;").replace("'", "&#39;")
    )  # fmt: skip
