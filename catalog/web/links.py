"""Links made in a loop: url_for once per table, each row's value put in by str.format.

url_for takes about 10 µs a call; a long table with a few links a row spends more time
there than on the rest of its rendering. A pattern is url_for's own URL with `{}` where the
value goes, so the URL map stays the one definition of every path.
"""

from flask import url_for

# A value every converter the patterns use (int, id, uuid, string) writes as its digits,
# and that no other part of a URL contains.
_MARK = 2_147_000_001


def url_pattern(endpoint: str, name: str, **values) -> str:
    """The URL of `endpoint` with `{}` in place of its argument `name`."""
    return url_for(endpoint, **values, **{name: _MARK}).replace(str(_MARK), "{}", 1)
