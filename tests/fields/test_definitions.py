"""The rules of defining custom fields and schemas, and the audit row each change leaves."""

import pytest
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.fields import service
from catalog.fields.service import Member, definitions
from catalog.models import CustomField, FieldSchema, MetadataSync, SchemaField
from tests.factories import ChannelFactory, CustomFieldFactory, FieldSchemaFactory, VideoFactory
from tests.factories.fields import add_value
from tests.fields.conftest import audit_rows, values_of


def field_values(**overrides) -> dict:
    return {"name": "Mood", "field_type": "text", **overrides}


def rows(entity_type: str, entity_id: int | None = None) -> list[MetadataSync]:
    db.session.flush()
    return audit_rows(db.session, entity_type, entity_id)


@pytest.fixture
def rating(app_ctx):
    return CustomFieldFactory(name="Rating", field_type="rating", config={"max_rating": 5})


@pytest.fixture
def mood(app_ctx):
    return CustomFieldFactory(
        name="Mood", field_type="select", config={"options": ["calm", "warm", "wild"]}
    )


# Creating fields.


def test_create_records_the_definition(admin):
    field = service.create_field(
        {"name": " Presentation ", "field_type": "select",
         "options": ["bad", " good ", "", "great"], "description": " How it looks ",
         "required": True, "default_value": "good"},
        actor=admin,
    )  # fmt: skip
    assert field.name == "Presentation"
    assert field.config == {"options": ["bad", "good", "great"]}
    assert field.default_value == "good"
    assert field.required is True
    [row] = rows("custom_field", field.id)
    assert (row.action, row.entity_key, row.source) == ("create", "Presentation", "web")
    assert (row.user_id, row.user_email) == (admin.id, admin.email)
    assert row.changes == {
        "name": [None, "Presentation"],
        "field_type": [None, "select"],
        "description": [None, "How it looks"],
        "required": [None, True],
        "options": [None, ["bad", "good", "great"]],
        "default_value": [None, "good"],
    }


@pytest.mark.parametrize(
    ("values", "stored_config", "stored_default"),
    [
        ({"field_type": "rating", "max_rating": 10, "default_value": "7"}, {"max_rating": 10}, 7),
        ({"field_type": "rating", "max_rating": None}, {"max_rating": 5}, None),
        ({"field_type": "boolean", "default_value": "yes"}, {}, True),
        ({"field_type": "boolean", "default_value": "No"}, {}, False),
        ({"field_type": "boolean", "default_value": False}, {}, False),
        ({"field_type": "text", "default_value": " tbd "}, {}, "tbd"),
        ({"field_type": "text", "default_value": ""}, {}, None),
        # Inputs a type does not use are ignored rather than stored.
        ({"field_type": "text", "options": ["a"], "max_rating": 99}, {}, None),
    ],
)
def test_each_type_keeps_its_config_and_a_typed_default(
    admin, values, stored_config, stored_default
):
    field = service.create_field(field_values(**values), actor=admin)
    db.session.expire(field)
    assert field.config == stored_config
    assert field.default_value == stored_default
    assert type(field.default_value) is type(stored_default)


@pytest.mark.parametrize(
    ("values", "input_name", "message"),
    [
        ({"name": "  "}, "name", "Enter a name"),
        ({"name": "x" * 101}, "name", "at most 100"),
        ({"field_type": "colour"}, "field_type", "Choose a type"),
        ({"field_type": "select", "options": ["", " "]}, "options", "at least one option"),
        ({"field_type": "select", "options": ["Good", "bad", "Good"]}, "options", "listed twice"),
        ({"field_type": "select", "options": ["Good", "bad", "good"]}, "options",
         "“good” repeats “Good”"),
        ({"field_type": "select", "options": ["x" * 101]}, "options", "at most 100 characters"),
        ({"field_type": "rating", "max_rating": 2}, "max_rating", "between 3 and 10"),
        ({"field_type": "rating", "max_rating": 11}, "max_rating", "between 3 and 10"),
        ({"field_type": "rating", "default_value": "6"}, "default_value", "from 1 to 5"),
        ({"field_type": "rating", "default_value": "0"}, "default_value", "from 1 to 5"),
        ({"field_type": "rating", "default_value": "4.5"}, "default_value", "whole number"),
        ({"field_type": "select", "options": ["a", "b"], "default_value": "c"}, "default_value",
         "one of the options"),
        ({"field_type": "boolean", "default_value": "maybe"}, "default_value", "“yes”, “no”"),
        ({"field_type": "text", "default_value": "x" * 501}, "default_value", "at most 500"),
    ],
)  # fmt: skip
def test_invalid_definitions_are_refused_and_nothing_is_written(admin, values, input_name, message):
    with pytest.raises(service.FieldError) as caught:
        service.create_field(field_values(**values), actor=admin)
    assert caught.value.field == input_name
    assert message in str(caught.value)
    assert db.session.scalar(select(func.count()).select_from(CustomField)) == 0
    assert rows("custom_field") == []


