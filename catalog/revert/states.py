"""A video's state at any moment, rebuilt from its audit rows.

A state is a dict: every audited field of a video (catalog.videos.service.AUDITED_FIELDS) by
name, and each custom field value the video has under its audit key ("field:Name"); a
custom field without a value is absent. None stands for "the video did not exist".

A video's audit rows are found by its YouTube id (`entity_key`), so a video that was deleted,
or deleted and created again, keeps one history; they are ordered by `chain_seq`, the order
in which their transactions committed. Each row's `changes` is {field: [old, new]}: a create
row holds every value the video started with, a delete row every last value that was not
empty. So a history can be read both ways: forwards from a creation (`replay`), or backwards
from the video as it is now (`state_at`), which is what the pages use: it also answers for
videos whose history starts after their creation (rows from before the audit trail, or
videos made by other means), and it leaves a field that no row mentions as it is.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, select

from catalog import audit
from catalog.audit import AuditRow
from catalog.extensions import db
from catalog.models import CustomField, Video
from catalog.videos import custom_values
from catalog.videos.service import AUDITED_FIELDS

CUSTOM = "field:"
ARRAY_FIELDS = frozenset({"artist", "genre"})
_COLUMNS = Video.__table__.c
BOOLEAN_FIELDS = frozenset(f for f in AUDITED_FIELDS if isinstance(_COLUMNS[f].type, Boolean))
TIME_FIELDS = frozenset(f for f in AUDITED_FIELDS if isinstance(_COLUMNS[f].type, DateTime))

State = dict[str, Any]


def is_custom(key: str) -> bool:
    return key.startswith(CUSTOM)


def blank() -> State:
    """A video nobody has set anything on: what the database fills in for each field."""
    return {
        field: [] if field in ARRAY_FIELDS else False if field in BOOLEAN_FIELDS else None
        for field in AUDITED_FIELDS
    }


def typed(key: str, value: Any) -> Any:
    """A value as an audit row keeps it (JSON) → as the video holds it, so the two compare:
    times as aware datetimes, lists never None, booleans never None (the columns are not
    nullable; a deletion leaves false out)."""
    if key in ARRAY_FIELDS:
        return list(value or [])
    if key in BOOLEAN_FIELDS:
        return bool(value)
    if key in TIME_FIELDS and isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _set(state: State, key: str, value: Any) -> None:
    value = typed(key, value)
    if is_custom(key):
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value
    elif key in state:  # a key that is no field of a video (none today) is left out
        state[key] = value


def of_video(video: Video | Any, custom: dict[str, Any]) -> State:
    """The state of a video as it is (a Video or a row with the same attributes), with its
    custom values by audit key (custom_values.audit_values)."""
    state = {field: typed(field, getattr(video, field)) for field in AUDITED_FIELDS}
    state.update((key, value) for key, value in custom.items() if value is not None)
    return state


def current(video_key: str) -> State | None:
    """The state of the video with this YouTube id now; None when there is none."""
    video = db.session.scalars(select(Video).where(Video.video_id == video_key)).first()
    if video is None:
        return None
    return of_video(video, custom_values.audit_values(video.id))


def history(video_key: str) -> list[AuditRow]:
    """Every audit row of the video with this YouTube id, in commit order."""
    return audit.history("video", key=video_key, archived=True)


def renamed_keys() -> dict[str, str]:
    """Audit keys a custom field had under an earlier name → its key now. A video's older
    rows name a renamed field as it was then; this reads them as the field it is now."""
    names = {
        row.id: row.name for row in db.session.execute(select(CustomField.id, CustomField.name))
    }
    live = {CUSTOM + name for name in names.values()}
    renamed: dict[str, str] = {}
    rows = audit.in_commit_order(
        lambda m: (
            m.entity_type == "custom_field",
            m.action == "update",
            m.changes.has_key("name"),
        )
    )
    for row in rows:  # in commit order: when a name was used twice, the later use wins
        if row.entity_id in names:
            renamed[CUSTOM + row.changes["name"][0]] = CUSTOM + names[row.entity_id]
    return {old: new for old, new in renamed.items() if old != new and old not in live}


def _keyed(row: AuditRow, renames: dict[str, str]) -> Iterable[tuple[str, list]]:
    for key, pair in row.changes.items():
        yield renames.get(key, key), pair


def forward(state: State | None, row: AuditRow, renames: dict[str, str] | None = None):
    """The state after `row`, given the state before it."""
    if row.action == "delete":
        return None
    state = blank() if row.action == "create" or state is None else dict(state)
    for key, (_old, new) in _keyed(row, renames or {}):
        _set(state, key, new)
    return state


def backward(state: State | None, row: AuditRow, renames: dict[str, str] | None = None):
    """The state before `row`, given the state after it."""
    if row.action == "create":
        return None
    # A deletion holds every last value that was not empty: the rest were blank.
    state = blank() if row.action == "delete" or state is None else dict(state)
    for key, (old, _new) in _keyed(row, renames or {}):
        _set(state, key, old)
    return state


def replay(rows: Iterable[AuditRow], renames: dict[str, str] | None = None) -> State | None:
    """A video's state after `rows` (its history, in commit order), read forwards from its
    creation."""
    state = None
    for row in rows:
        state = forward(state, row, renames)
    return state


def state_at(video_key: str, at: datetime, rows: list[AuditRow] | None = None) -> State | None:
    """The video with this YouTube id as it was at `at` (after every change made until
    then), None when it did not exist then: the video now, with the changes made after
    `at` undone, newest first. `rows` is its history when the caller has it already."""
    rows = history(video_key) if rows is None else rows
    renames = renamed_keys()
    state = current(video_key)
    for row in reversed([row for row in rows if row.sync_time > at]):
        state = backward(state, row, renames)
    return state
