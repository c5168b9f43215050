"""How a value from an audit row reads on a page: a video's channel and category by name (the
row keeps their ids), times in the reader's zone with UTC on hover, the rest as text.

Names are looked up when shown, once per id and request: the history then names a category
as it is called now, and one that was deleted since by its id. A table of audit rows asks
for all of its rows' names first (`look_up`), in one statement: /audit would otherwise read
one name per channel or category its page mentions."""

import re
from collections.abc import Sequence
from typing import Any

from flask import g
from markupsafe import Markup
from sqlalchemy import select, text

from catalog.changes import diffs
from catalog.extensions import db
from catalog.models import Channel, VideoCategory

MODELS = {"channel_id": Channel, "category_id": VideoCategory}
# How audit rows keep times (catalog.audit.jsonable): ISO 8601 with the time of day.
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:\d\d)?")


def name(key: str, value: Any) -> str | None:
    """The name of the channel or category `value` is the id of, None when it is none."""
    model = MODELS.get(key)
    if model is None or not _is_id(value):
        return None
    cache = g.setdefault("reference_names", {})
    if (key, value) not in cache:
        cache[key, value] = db.session.scalar(select(model.name).where(model.id == value))
    return cache[key, value]


def look_up(rows: Any) -> None:
    """Read, in one statement, the names of every channel and category that the video
    changes among `rows` (audit rows) refer to and that this request has not read yet
    (history_rows asks before writing its rows). Rows that are not a sequence are left for
    the table to read: they could be read only once."""
    if not isinstance(rows, Sequence):
        return
    cache = g.setdefault("reference_names", {})
    wanted = {(key, value)
              for row in rows if (getattr(row, "entity_type", None) or "video") == "video"
              for key, sides in (getattr(row, "changes", None) or {}).items() if key in MODELS
              for value in (sides if isinstance(sides, list) else ())
              if _is_id(value) and (key, value) not in cache}  # fmt: skip
    if not wanted:
        return
    ids = {key: sorted(v for k, v in wanted if k == key) for key in MODELS}
    cache.update(dict.fromkeys(wanted))  # deleted since: None, as name() finds it
    for key, value, found in db.session.execute(_NAMES, ids):
        cache[key, value] = found


# One fixed statement for every page: its ids travel as arrays, so SQLAlchemy has no IN
# list to expand and nothing to rebuild per request.
_NAMES = text(
    " UNION ALL ".join(
        f"SELECT '{key}', id, name FROM {model.__tablename__} WHERE id = ANY(:{key})"
        for key, model in MODELS.items()
    )
)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


EMPTY = Markup('<span class="text-body-tertiary">empty</span>')


def change_value(value: Any, key: str, entity_type: str = "video") -> Markup | str:
    """One side of a change as people read it; nothing, an empty text or list as "empty"."""
    from catalog.web.timezones import when  # the one place that renders times

    if value is None or value in ("", [], {}):
        return EMPTY
    if entity_type == "video" and key in MODELS and isinstance(value, int):
        named = name(key, value)
        if named is None:
            return f"#{value} (deleted)"
        return Markup('<span title="id {}">{}</span>').format(value, named)
    if isinstance(value, str) and _ISO_TIME.fullmatch(value):
        return when(value, seconds=True)
    return diffs.display(value)