def test_names_are_unique_whatever_their_case(admin, rating):
    with pytest.raises(service.FieldError, match="already a field named “Rating”") as caught:
        service.create_field(field_values(name="RATING"), actor=admin)
    assert caught.value.field == "name"
    other = CustomFieldFactory(name="Other")
    with pytest.raises(service.FieldError, match="already a field"):
        service.update_field(other, field_values(name="rating"), actor=admin)
    # A field may change the case of its own name.
    service.update_field(rating, {"name": "RATING", "field_type": "rating"}, actor=admin)
    assert rating.name == "RATING"


def test_a_name_taken_concurrently_is_a_form_error_and_the_transaction_lives_on(
    admin, rating, monkeypatch
):
    """Between the check and the write another transaction can take the name; the unique
    index refuses it then, reported as the check would, in a savepoint the caller survives."""
    monkeypatch.setattr(definitions, "_check_field_name", lambda name, field: None)
    with pytest.raises(service.FieldError, match="already a field named") as caught:
        service.create_field(field_values(name="rating"), actor=admin)
    assert caught.value.field == "name"
    other = CustomFieldFactory(name="Other")
    with pytest.raises(service.FieldError, match="already a field named"):
        service.update_field(other, field_values(name="rATING"), actor=admin)
    assert db.session.get(CustomField, other.id).name == "Other"
    assert db.session.scalar(select(func.count()).select_from(CustomField)) == 2
    assert rows("custom_field") == []


# Changing fields.


def test_update_records_only_what_changed(admin, mood):
    changes = service.update_field(
        mood,
        {"name": "Feeling", "field_type": "select", "options": ["warm", "calm", "wild", "odd"],
         "required": True, "default_value": "odd"},
        actor=admin,
    )  # fmt: skip
    expected = {
        "name": ["Mood", "Feeling"],
        "options": [["calm", "warm", "wild"], ["warm", "calm", "wild", "odd"]],
        "required": [False, True],
        "default_value": [None, "odd"],
    }
    assert changes == expected
    [row] = rows("custom_field", mood.id)
    assert (row.action, row.entity_key, row.changes) == ("update", "Feeling", expected)


def test_an_update_that_changes_nothing_writes_nothing(admin, rating):
    assert (
        service.update_field(rating, {"name": "Rating", "field_type": "rating"}, actor=admin) == {}
    )
    assert rows("custom_field") == []


def test_changing_the_type_of_a_field_with_values_is_refused(admin, rating):
    for stars in (2, 5):
        add_value(VideoFactory(), rating, stars)
    with pytest.raises(service.ValuesInUse) as caught:
        service.update_field(rating, field_values(name="Rating"), actor=admin)
    assert caught.value.count == 2
    assert caught.value.field == "field_type"
    assert str(caught.value).startswith(
        "2 videos have a value of this field; changing its type from rating to text"
    )
    db.session.expire_all()
    assert rating.field_type == "rating"
    assert values_of(db.session, rating.id) == [2, 5]
    assert rows("custom_field") == []


def test_changing_the_type_clears_the_values_when_asked(admin, rating):
    for stars in (2, 5, 3):
        add_value(VideoFactory(), rating, stars)
    changes = service.update_field(
        rating, {"name": "Rating", "field_type": "boolean"}, clear_values=True, actor=admin
    )
    assert values_of(db.session, rating.id) == []
    assert rating.field_type == "boolean"
    assert rating.config == {}
    [row] = rows("custom_field", rating.id)
    assert (
        row.changes
        == changes
        == {
            "field_type": ["rating", "boolean"],
            "max_rating": [5, None],
            "values_cleared": [3, 0],
        }
    )


def test_the_type_of_an_unused_field_changes_freely(admin, rating):
    add_value(VideoFactory(), CustomFieldFactory(), "someone else's")
    changes = service.update_field(rating, field_values(name="Rating"), actor=admin)
    assert changes == {"field_type": ["rating", "text"], "max_rating": [5, None]}


def test_removing_an_option_in_use_is_refused_with_the_count(admin, mood):
    for option in ("calm", "wild", "wild", "warm"):
        add_value(VideoFactory(), mood, option)
    with pytest.raises(service.ValuesInUse) as caught:
        service.update_field(
            mood, {"name": "Mood", "field_type": "select", "options": ["calm", "Warm"]},
            actor=admin,
        )  # fmt: skip
    assert caught.value.count == 3
    assert caught.value.field == "options"
    assert "3 videos use the removed options “warm”, “wild”." in str(caught.value)
    db.session.expire_all()
    assert mood.options == ["calm", "warm", "wild"]
    assert rows("custom_field") == []


