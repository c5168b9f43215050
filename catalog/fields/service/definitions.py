"""The rules for defining custom fields, and the checks field schemas share with them (names,
texts, the audit row, the unique-name savepoint). Every definition change goes through here
and leaves its audit row (entity "custom_field") in the same transaction. Nothing here
commits or touches the request: the caller owns the transaction.

A definition change never leaves a stored value invalid: changing a field's type, removing a
select option or lowering a rating maximum while values depend on it is refused, unless the
caller asks for those values to be cleared, which is then part of the same change.
"""

from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm.attributes import flag_modified

from catalog import audit
from catalog.extensions import db
from catalog.models import CustomField, FieldSchema, SchemaField, User, VideoFieldValue
from catalog.models.fields import FIELD_TYPES, MAX_RATING, MIN_RATING
from catalog.rules import RuleError, refused_when_taken
from catalog.web.text import plural

NAME_LENGTH = 100
OPTION_LENGTH = 100
MAX_OPTIONS = 200
TEXT_DEFAULT_LENGTH = 500
DEFAULT_MAX_RATING = 5
YES, NO = "yes", "no"
FIELD_NAME_INDEX = "uq_custom_fields_lower_name"
CUSTOM_FIELD = audit.Entity("custom_field", key=attrgetter("name"))
FIELD_SCHEMA = audit.Entity("field_schema", key=attrgetter("name"))
SCHEMA_NAME_CONSTRAINT = "uq_field_schemas_name"


class FieldError(RuleError):
    """A rule refused the change and nothing was written; `field` names the input concerned."""


class ValuesInUse(FieldError):
    """The change would leave `count` videos with an invalid value. Nothing was written; the
    same change with clear_values=True deletes those values instead."""

    def __init__(self, message: str, count: int, field: str):
        super().__init__(message, field)
        self.count = count


def _quoted(items: Iterable[str]) -> str:
    return ", ".join(f"“{item}”" for item in items)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


# Custom fields.


def _name(name: Any) -> str:
    name = _text(name)
    if not name:
        raise FieldError("Enter a name.", "name")
    if len(name) > NAME_LENGTH:
        raise FieldError(f"A name can be at most {NAME_LENGTH} characters.", "name")
    return name


def _check_name_free(
    model: type[CustomField | FieldSchema], name: str, own: Any, taken: Callable[[str], str]
) -> None:
    """Refuse `name` when another row of `model` (not `own`) has it, whatever its case;
    `taken` words the refusal from the name found."""
    # lower() in PostgreSQL, as the unique index has it, not Python's own case folding.
    statement = select(model.name).where(func.lower(model.name) == func.lower(name))
    if own is not None:
        statement = statement.where(model.id != own.id)
    found = db.session.scalar(statement)
    if found is not None:
        raise FieldError(taken(found), "name")


def _check_field_name(name: str, field: CustomField | None) -> None:
    _check_name_free(CustomField, name, field, _field_taken)


def _options(options: Any) -> list[str]:
    """The options of a select field: stripped, blanks dropped, in the given order."""
    if isinstance(options, str):
        options = options.splitlines()
    cleaned = [text for text in (_text(option) for option in options or ()) if text]
    if not cleaned:
        raise FieldError("A select field needs at least one option.", "options")
    if len(cleaned) > MAX_OPTIONS:
        raise FieldError(f"A select field can have at most {MAX_OPTIONS} options.", "options")
    seen: dict[str, str] = {}
    for position, option in enumerate(cleaned):
        if len(option) > OPTION_LENGTH:
            raise FieldError(
                f"Each option can be at most {OPTION_LENGTH} characters; "
                f"“{option[:30]}…” is {len(option)}.",
                "options",
            )
        # Options differing only in case would read as one in a menu or a filter.
        earlier = seen.setdefault(option.casefold(), option)
        if cleaned.index(earlier) != position:
            problem = "is listed twice" if earlier == option else f"repeats “{earlier}”"
            raise FieldError(f"“{option}” {problem}; options must differ.", "options")
    return cleaned


def _max_rating(value: Any) -> int:
    try:
        maximum = int(value) if value not in (None, "") else DEFAULT_MAX_RATING
    except (TypeError, ValueError):
        raise FieldError("The maximum rating is a whole number.", "max_rating") from None
    if not MIN_RATING <= maximum <= MAX_RATING:
        raise FieldError(
            f"The maximum rating is between {MIN_RATING} and {MAX_RATING}.", "max_rating"
        )
    return maximum


def _config(field_type: str, values: dict[str, Any]) -> dict:
    if field_type == "select":
        return {"options": _options(values.get("options"))}
    if field_type == "rating":
        return {"max_rating": _max_rating(values.get("max_rating"))}
    return {}


