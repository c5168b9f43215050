"""The rules for defining custom fields (definitions.py) and field schemas (schemas.py), one
module each; callers use them through this package, as `fields.service`."""

from catalog.fields.service.definitions import (
    DEFAULT_MAX_RATING,
    MAX_OPTIONS,
    NAME_LENGTH,
    OPTION_LENGTH,
    TEXT_DEFAULT_LENGTH,
    FieldError,
    ValuesInUse,
    create_field,
    default_for,
    delete_field,
    update_field,
    value_count,
)
from catalog.fields.service.schemas import Member, create_schema, delete_schema, update_schema

__all__ = [
    "DEFAULT_MAX_RATING",
    "MAX_OPTIONS",
    "NAME_LENGTH",
    "OPTION_LENGTH",
    "TEXT_DEFAULT_LENGTH",
    "FieldError",
    "Member",
    "ValuesInUse",
    "create_field",
    "create_schema",
    "default_for",
    "delete_field",
    "delete_schema",
    "update_field",
    "update_schema",
    "value_count",
]
