"""The data model of custom fields, enforced by the database itself."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from catalog.models import CustomField, SchemaField, VideoFieldValue, schema_channels
from tests.factories import ChannelFactory, CustomFieldFactory, FieldSchemaFactory, VideoFactory
from tests.factories.fields import add_value


def count(session, model, **where) -> int:
    statement = select(func.count()).select_from(model)
    for column, value in where.items():
        statement = statement.where(
            getattr(model.c if hasattr(model, "c") else model, column) == value
        )
    return session.scalar(statement)


def refused(session, *objects) -> IntegrityError:
    """Add `objects` in a savepoint and return the database's refusal."""
    savepoint = session.begin_nested()
    session.add_all(objects)
    with pytest.raises(IntegrityError) as caught:
        session.flush()
    savepoint.rollback()
    return caught.value


def test_deleting_a_field_deletes_its_values_and_memberships(db_session):
    field = CustomFieldFactory()
    other = CustomFieldFactory()
    FieldSchemaFactory(members=[field, other])
    videos = VideoFactory.create_batch(3)
    for video in videos:
        add_value(video, field, "x")
        add_value(video, other, "y")
    db_session.delete(field)
    db_session.flush()
    db_session.expire_all()
    assert count(db_session, VideoFieldValue, field_id=field.id) == 0
    assert count(db_session, VideoFieldValue, field_id=other.id) == 3
    assert count(db_session, SchemaField, field_id=field.id) == 0
    assert count(db_session, SchemaField, field_id=other.id) == 1


def test_deleting_a_video_deletes_its_values(db_session):
    field = CustomFieldFactory()
    doomed, kept = VideoFactory(), VideoFactory()
    add_value(doomed, field, "x")
    add_value(kept, field, "y")
    db_session.delete(doomed)
    db_session.flush()
    assert count(db_session, VideoFieldValue, video_id=doomed.id) == 0
    assert count(db_session, VideoFieldValue, video_id=kept.id) == 1


def test_one_value_per_video_and_field(db_session):
    field = CustomFieldFactory()
    video = VideoFactory()
    add_value(video, field, "first")
    error = refused(
        db_session, VideoFieldValue(video_id=video.id, field_id=field.id, value_text="2")
    )
    assert error.orig.diag.constraint_name == "uq_video_field_values_video_id_field_id"


@pytest.mark.parametrize(
    "columns",
    [
        {},
        {"value_text": "x", "value_numeric": Decimal(3)},
        {"value_text": "x", "value_boolean": True},
    ],
    ids=["none", "text and number", "text and boolean"],
)
def test_exactly_one_typed_column_is_set(db_session, columns):
    field = CustomFieldFactory()
    video = VideoFactory()
    error = refused(db_session, VideoFieldValue(video_id=video.id, field_id=field.id, **columns))
    assert error.orig.diag.constraint_name == "ck_video_field_values_one_value"


def test_values_live_in_the_column_of_their_type(db_session):
    rating = CustomFieldFactory(field_type="rating", config={"max_rating": 5})
    mood = CustomFieldFactory(field_type="select", config={"options": ["calm", "wild"]})
    live = CustomFieldFactory(field_type="boolean")
    video = VideoFactory()
    stored = [
        add_value(video, rating, 4),
        add_value(video, mood, "calm"),
        add_value(video, live, False),
    ]
    db_session.expire_all()
    assert [(v.value_text, v.value_numeric, v.value_boolean) for v in stored] == [
        (None, Decimal(4), None),
        ("calm", None, None),
        (None, None, False),
    ]
    assert [v.value for v in stored] == [4, "calm", False]
    assert isinstance(stored[0].value, int)


def test_field_names_are_unique_whatever_their_case(db_session):
    CustomFieldFactory(name="Rating")
    error = refused(db_session, CustomField(name="rATING", field_type="text", config={}))
    assert error.orig.diag.constraint_name == "uq_custom_fields_lower_name"


def test_unknown_field_types_are_refused(db_session):
    error = refused(db_session, CustomField(name="Colour", field_type="colour", config={}))
    assert error.orig.diag.constraint_name == "ck_custom_fields_known_field_type"


def test_deleting_a_schema_keeps_its_fields_and_values(db_session):
    field = CustomFieldFactory()
    channel = ChannelFactory()
    schema = FieldSchemaFactory(members=[field], channels=[channel])
    add_value(VideoFactory(), field, "x")
    db_session.delete(schema)
    db_session.flush()
    assert count(db_session, SchemaField, field_id=field.id) == 0
    assert count(db_session, schema_channels, schema_id=schema.id) == 0
    assert count(db_session, CustomField, id=field.id) == 1
    assert count(db_session, VideoFieldValue, field_id=field.id) == 1


def test_deleting_a_channel_detaches_it_from_schemas(db_session):
    channel, other = ChannelFactory(), ChannelFactory()
    schema = FieldSchemaFactory(channels=[channel, other])
    db_session.delete(channel)
    db_session.flush()
    db_session.expire_all()
    assert [c.id for c in schema.channels] == [other.id]