def default_for(field_type: str, config: dict, raw: Any) -> str | int | bool | None:
    """`raw` as the default value of a field of this type and config (None: no default):
    text → str, select → one of the options, rating → int 1..max, boolean → bool
    (yes/no are accepted as text)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if field_type == "boolean":
        if isinstance(raw, bool):
            return raw
        answer = str(raw).strip().lower()
        if answer in (YES, "true"):
            return True
        if answer in (NO, "false"):
            return False
        raise FieldError("The default of a yes/no field is “yes”, “no” or empty.", "default_value")
    if field_type == "rating":
        maximum = int(config["max_rating"])
        try:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            rating = int(str(raw).strip()) if isinstance(raw, str) else int(raw)
        except (TypeError, ValueError):
            raise FieldError(
                f"The default rating is a whole number from 1 to {maximum}.", "default_value"
            ) from None
        if not 1 <= rating <= maximum:
            raise FieldError(f"The default rating is from 1 to {maximum}.", "default_value")
        return rating
    text = str(raw).strip()
    if field_type == "select":
        if text not in config["options"]:
            raise FieldError(
                f"The default must be one of the options: {_quoted(config['options'])}.",
                "default_value",
            )
        return text
    if len(text) > TEXT_DEFAULT_LENGTH:
        raise FieldError(
            f"A default text can be at most {TEXT_DEFAULT_LENGTH} characters.", "default_value"
        )
    return text


def _field_type(field_type: Any) -> str:
    if field_type not in FIELD_TYPES:
        raise FieldError("Choose a type.", "field_type")
    return field_type


def _field_state(field: CustomField) -> dict[str, Any]:
    """The audited attributes of a field: options and max_rating only where the type has them."""
    return {
        "name": field.name,
        "field_type": field.field_type,
        "description": field.description,
        "required": bool(field.required),
        "options": field.options if field.field_type == "select" else None,
        "max_rating": field.max_rating if field.field_type == "rating" else None,
        "default_value": field.default_value,
    }


def _same(old: Any, new: Any) -> bool:
    # True == 1 in Python, but a yes/no default is not a rating of 1.
    return old == new and type(old) is type(new)


def _diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list]:
    return {key: [old.get(key), new[key]] for key in new if not _same(old.get(key), new[key])}


# Here rather than in schemas.py: deleting a field audits the schemas that held it too.
def _schema_state(schema: FieldSchema) -> dict[str, Any]:
    """The audited attributes of a schema: channels by name, fields by name in order."""
    members = sorted(schema.fields, key=lambda m: (m.display_order, m.field.name.lower()))
    return {
        "name": schema.name,
        "description": schema.description,
        "channels": sorted(channel.name for channel in schema.channels),
        "fields": [member.field.name for member in members],
        "show_on_card": [member.field.name for member in members if member.show_on_card],
    }


def _definition(values: dict[str, Any]) -> dict[str, Any]:
    """Checked and normalized attributes of a field from the caller's `values`."""
    field_type = _field_type(values.get("field_type"))
    config = _config(field_type, values)
    return {
        "name": _name(values.get("name")),
        "field_type": field_type,
        "description": _text(values.get("description")),
        "required": bool(values.get("required")),
        "config": config,
        "default_value": default_for(field_type, config, values.get("default_value")),
    }


def create_field(values: dict[str, Any], *, actor: User | None, source: str = "web") -> CustomField:
    """Define a field from `values` (name, field_type, description, required, options for
    select, max_rating for rating, default_value) and record its creation."""
    definition = _definition(values)
    _check_field_name(definition["name"], None)
    field = CustomField(**definition)
    with refused_when_taken(FIELD_NAME_INDEX, FieldError(_field_taken(field.name), "name")):
        db.session.add(field)
    changes = {
        key: [None, value] for key, value in _field_state(field).items() if value is not None
    }
    CUSTOM_FIELD.write(field, "create", changes, actor=actor, source=source)
    return field


def _field_taken(name: str) -> str:
    return f"There is already a field named “{name}”."


