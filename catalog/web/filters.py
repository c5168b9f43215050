"""What the lists' filters share: a search box's text as a LIKE pattern."""


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, lower-cased, its wildcards escaped (compare
    it with a lower-cased column, or with ILIKE)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
