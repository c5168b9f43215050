"""The rules for field schemas: which fields, in which order, for which channels. Every change
leaves its audit row (entity "field_schema") in the same transaction; nothing here commits.
"""

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import select

from catalog.extensions import db
from catalog.fields.service.definitions import (
    FIELD_SCHEMA,
    SCHEMA_NAME_CONSTRAINT,
    FieldError,
    _check_name_free,
    _diff,
    _name,
    _schema_state,
    _text,
)
from catalog.models import Channel, CustomField, FieldSchema, SchemaField, User
from catalog.rules import refused_when_taken


class Member(NamedTuple):
    """A field's place in a schema as a caller asks for it. `display_order` None puts the
    field after the numbered ones, in the order given."""

    field_id: int
    display_order: int | None = None
    show_on_card: bool = False


def _schema_taken(name: str) -> str:
    return f"There is already a schema named “{name}”."


def _channels(channel_ids: Iterable[int]) -> list[Channel]:
    wanted = set(channel_ids or ())
    if not wanted:
        return []
    channels = list(db.session.scalars(select(Channel).where(Channel.id.in_(wanted))))
    if len(channels) != len(wanted):
        raise FieldError("One of the chosen channels no longer exists.", "channel_ids")
    return sorted(channels, key=lambda channel: channel.id)


def _members(members: Sequence[Member]) -> list[tuple[CustomField, bool]]:
    """The schema's fields in their new order: by the given display order, unnumbered ones
    after the numbered, ties in the order given."""
    ids = [member.field_id for member in members]
    if len(set(ids)) != len(ids):
        raise FieldError("A field can be in a schema only once.", "members")
    found = db.session.scalars(select(CustomField).where(CustomField.id.in_(ids))) if ids else ()
    fields = {field.id: field for field in found}
    if len(fields) != len(ids):
        raise FieldError("One of the chosen fields no longer exists.", "members")
    ranked = sorted(
        enumerate(members),
        key=lambda pair: (pair[1].display_order is None, pair[1].display_order or 0, pair[0]),
    )
    return [(fields[member.field_id], bool(member.show_on_card)) for _, member in ranked]


def _assign(schema: FieldSchema, name, description, channels, members) -> None:
    schema.name = name
    schema.description = description
    if {channel.id for channel in schema.channels} != {channel.id for channel in channels}:
        schema.channels = channels
    current = {member.field_id: member for member in schema.fields}
    ordered = []
    # Display orders are renumbered 1..n: the order counts, not the numbers typed.
    for position, (field, on_card) in enumerate(members, start=1):
        member = current.get(field.id) or SchemaField(field=field, field_id=field.id)
        if member.display_order != position:
            member.display_order = position
        if member.show_on_card != on_card:
            member.show_on_card = on_card
        ordered.append(member)
    schema.fields = ordered  # members left out are deleted as orphans


def _checked_schema(schema: FieldSchema | None, values: dict[str, Any]) -> tuple:
    name = _name(values.get("name"))
    if schema is None or name != schema.name:
        _check_name_free(FieldSchema, name, schema, _schema_taken)
    return (
        name,
        _text(values.get("description")),
        _channels(values.get("channel_ids") or ()),
        _members(values.get("members") or ()),
    )


def create_schema(
    values: dict[str, Any], *, actor: User | None, source: str = "web"
) -> FieldSchema:
    """Create a schema from `values`: name, description, channel_ids (none: it applies to every
    video) and members (a sequence of Member), and record its creation."""
    checked = _checked_schema(None, values)
    schema = FieldSchema(channels=[], fields=[])
    with refused_when_taken(SCHEMA_NAME_CONSTRAINT, FieldError(_schema_taken(checked[0]), "name")):
        _assign(schema, *checked)
        db.session.add(schema)
    state = _schema_state(schema)
    changes = {key: [None, value] for key, value in state.items() if value not in (None, [])}
    FIELD_SCHEMA.write(schema, "create", changes, actor=actor, source=source)
    return schema


def update_schema(
    schema: FieldSchema, values: dict[str, Any], *, actor: User | None, source: str = "web"
) -> dict[str, list]:
    """Change `schema` to `values` (as create_schema takes them); return the changes, empty
    when there are none (and then nothing is written). Fields left out leave the schema;
    their values on videos stay."""
    checked = _checked_schema(schema, values)
    old = _schema_state(schema)
    with refused_when_taken(SCHEMA_NAME_CONSTRAINT, FieldError(_schema_taken(checked[0]), "name")):
        _assign(schema, *checked)
    changes = _diff(old, _schema_state(schema))
    if changes:
        FIELD_SCHEMA.write(schema, "update", changes, actor=actor, source=source)
    return changes


def delete_schema(schema: FieldSchema, *, actor: User | None, source: str = "web") -> None:
    """Delete `schema`. Its fields and their values stay; its memberships and channel links go
    with it. The deletion row keeps what the schema was."""
    state = _schema_state(schema)
    changes = {key: [value, None] for key, value in state.items() if value not in (None, [])}
    FIELD_SCHEMA.record(schema, "delete", changes, actor=actor, source=source)
    db.session.delete(schema)
    db.session.flush()
