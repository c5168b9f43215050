"""Custom fields, schemas and the values videos hold."""

from decimal import Decimal

import factory

from catalog.models import CustomField, FieldSchema, SchemaField, VideoFieldValue
from tests.factories.base import Base, state


class CustomFieldFactory(Base):
    """A text field by default; pass field_type and config for the others, e.g.
    CustomFieldFactory(field_type="rating", config={"max_rating": 5})."""

    class Meta:
        model = CustomField

    name = factory.Sequence(lambda n: f"Field {n}")
    field_type = "text"
    config = factory.LazyFunction(dict)


class FieldSchemaFactory(Base):
    """FieldSchemaFactory(members=[rating, (mood, True)], channels=[channel]): the schema's
    fields in display order, a (field, True) pair shown on cards; no channels = every video."""

    class Meta:
        model = FieldSchema

    name = factory.Sequence(lambda n: f"Schema {n}")
    channels = factory.LazyFunction(list)

    @factory.post_generation
    def members(self, create, members, **kwargs):
        for position, member in enumerate(members or (), start=1):
            field, on_card = member if isinstance(member, tuple) else (member, False)
            self.fields.append(
                SchemaField(field=field, display_order=position, show_on_card=on_card)
            )
        state.session.flush()


def add_value(video, field, value) -> VideoFieldValue:
    """A value of `field` on `video`, in the typed column its type uses."""
    column = field.value_column
    if column == "value_numeric":
        value = Decimal(value)
    row = VideoFieldValue(video_id=video.id, field_id=field.id, **{column: value})
    state.session.add(row)
    state.session.flush()
    return row