def _invalidated(field: CustomField, definition: dict[str, Any]):
    """The values the new definition would make invalid, as (where-clause, message saying
    which, given their count, form input concerned); None when it keeps every value valid."""
    old_type, new_type = field.field_type, definition["field_type"]
    of_field = VideoFieldValue.field_id == field.id
    if old_type != new_type:
        return (
            of_field,
            lambda n: (
                f"{plural(n, 'video')} {_have(n)} a value of this field; changing its type from "
                f"{old_type} to {new_type} would make {_them(n)} invalid."
            ),
            "field_type",
        )
    if new_type == "select":
        kept = set(definition["config"]["options"])
        removed = [option for option in field.options if option not in kept]
        if removed:
            noun = "options" if len(removed) != 1 else "option"
            return (
                of_field & VideoFieldValue.value_text.in_(removed),
                lambda n: f"{plural(n, 'video')} {_use(n)} the removed {noun} {_quoted(removed)}.",
                "options",
            )
    if new_type == "rating":
        maximum = definition["config"]["max_rating"]
        if maximum < field.max_rating:
            return (
                of_field & (VideoFieldValue.value_numeric > maximum),
                lambda n: (
                    f"{plural(n, 'video')} {_have(n)} a rating above the new maximum of {maximum}."
                ),
                "max_rating",
            )
    return None


def _have(count: int) -> str:
    return "has" if count == 1 else "have"


def _use(count: int) -> str:
    return "uses" if count == 1 else "use"


def _them(count: int) -> str:
    return "it" if count == 1 else "them"


def update_field(
    field: CustomField,
    values: dict[str, Any],
    *,
    clear_values: bool = False,
    actor: User | None,
    source: str = "web",
) -> dict[str, list]:
    """Change the definition of `field` to `values` (as create_field takes them); return the
    changes, empty when there are none (and then nothing is written).

    If videos have values the new definition would make invalid (another type, a removed
    option, a lower maximum), ValuesInUse is raised and nothing changes, unless
    `clear_values` is true: then those values are deleted in the same transaction and the
    field's audit row says how many as "values_cleared": [N, 0].
    """
    definition = _definition(values)
    if definition["name"] != field.name:
        _check_field_name(definition["name"], field)
    old = _field_state(field)
    invalidated = _invalidated(field, definition)
    doomed = None
    if invalidated is not None:
        where, message, input_name = invalidated
        count = db.session.scalar(select(func.count()).select_from(VideoFieldValue).where(where))
        if count and not clear_values:
            raise ValuesInUse(
                f"{message(count)} Tick “Clear these values” to delete "
                f"{_them(count)} with this change, or undo the change.",
                count,
                input_name,
            )
        doomed = where if count else None
    with refused_when_taken(FIELD_NAME_INDEX, FieldError(_field_taken(definition["name"]), "name")):
        cleared = 0
        if doomed is not None:
            # One row on the field says how many values went. The videos' own histories get
            # no row each: no edit of theirs changed the value; the definition it depended
            # on did, and that is recorded here, with who and when.
            cleared = db.session.execute(delete(VideoFieldValue).where(doomed)).rowcount
        for attribute, value in definition.items():
            if not _same(getattr(field, attribute), value):
                setattr(field, attribute, value)
                # JSONB compares True == 1 as unchanged too; make sure it is written.
                flag_modified(field, attribute)
    changes = _diff(old, _field_state(field))
    if cleared:
        changes["values_cleared"] = [cleared, 0]
    if changes:
        CUSTOM_FIELD.write(field, "update", changes, actor=actor, source=source)
    return changes


def value_count(field: CustomField) -> int:
    """How many videos have a value of `field` (there is one value per video and field)."""
    statement = select(func.count()).select_from(VideoFieldValue)
    return db.session.scalar(statement.where(VideoFieldValue.field_id == field.id)) or 0


def delete_field(field: CustomField, *, actor: User | None, source: str = "web") -> int:
    """Delete `field`; its values and schema memberships go with it by the database's cascade.
    Returns the number of values deleted. The field's deletion row keeps its definition and
    that count; each schema that held it gets a row saying its fields changed."""
    count = value_count(field)
    changes = {
        key: [value, None] for key, value in _field_state(field).items() if value is not None
    }
    if count:
        changes["values_cleared"] = [count, 0]
    schemas = list(
        db.session.scalars(
            select(FieldSchema)
            .join(SchemaField, SchemaField.schema_id == FieldSchema.id)
            .where(SchemaField.field_id == field.id)
            .order_by(FieldSchema.name)
        )
    )
    for schema in schemas:
        before = _schema_state(schema)
        after = {
            **before,
            "fields": [name for name in before["fields"] if name != field.name],
            "show_on_card": [name for name in before["show_on_card"] if name != field.name],
        }
        FIELD_SCHEMA.record(schema, "update", _diff(before, after), actor=actor, source=source)
    CUSTOM_FIELD.record(field, "delete", changes, actor=actor, source=source)
    db.session.delete(field)
    db.session.flush()
    # The cascade ran in the database: the memberships the session still holds are gone.
    for schema in schemas:
        db.session.expire(schema, ["fields"])
    return count
