"""What the video list's menus offer: the categories, the custom fields (filters, sort
keys and columns) and the channels suggested as one types in the channel filter."""

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by

from catalog.extensions import db
from catalog.models import Channel, CustomField, SchemaField, VideoCategory
from catalog.models.fields import FieldConfig
from catalog.web import menus
from catalog.web.filters import contains_pattern


@dataclass(frozen=True)
class FieldChoice(FieldConfig):
    """What the list needs of a custom field: to filter, sort and show it as a column."""

    id: int
    name: str
    field_type: str
    config: dict
    on_card: bool


def filter_choices(channel_id: int | None = None) -> tuple[str | None, list, list[FieldChoice]]:
    """The chosen channel's name, the categories and the custom fields for the filters and
    columns. The categories and fields are this process's copy while current (see
    catalog/web/menus.py); only a chosen channel's name is read. Channels are not listed:
    a catalog has hundreds or thousands; the filter finds them as you type."""
    categories, fields = menus.cached("videos", _categories_and_fields)
    name = None
    if channel_id is not None:
        name = db.session.scalar(select(Channel.name).where(Channel.id == channel_id))
    return name, categories, fields


def _categories_and_fields() -> tuple[list, list[FieldChoice]]:
    """The categories and the custom fields, in one statement."""
    pair = func.json_build_array(VideoCategory.id, VideoCategory.name)
    categories = select(
        func.coalesce(func.json_agg(aggregate_order_by(pair, VideoCategory.name)), text("'[]'"))
    ).scalar_subquery()
    on_card = (
        select(SchemaField.field_id)
        .where(SchemaField.field_id == CustomField.id, SchemaField.show_on_card)
        .exists()
    )
    fields = (
        select(
            func.coalesce(
                func.json_agg(
                    aggregate_order_by(
                        func.json_build_array(
                            CustomField.id, CustomField.name, CustomField.field_type,
                            CustomField.config, on_card,
                        ),
                        func.lower(CustomField.name),
                    )
                ),
                text("'[]'"),
            )
        ).scalar_subquery()
    )  # fmt: skip
    category_pairs, custom = db.session.execute(select(categories, fields)).one()
    return [tuple(p) for p in category_pairs], [FieldChoice(*row) for row in custom]


CHANNEL_SUGGESTIONS = 15


def channel_suggestions(text_: str) -> list[tuple[int, str, str]]:
    """Channels whose name or channel id contains `text_`, for the list's channel filter."""
    if not text_.strip():
        return []
    pattern = contains_pattern(text_.strip())
    rows = db.session.execute(
        select(Channel.id, Channel.name, Channel.channel_id)
        .where(
            func.lower(Channel.name).like(pattern) | func.lower(Channel.channel_id).like(pattern)
        )
        .order_by(func.lower(Channel.name))
        .limit(CHANNEL_SUGGESTIONS)
    )
    return [tuple(row) for row in rows]
