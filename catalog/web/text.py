"""Words for numbers, the same on every page and in every flash."""


def plural(count: int, one: str, many: str | None = None) -> str:
    """ "1 video", "2 videos", "12,345 videos": the count with thousands separators and the
    noun that agrees with it. `many` for nouns that do not just take an "s"."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def thousands(value: int | None, missing: str = "") -> str:
    """A figure with thousands separators ("12,345"), `missing` for none: a filter, so a list
    row formats its figures without a call through the template's context."""
    return missing if value is None else f"{value:,}"
