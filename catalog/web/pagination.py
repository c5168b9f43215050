"""Keyset pagination: an opaque, URL-safe cursor for a row's (sort key, id), and
keyset_page(), which reads one page of a list in the order of the index it walks, with
its neighbours' cursors."""

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, tuple_

from catalog.extensions import db


def encode_cursor(key: Any, row_id: int) -> str:
    if isinstance(key, datetime):
        key = {"t": key.isoformat()}
    elif isinstance(key, Decimal):  # a rating: JSON keeps it as a number
        key = int(key) if key == key.to_integral_value() else float(key)
    raw = json.dumps([key, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[Any, int] | None:
    """The (sort key, id) a cursor points at, or None when it is not one of ours."""
    try:
        key, row_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if isinstance(key, dict):
            key = datetime.fromisoformat(key["t"])
    except (ValueError, TypeError, KeyError, binascii.Error):
        return None
    if not isinstance(row_id, int) or not isinstance(key, str | int | float | datetime):
        return None
    return key, row_id


@dataclass(frozen=True)
class Keyset:
    """What a keyset-paged list asks for: `size` rows in the order `desc` says, after or
    before a cursor. A cursor whose key is not of one of `key_types` (another sort's, or
    none of ours) is ignored: the list starts from its first page."""

    size: int
    desc: bool
    after: str = ""
    before: str = ""
    key_types: tuple[type, ...] = (int,)

    @property
    def backwards(self) -> bool:
        return bool(self.before)

    @property
    def descending(self) -> bool:
        """The order the rows are read in: walking backwards reverses the list's order."""
        return self.desc != self.backwards

    @property
    def cursor(self) -> tuple[Any, int] | None:
        token = self.before or self.after
        cursor = decode_cursor(token) if token else None
        if cursor and type(cursor[0]) in self.key_types:
            return cursor
        return None


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    # Neither a cursor nor a row beyond the page: the page holds the whole list.
    whole: bool


def keyset_page(
    statement: Select,
    key: ColumnElement,
    row_id: ColumnElement,
    keyset: Keyset,
    *,
    position: Callable[[Row], tuple[Any, int]],
    wrap: Callable[[Select, bool], Select] | None = None,
) -> KeysetPage:
    """One page of `statement` ordered by (`key`, `row_id`), the index a list walks.

    The statement gets the cursor's bound, the order and a limit of one row more than the
    page (that row says whether there is a next page). `wrap(limited, descending)` may
    build the statement actually run around it (the video list joins what it shows to its
    page of ids). `position(row)` is a row's (sort key, id), which its cursor encodes.
    """
    cursor = keyset.cursor
    descending = keyset.descending
    if cursor:
        at, bound = tuple_(key, row_id), tuple_(*cursor)
        statement = statement.where(at < bound if descending else at > bound)
    if descending:
        statement = statement.order_by(key.desc(), row_id.desc())
    else:
        statement = statement.order_by(key.asc(), row_id.asc())
    statement = statement.limit(keyset.size + 1)
    if wrap is not None:
        statement = wrap(statement, descending)
    rows = list(db.session.execute(statement))
    more = len(rows) > keyset.size
    rows = rows[: keyset.size]
    if keyset.backwards:
        rows.reverse()
    has_prev = more if keyset.backwards else bool(cursor)
    has_next = bool(cursor) if keyset.backwards else more
    first, last = (rows[0], rows[-1]) if rows else (None, None)
    next_cursor = encode_cursor(*position(last)) if has_next and last else None
    prev_cursor = encode_cursor(*position(first)) if has_prev and first else None
    return KeysetPage(rows, next_cursor, prev_cursor, whole=not cursor and not more)