def test_removing_an_unused_option_and_reordering_is_allowed(admin, mood):
    add_value(VideoFactory(), mood, "calm")
    changes = service.update_field(
        mood, {"name": "Mood", "field_type": "select", "options": ["wild", "calm"]},
        actor=admin,
    )  # fmt: skip
    assert changes == {"options": [["calm", "warm", "wild"], ["wild", "calm"]]}
    assert values_of(db.session, mood.id) == ["calm"]


def test_removing_options_clears_only_their_values_when_asked(admin, mood):
    for option in ("calm", "wild", "warm"):
        add_value(VideoFactory(), mood, option)
    changes = service.update_field(
        mood, {"name": "Mood", "field_type": "select", "options": ["calm", "warm"]},
        clear_values=True, actor=admin,
    )  # fmt: skip
    assert values_of(db.session, mood.id) == ["calm", "warm"]
    assert changes["values_cleared"] == [1, 0]


def test_lowering_the_maximum_below_ratings_in_use_is_refused(admin, rating):
    for stars in (3, 4, 5, 5):
        add_value(VideoFactory(), rating, stars)
    with pytest.raises(service.ValuesInUse) as caught:
        service.update_field(
            rating, {"name": "Rating", "field_type": "rating", "max_rating": 3}, actor=admin
        )
    assert caught.value.count == 3
    assert caught.value.field == "max_rating"
    assert "3 videos have a rating above the new maximum of 3." in str(caught.value)
    db.session.expire_all()
    assert rating.max_rating == 5
    changes = service.update_field(
        rating, {"name": "Rating", "field_type": "rating", "max_rating": 4}, clear_values=True,
        actor=admin,
    )  # fmt: skip
    assert changes == {"max_rating": [5, 4], "values_cleared": [2, 0]}
    assert values_of(db.session, rating.id) == [3, 4]


def test_raising_the_maximum_keeps_every_rating(admin, rating):
    add_value(VideoFactory(), rating, 5)
    changes = service.update_field(
        rating, {"name": "Rating", "field_type": "rating", "max_rating": 10}, actor=admin
    )
    assert changes == {"max_rating": [5, 10]}
    assert values_of(db.session, rating.id) == [5]


def test_the_default_is_checked_against_the_new_definition(admin, rating):
    rating.default_value = 5
    with pytest.raises(service.FieldError, match="from 1 to 4") as caught:
        service.update_field(
            rating, {"name": "Rating", "field_type": "rating", "max_rating": 4,
                     "default_value": 5}, actor=admin,
        )  # fmt: skip
    assert caught.value.field == "default_value"


def test_a_yes_default_becomes_a_rating_of_one_not_left_as_true(admin):
    field = CustomFieldFactory(name="Live", field_type="boolean", default_value=True)
    changes = service.update_field(
        field, {"name": "Live", "field_type": "rating", "default_value": "1"}, actor=admin
    )
    assert changes["default_value"] == [True, 1]
    db.session.expire(field)
    assert field.default_value == 1
    assert type(field.default_value) is int


# Deleting fields.


def test_delete_removes_the_values_and_records_the_definition(admin, mood):
    schema = FieldSchemaFactory(
        name="Look", members=[CustomFieldFactory(name="Other"), (mood, True)]
    )
    for option in ("calm", "wild"):
        add_value(VideoFactory(), mood, option)
    field_id = mood.id
    assert service.delete_field(mood, actor=admin) == 2
    assert db.session.get(CustomField, field_id) is None
    assert values_of(db.session, field_id) == []
    [row] = rows("custom_field", field_id)
    assert (row.action, row.entity_key) == ("delete", "Mood")
    assert row.changes == {
        "name": ["Mood", None],
        "field_type": ["select", None],
        "required": [False, None],
        "options": [["calm", "warm", "wild"], None],
        "values_cleared": [2, 0],
    }
    [schema_row] = rows("field_schema", schema.id)
    assert schema_row.changes == {
        "fields": [["Other", "Mood"], ["Other"]],
        "show_on_card": [["Mood"], []],
    }
    assert [m.field.name for m in schema.fields] == ["Other"]


# Schemas.


