"""Custom field values on videos: reading them, checking them, and writing them as part of a
video's change (the caller records them in the video's audit row, same transaction)."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, delete, exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert

from catalog.extensions import db
from catalog.models import CustomField, VideoFieldValue
from catalog.rules import RuleError


class InvalidValue(RuleError):
    """A value that does not fit its custom field; the message says why, for people."""


def clean(field: CustomField, raw: Any) -> Any:
    """A submitted value as its field type stores it, None for "no value"; InvalidValue when
    it does not fit the field."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if field.field_type == "boolean":
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in ("yes", "true", "1"):
            return True
        if word in ("no", "false", "0"):
            return False
        raise InvalidValue("Choose yes or no.")
    if field.field_type == "rating":
        try:
            rating = int(raw)
        except (TypeError, ValueError) as exc:
            raise InvalidValue("A rating is a whole number.") from exc
        if not 1 <= rating <= field.max_rating:
            raise InvalidValue(f"A rating is between 1 and {field.max_rating}.")
        return rating
    text = str(raw).strip()
    if field.field_type == "select" and text not in field.options:
        raise InvalidValue(f"Choose one of: {', '.join(field.options)}.")
    if len(text) > 2000:
        raise InvalidValue("At most 2000 characters.")
    return text


def _stored(row: VideoFieldValue | None) -> Any:
    return None if row is None else row.value


def _lock_definitions(fields: Iterable[CustomField], values: dict[int, Any]) -> None:
    """Hold the definitions still (a definition change takes them FOR UPDATE) and check the
    values against them as they are now: an option removed a moment ago is refused."""
    ids = [field.id for field in fields]
    db.session.execute(
        select(CustomField.id).where(CustomField.id.in_(ids)).with_for_update(read=True)
    )
    for field in fields:
        db.session.refresh(field)
        if values.get(field.id) is not None:
            clean(field, values[field.id])


def current_values(video_id: int) -> dict[int, Any]:
    """{field id: value} of one video."""
    rows = db.session.scalars(select(VideoFieldValue).where(VideoFieldValue.video_id == video_id))
    return {row.field_id: row.value for row in rows}


def audit_values(video_id: int) -> dict[str, Any]:
    """{audit key ("field:Name"): value} of one video, as its audit rows name them."""
    rows = db.session.execute(
        select(CustomField, VideoFieldValue)
        .join(VideoFieldValue, VideoFieldValue.field_id == CustomField.id)
        .where(VideoFieldValue.video_id == video_id)
    )
    return {field.audit_key: value.value for field, value in rows}


def apply(video_id: int, fields: Iterable[CustomField], values: dict[int, Any]) -> dict[str, list]:
    """Write the values of `fields` given in `values` ({field id: clean value or None}).

    Upserts on the (video, field) pair; None removes the value. Returns the audit delta
    {"field:Name": [old, new]} for the values that changed; unchanged ones write nothing.
    """
    by_id = {field.id: field for field in fields if field.id in values}
    if not by_id:
        return {}
    _lock_definitions(by_id.values(), values)
    existing = {
        row.field_id: row
        for row in db.session.scalars(
            select(VideoFieldValue).where(
                VideoFieldValue.video_id == video_id, VideoFieldValue.field_id.in_(by_id)
            )
        )
    }
    changes: dict[str, list] = {}
    for field_id, field in by_id.items():
        old, new = _stored(existing.get(field_id)), values[field_id]
        if old == new:
            continue
        changes[field.audit_key] = [old, new]
        if new is None:
            db.session.delete(existing[field_id])
            continue
        columns = {"value_text": None, "value_numeric": None, "value_boolean": None}
        columns[field.value_column] = Decimal(new) if field.field_type == "rating" else new
        db.session.execute(
            insert(VideoFieldValue)
            .values(video_id=video_id, field_id=field_id, **columns)
            .on_conflict_do_update(
                constraint="uq_video_field_values_video_id_field_id",
                set_={**columns, "updated_at": func.now()},
            )
        )
        if field_id in existing:
            db.session.expire(existing[field_id])
    db.session.flush()
    return changes


def _plain(field: CustomField, value: Any) -> Any:
    """A stored value as the audit row keeps it (ratings as whole numbers)."""
    if field.field_type == "rating" and value is not None:
        return int(value)
    return value


def bulk_set(selection: Select, field: CustomField, value: Any) -> dict[int, list]:
    """Set one field to `value` (None: clear it) on every video `selection` yields, in SQL.

    Returns {video id: [old, new]} for the videos whose value actually changed.
    """
    _lock_definitions([field], {field.id: value})
    column = getattr(VideoFieldValue, field.value_column)
    if value is None:
        removed = db.session.execute(
            delete(VideoFieldValue)
            .where(VideoFieldValue.field_id == field.id, VideoFieldValue.video_id.in_(selection))
            .returning(VideoFieldValue.video_id, column)
        )
        return {video_id: [_plain(field, old), None] for video_id, old in removed}
    stored = Decimal(value) if field.field_type == "rating" else value
    target = selection.subquery("target")
    differing = (
        select(target.c[0].label("video_id"), column.label("old"))
        .select_from(target)
        .outerjoin(
            VideoFieldValue,
            and_(VideoFieldValue.video_id == target.c[0], VideoFieldValue.field_id == field.id),
        )
        .where(column.is_distinct_from(stored))
        .cte("differing")
    )
    columns = {"value_text": None, "value_numeric": None, "value_boolean": None}
    columns[field.value_column] = stored
    names = ["video_id", "field_id", *columns]
    upsert = (
        insert(VideoFieldValue)
        .from_select(
            names,
            select(
                differing.c.video_id,
                literal(field.id),
                *(
                    literal(v, type_=VideoFieldValue.__table__.c[k].type)
                    for k, v in columns.items()
                ),
            ),
        )
        .on_conflict_do_update(
            constraint="uq_video_field_values_video_id_field_id",
            set_={**columns, "updated_at": func.now()},
        )
        .cte("upsert")
    )
    rows = db.session.execute(select(differing.c.video_id, differing.c.old).add_cte(upsert))
    return {video_id: [_plain(field, old), value] for video_id, old in rows}


def has_value(field_id: int, condition=None):
    """EXISTS: the listed video has a value of this field (meeting `condition`)."""
    from catalog.models import Video

    clause = and_(VideoFieldValue.video_id == Video.id, VideoFieldValue.field_id == field_id)
    if condition is not None:
        clause = and_(clause, condition)
    return exists().where(clause)
