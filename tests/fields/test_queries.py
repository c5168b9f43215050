"""Which fields apply to a video, which show as list columns, and the definitions list."""

import pytest
from sqlalchemy import event

from catalog.extensions import db
from catalog.fields import queries
from catalog.models import SchemaField
from tests.factories import ChannelFactory, CustomFieldFactory, FieldSchemaFactory, VideoFactory
from tests.factories.fields import add_value


class Statements:
    """Counts the SQL statements run inside the block."""

    def __enter__(self):
        self.count = 0
        self.engine = db.engine
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def _seen(self, *args):
        self.count += 1

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)


def names(pairs) -> list[tuple[str, int, bool]]:
    return [(field.name, member.display_order, member.show_on_card) for field, member in pairs]


@pytest.fixture
def catalog(app_ctx):
    """Two channels; a global schema, one for Rock, one for Jazz, sharing some fields."""
    rock, jazz = ChannelFactory(name="Rock"), ChannelFactory(name="Jazz")
    rating = CustomFieldFactory(name="Rating", field_type="rating", config={"max_rating": 5})
    mood = CustomFieldFactory(name="Mood", field_type="select", config={"options": ["a", "b"]})
    notes = CustomFieldFactory(name="Notes")
    live = CustomFieldFactory(name="Live", field_type="boolean")
    CustomFieldFactory(name="Unused")
    # Schema order is by name: "A rock" < "B global" < "C jazz".
    FieldSchemaFactory(name="B global", members=[rating, notes])
    FieldSchemaFactory(name="A rock", members=[(mood, True), (rating, True)], channels=[rock])
    FieldSchemaFactory(name="C jazz", members=[(notes, True), (live, True)], channels=[jazz])
    FieldSchemaFactory(name="D empty", channels=[rock])
    db.session.expire_all()
    return {"rock": rock, "jazz": jazz}


def test_a_channel_gets_its_schemas_and_the_global_ones_in_schema_order(catalog):
    # Rating is in "A rock" and "B global": it stays at its first place, and shows on cards
    # because one of its schemas says so.
    assert names(queries.applicable_fields(catalog["rock"].id)) == [
        ("Mood", 1, True),
        ("Rating", 2, True),
        ("Notes", 2, False),
    ]
    # Notes comes first from the global schema, its card flag from the Jazz schema.
    assert names(queries.applicable_fields(catalog["jazz"].id)) == [
        ("Rating", 1, False),
        ("Notes", 2, True),
        ("Live", 2, True),
    ]


def test_a_video_without_a_channel_or_of_another_channel_gets_the_global_schemas(catalog):
    expected = [("Rating", 1, False), ("Notes", 2, False)]
    assert names(queries.applicable_fields(None)) == expected
    assert names(queries.applicable_fields(ChannelFactory().id)) == expected


def test_no_schema_no_fields(app_ctx):
    CustomFieldFactory()
    assert queries.applicable_fields(None) == []
    assert queries.card_fields() == []


def test_applicable_fields_is_one_statement_and_leaves_the_session_clean(catalog):
    rock_id = catalog["rock"].id
    with Statements() as statements:
        pairs = queries.applicable_fields(rock_id)
    assert statements.count == 1
    [(field, member), *_] = pairs
    assert isinstance(member, SchemaField)
    assert member not in db.session
    assert field in db.session
    assert not db.session.new
    assert not db.session.dirty


def test_card_fields_are_those_on_a_card_anywhere_in_the_same_order(catalog):
    with Statements() as statements:
        fields = queries.card_fields()
    assert statements.count == 1
    assert [field.name for field in fields] == ["Mood", "Rating", "Notes", "Live"]


def test_the_field_list_counts_the_videos_with_a_value(app_ctx):
    rating = CustomFieldFactory(name="rating", field_type="rating", config={"max_rating": 5})
    mood = CustomFieldFactory(name="Mood")
    CustomFieldFactory(name="Zero")
    for stars in (1, 2, 3):
        add_value(VideoFactory(), rating, stars)
    add_value(VideoFactory(), mood, "x")
    with Statements() as statements:
        listed = [(field.name, videos) for field, videos in queries.field_list()]
    assert statements.count == 1
    assert listed == [("Mood", 1), ("rating", 3), ("Zero", 0)]