def test_create_schema_orders_fields_and_records_everything(admin, rating, mood):
    notes = CustomFieldFactory(name="Notes")
    rock, jazz = ChannelFactory(name="Rock"), ChannelFactory(name="Jazz")
    schema = service.create_schema(
        {"name": " Music ", "description": "", "channel_ids": [rock.id, jazz.id],
         "members": [Member(notes.id), Member(rating.id, 2, True), Member(mood.id, 1)]},
        actor=admin,
    )  # fmt: skip
    db.session.expire_all()
    assert schema.name == "Music"
    assert [(m.field.name, m.display_order, m.show_on_card) for m in schema.fields] == [
        ("Mood", 1, False),
        ("Rating", 2, True),
        ("Notes", 3, False),
    ]
    [row] = rows("field_schema", schema.id)
    assert (row.action, row.entity_key) == ("create", "Music")
    assert row.changes == {
        "name": [None, "Music"],
        "channels": [None, ["Jazz", "Rock"]],
        "fields": [None, ["Mood", "Rating", "Notes"]],
        "show_on_card": [None, ["Rating"]],
    }


def test_update_schema_reorders_adds_removes_and_attaches(admin, rating, mood):
    notes = CustomFieldFactory(name="Notes")
    rock = ChannelFactory(name="Rock")
    schema = FieldSchemaFactory(name="Music", members=[rating, (mood, True)])
    changes = service.update_schema(
        schema,
        {"name": "Music", "description": "For songs", "channel_ids": [rock.id],
         "members": [Member(mood.id, 5), Member(notes.id, 1, True)]},
        actor=admin,
    )  # fmt: skip
    assert changes == {
        "description": [None, "For songs"],
        "channels": [[], ["Rock"]],
        "fields": [["Rating", "Mood"], ["Notes", "Mood"]],
        "show_on_card": [["Mood"], ["Notes"]],
    }
    db.session.expire_all()
    assert [(m.field.name, m.display_order, m.show_on_card) for m in schema.fields] == [
        ("Notes", 1, True),
        ("Mood", 2, False),
    ]
    assert [c.name for c in schema.channels] == ["Rock"]
    [row] = rows("field_schema", schema.id)
    assert row.changes == changes
    # A field that leaves a schema keeps the field itself.
    assert db.session.get(CustomField, rating.id) is not None


def test_detaching_every_channel_makes_a_schema_global(admin, rating):
    rock = ChannelFactory(name="Rock")
    schema = FieldSchemaFactory(name="Music", members=[rating], channels=[rock])
    changes = service.update_schema(
        schema, {"name": "Music", "channel_ids": [], "members": [Member(rating.id)]},
        actor=admin,
    )  # fmt: skip
    assert changes == {"channels": [["Rock"], []]}


def test_an_unchanged_schema_writes_nothing(admin, rating):
    schema = FieldSchemaFactory(name="Music", members=[(rating, True)])
    values = {"name": "Music", "members": [Member(rating.id, 7, True)]}
    assert service.update_schema(schema, values, actor=admin) == {}
    assert rows("field_schema") == []


@pytest.mark.parametrize(
    ("values", "input_name", "message"),
    [
        ({"name": "music"}, "name", "already a schema named “Music”"),
        ({"name": ""}, "name", "Enter a name"),
        ({"channel_ids": [2**31 - 1]}, "channel_ids", "no longer exists"),
        ({"members": [Member(2**31 - 1)]}, "members", "no longer exists"),
        ({"members": "twice"}, "members", "only once"),
    ],
)
def test_invalid_schemas_are_refused_and_nothing_is_written(
    admin, rating, values, input_name, message
):
    FieldSchemaFactory(name="Music")
    if values.get("members") == "twice":
        values["members"] = [Member(rating.id), Member(rating.id)]
    with pytest.raises(service.FieldError, match=message) as caught:
        service.create_schema({"name": "Other", **values}, actor=admin)
    assert caught.value.field == input_name
    assert db.session.scalar(select(func.count()).select_from(FieldSchema)) == 1
    assert rows("field_schema") == []


def test_delete_schema_keeps_fields_and_values(admin, rating):
    schema = FieldSchemaFactory(
        name="Music", members=[(rating, True)], channels=[ChannelFactory(name="Rock")]
    )
    add_value(VideoFactory(), rating, 4)
    schema_id = schema.id
    service.delete_schema(schema, actor=admin)
    assert db.session.get(FieldSchema, schema_id) is None
    assert db.session.scalar(select(func.count()).select_from(SchemaField)) == 0
    assert values_of(db.session, rating.id) == [4]
    [row] = rows("field_schema", schema_id)
    assert (row.action, row.entity_key) == ("delete", "Music")
    assert row.changes == {
        "name": ["Music", None],
        "channels": [["Rock"], None],
        "fields": [["Rating"], None],
        "show_on_card": [["Rating"], None],
    }
