"""The read side of custom fields: which fields apply to a video, which show on the list,
and the pages of the definitions. Nothing here writes."""

from sqlalchemy import BindParameter, ColumnElement, bindparam, exists, func, or_, select
from sqlalchemy.orm import selectinload

from catalog.extensions import db
from catalog.models import (
    Channel,
    CustomField,
    FieldSchema,
    SchemaField,
    VideoFieldValue,
    schema_channels,
)

HISTORY_LIMIT = 50


def _applies_to(channel_id: BindParameter | None) -> ColumnElement[bool]:
    """Whether a schema applies to a video of the channel `channel_id` (None: of none)."""
    unattached = ~exists().where(schema_channels.c.schema_id == FieldSchema.id)
    if channel_id is None:
        return unattached
    attached = exists().where(
        schema_channels.c.schema_id == FieldSchema.id, schema_channels.c.channel_id == channel_id
    )
    return or_(unattached, attached)


def _memberships(applies: ColumnElement[bool] | None):
    """Each (field, schema) membership of the schemas that `applies` keeps (all when None),
    ranked per field by schema order (schema name, then display order), with show_on_card
    OR'ed over the field's memberships kept."""
    order = (FieldSchema.name, SchemaField.display_order, FieldSchema.id)
    statement = select(
        SchemaField.field_id,
        SchemaField.schema_id,
        SchemaField.display_order,
        FieldSchema.name.label("schema_name"),
        func.row_number().over(partition_by=SchemaField.field_id, order_by=order).label("rank"),
        func.bool_or(SchemaField.show_on_card)
        .over(partition_by=SchemaField.field_id)
        .label("on_card"),
    ).join(FieldSchema, FieldSchema.id == SchemaField.schema_id)
    if applies is not None:
        statement = statement.where(applies)
    return statement.subquery("memberships")


def _first_occurrences(memberships):
    """The fields of `memberships`, each once at its first place, in schema order."""
    return (
        select(
            CustomField,
            memberships.c.schema_id,
            memberships.c.display_order,
            memberships.c.on_card,
        )
        .join(memberships, memberships.c.field_id == CustomField.id)
        .where(memberships.c.rank == 1)
        .order_by(
            memberships.c.schema_name,
            memberships.c.schema_id,
            memberships.c.display_order,
            func.lower(CustomField.name),
        )
    )


# Built once (a video's page and form read them on every view), the channel a parameter.
_APPLICABLE_TO_NONE = _first_occurrences(_memberships(_applies_to(None)))
_APPLICABLE_TO_CHANNEL = _first_occurrences(_memberships(_applies_to(bindparam("channel_id"))))


def applicable_fields(channel_id: int | None) -> list[tuple[CustomField, SchemaField]]:
    """The fields that apply to a video of channel `channel_id` (None: a video without a
    channel): those of the schemas attached to that channel and of the schemas attached to
    no channel, in schema order (schema name, then display order), each field once.

    The SchemaField of each pair is where the field first occurs, with `show_on_card` OR'ed
    over every applicable schema that holds the field. It is a value object, not attached to
    the session (its show_on_card may differ from any stored row): read it, never add it.
    """
    statement = _APPLICABLE_TO_NONE if channel_id is None else _APPLICABLE_TO_CHANNEL
    rows = db.session.execute(statement, {"channel_id": channel_id})
    return [
        (
            field,
            SchemaField(
                schema_id=schema_id,
                field_id=field.id,
                display_order=display_order,
                show_on_card=on_card,
            ),
        )
        for field, schema_id, display_order, on_card in rows
    ]


def card_fields() -> list[CustomField]:
    """The fields shown as video list columns: those with show_on_card in any schema, in the
    same order as applicable_fields (each field at its first place over every schema)."""
    memberships = _memberships(None)
    statement = _first_occurrences(memberships).where(memberships.c.on_card)
    return [row[0] for row in db.session.execute(statement)]


# The definitions pages.


def field_list() -> list[tuple[CustomField, int]]:
    """Every field, by name, with how many videos have a value of it (one grouped count)."""
    counts = (
        select(VideoFieldValue.field_id, func.count().label("videos"))
        .group_by(VideoFieldValue.field_id)
        .subquery("counts")
    )
    statement = (
        select(CustomField, func.coalesce(counts.c.videos, 0))
        .outerjoin(counts, counts.c.field_id == CustomField.id)
        .order_by(func.lower(CustomField.name))
    )
    return [(field, videos) for field, videos in db.session.execute(statement)]


def schema_list() -> list[FieldSchema]:
    """Every schema by name, with its fields (in display order) and channels loaded."""
    return list(
        db.session.scalars(
            select(FieldSchema)
            .options(selectinload(FieldSchema.fields), selectinload(FieldSchema.channels))
            .order_by(FieldSchema.name)
        )
    )


def all_fields() -> list[CustomField]:
    return list(db.session.scalars(select(CustomField).order_by(func.lower(CustomField.name))))


def channel_choices() -> list[tuple[int, str]]:
    return [
        (row.id, row.name)
        for row in db.session.execute(select(Channel.id, Channel.name).order_by(Channel.name))
    ]


def schemas_of(field: CustomField) -> list[FieldSchema]:
    return list(
        db.session.scalars(
            select(FieldSchema)
            .join(SchemaField, SchemaField.schema_id == FieldSchema.id)
            .where(SchemaField.field_id == field.id)
            .order_by(FieldSchema.name)
        )
    )
