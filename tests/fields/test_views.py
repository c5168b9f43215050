"""The definition pages over HTTP: admin only, forms, refusals, confirmations, audit rows."""

import re

import pytest
from sqlalchemy import func, select

from catalog.models import CustomField, FieldSchema
from tests.factories import ChannelFactory, CustomFieldFactory, FieldSchemaFactory, VideoFactory
from tests.factories.fields import add_value
from tests.fields.conftest import audit_rows, values_of
from tests.helpers import csrf_token, post_form


def html(response) -> str:
    return response.get_data(as_text=True)


def field_form(**overrides) -> dict:
    return {"name": "Mood", "field_type": "text", "max_rating": "5", **overrides}


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_the_list_shows_each_definition_and_its_value_count(db_session, admin_client):
    rating = CustomFieldFactory(
        name="Rating", field_type="rating", config={"max_rating": 7}, default_value=3,
        required=True,
    )  # fmt: skip
    CustomFieldFactory(
        name="Mood", field_type="select", config={"options": ["calm", "wild"]}, default_value="wild"
    )
    CustomFieldFactory(name="Live", field_type="boolean", default_value=False)
    for stars in (1, 2):
        add_value(VideoFactory(), rating, stars)
    page = html(admin_client.get("/fields"))
    rows = re.findall(r'<tr data-testid="field-row".*?</tr>', page, re.S)
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]
    assert text[0].startswith("Live Yes / no — No No 0")
    assert text[1].startswith("Mood Select calm, wild No wild 0")
    assert text[2].startswith("Rating Rating 1 to 7 Yes 3 2")


def test_create_a_field(db_session, admin_client):
    response = post_form(
        admin_client, "/fields/new",
        field_form(name="Presentation", field_type="select", options="bad\r\n\r\n good\r\ngreat",
                   default_value="good", required="y"),
    )  # fmt: skip
    assert response.status_code == 302
    field = db_session.scalars(select(CustomField)).one()
    assert (field.name, field.config, field.default_value, field.required) == (
        "Presentation", {"options": ["bad", "good", "great"]}, "good", True
    )  # fmt: skip
    [row] = audit_rows(db_session, "custom_field", field.id)
    assert (row.action, row.source, row.user_email) == ("create", "web", admin_client.user.email)
    assert "Field “Presentation” created." in html(admin_client.get("/fields"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "rating"}, "There is already a field named “Rating”."),
        ({"field_type": ""}, "Choose a type."),
        ({"field_type": "select", "options": "a\nb\nA"}, "“A” repeats “a”"),
        ({"field_type": "select", "options": ""}, "needs at least one option"),
        ({"field_type": "rating", "max_rating": "12"}, "between 3 and 10"),
        ({"field_type": "rating", "max_rating": "x"}, "Not a valid integer value"),
        ({"field_type": "rating", "default_value": "9"}, "from 1 to 5"),
        ({"field_type": "boolean", "default_value": "perhaps"}, "“yes”, “no” or empty"),
    ],
)
def test_invalid_fields_are_refused_with_a_message_and_nothing_written(
    db_session, admin_client, overrides, message
):
    CustomFieldFactory(name="Rating", field_type="rating", config={"max_rating": 5})
    response = post_form(admin_client, "/fields/new", field_form(**overrides))
    assert response.status_code == 400
    assert message in html(response)
    assert count(db_session, CustomField) == 1
    assert audit_rows(db_session, "custom_field") == []


def test_the_edit_form_shows_the_definition(db_session, admin_client):
    field = CustomFieldFactory(
        name="Live", field_type="boolean", default_value=True, description="On stage?"
    )
    page = html(admin_client.get(f"/fields/{field.id}"))
    assert 'value="Live"' in page
    assert '<option selected value="boolean">' in page
    assert 'name="default_value" type="text" value="yes"' in page
    assert "On stage?" in page
    assert 'name="clear_values"' not in page  # offered only when needed


def test_a_type_change_with_values_is_refused_then_done_with_clearing(db_session, admin_client):
    field = CustomFieldFactory(name="Rating", field_type="rating", config={"max_rating": 5})
    for stars in (4, 5):
        add_value(VideoFactory(), field, stars)
    url = f"/fields/{field.id}"
    response = post_form(admin_client, url, field_form(name="Rating", field_type="text"))
    assert response.status_code == 400
    page = html(response)
    assert "2 videos have a value of this field; changing its type from rating to text" in page
    assert 'name="clear_values"' in page
    db_session.expire_all()
    assert field.field_type == "rating"
    assert values_of(db_session, field.id) == [4, 5]
    assert audit_rows(db_session, "custom_field") == []

    response = post_form(
        admin_client, url, field_form(name="Rating", field_type="text", clear_values="y")
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert field.field_type == "text"
    assert values_of(db_session, field.id) == []
    [row] = audit_rows(db_session, "custom_field", field.id)
    assert row.changes["values_cleared"] == [2, 0]
    assert "2 values cleared." in html(admin_client.get("/fields"))


def test_removing_an_option_in_use_is_refused_with_the_count(db_session, admin_client):
    field = CustomFieldFactory(
        name="Mood", field_type="select", config={"options": ["calm", "wild"]}
    )
    add_value(VideoFactory(), field, "wild")
    response = post_form(
        admin_client, f"/fields/{field.id}", field_form(field_type="select", options="calm\nserene")
    )
    assert response.status_code == 400
    assert "1 video uses the removed option “wild”." in html(response)
    db_session.expire_all()
    assert field.options == ["calm", "wild"]


def test_an_unchanged_save_says_so(db_session, admin_client):
    field = CustomFieldFactory(name="Mood")
    response = post_form(admin_client, f"/fields/{field.id}", field_form())
    assert response.status_code == 302
    assert "Nothing changed" in html(admin_client.get("/fields"))
    assert audit_rows(db_session, "custom_field") == []


def test_delete_asks_first_saying_how_many_values_go(db_session, admin_client):
    field = CustomFieldFactory(name="Mood")
    FieldSchemaFactory(name="Music", members=[field])
    for text in ("a", "b", "c"):
        add_value(VideoFactory(), field, text)
    field_id = field.id
    url = f"/fields/{field_id}/delete"
    page = html(admin_client.get(url))
    assert "<strong>3 values</strong>" in page
    assert "Music" in page
    assert count(db_session, CustomField) == 1
    response = post_form(admin_client, url)
    assert response.status_code == 302
    db_session.expire_all()
    assert count(db_session, CustomField) == 0
    assert values_of(db_session, field_id) == []
    [row] = audit_rows(db_session, "custom_field", field_id)
    assert row.action == "delete"
    assert "Field “Mood” deleted with its 3 values." in html(admin_client.get("/fields"))


def test_posts_without_the_csrf_token_are_refused(db_session, admin_client):
    field = CustomFieldFactory(name="Mood")
    assert admin_client.post("/fields/new", data=field_form(name="Other")).status_code == 400
    assert admin_client.post(f"/fields/{field.id}/delete").status_code == 400
    assert count(db_session, CustomField) == 1


def test_unknown_ids_are_not_found(db_session, admin_client):
    for url in ("/fields/999999", "/fields/99999999999", "/fields/schemas/999999/delete"):
        assert admin_client.get(url).status_code == 404


# Schemas.


def schema_form(fields, included, **overrides) -> dict:
    """The schema form as a browser posts it: a row per field in `fields`; `included` maps a
    field to (order, show on card)."""
    data = {"name": "Music", "description": ""}
    for index, field in enumerate(fields):
        data[f"members-{index}-field_id"] = str(field.id)
        if field in included:
            order, card = included[field]
            data[f"members-{index}-included"] = "y"
            data[f"members-{index}-display_order"] = "" if order is None else str(order)
            if card:
                data[f"members-{index}-show_on_card"] = "y"
    data.update(overrides)
    return data


def test_create_a_schema_with_ordered_fields_and_channels(db_session, admin_client):
    rating = CustomFieldFactory(name="Rating", field_type="rating", config={"max_rating": 5})
    mood = CustomFieldFactory(name="Mood")
    notes = CustomFieldFactory(name="Notes")
    rock, jazz = ChannelFactory(name="Rock"), ChannelFactory(name="Jazz")
    page = html(admin_client.get("/fields/schemas/new"))
    assert page.count('data-testid="member-row"') == 3
    data = schema_form([mood, notes, rating], {rating: (1, True), mood: (2, False)})
    data["channel_ids"] = [str(rock.id), str(jazz.id)]
    response = post_form(admin_client, "/fields/schemas/new", data)
    assert response.status_code == 302, html(response)
    schema = db_session.scalars(select(FieldSchema)).one()
    assert [(m.field.name, m.display_order, m.show_on_card) for m in schema.fields] == [
        ("Rating", 1, True),
        ("Mood", 2, False),
    ]
    assert sorted(c.name for c in schema.channels) == ["Jazz", "Rock"]
    [row] = audit_rows(db_session, "field_schema", schema.id)
    assert row.changes["channels"] == [None, ["Jazz", "Rock"]]
    listing = html(admin_client.get("/fields/schemas"))
    assert "Schema “Music” created." in listing
    assert "Jazz, Rock" in listing


def test_edit_a_schema_reorders_and_removes_fields(db_session, admin_client):
    rating = CustomFieldFactory(name="Rating", field_type="rating", config={"max_rating": 5})
    mood = CustomFieldFactory(name="Mood")
    notes = CustomFieldFactory(name="Notes")
    rock = ChannelFactory(name="Rock")
    schema = FieldSchemaFactory(name="Music", members=[rating, (mood, True)], channels=[rock])
    url = f"/fields/schemas/{schema.id}"
    page = html(admin_client.get(url))
    # The schema's fields first, in order, then the others.
    assert page.index("Rating") < page.index("Mood") < page.index("Notes")
    data = schema_form([rating, mood, notes], {mood: (1, False), notes: (None, True)})
    response = post_form(admin_client, url, data)
    assert response.status_code == 302, html(response)
    db_session.expire_all()
    assert [(m.field.name, m.display_order, m.show_on_card) for m in schema.fields] == [
        ("Mood", 1, False),
        ("Notes", 2, True),
    ]
    assert schema.channels == []  # none chosen: the schema now applies to every video
    [row] = audit_rows(db_session, "field_schema", schema.id)
    assert row.changes == {
        "channels": [["Rock"], []],
        "fields": [["Rating", "Mood"], ["Mood", "Notes"]],
        "show_on_card": [["Mood"], ["Notes"]],
    }


def test_a_refused_schema_form_comes_back_as_posted(db_session, admin_client):
    rating = CustomFieldFactory(name="Rating", field_type="rating", config={"max_rating": 5})
    mood = CustomFieldFactory(name="Mood")
    schema = FieldSchemaFactory(name="Music", members=[rating])
    data = schema_form([mood, rating], {mood: ("first", True), rating: (2, False)})
    response = post_form(admin_client, f"/fields/schemas/{schema.id}", data)
    assert response.status_code == 400
    page = html(response)
    assert "Not a valid integer value." in page
    assert page.index("Mood") < page.index("Rating")  # the rows as posted, not as stored
    assert 'aria-label="Show on card: Mood" checked' in page
    db_session.expire_all()
    assert [m.field.name for m in schema.fields] == ["Rating"]
    assert audit_rows(db_session, "field_schema") == []


def test_a_duplicate_schema_name_is_a_form_error(db_session, admin_client):
    FieldSchemaFactory(name="Music")
    response = post_form(admin_client, "/fields/schemas/new", {"name": "MUSIC"})
    assert response.status_code == 400
    assert "There is already a schema named “Music”." in html(response)
    assert count(db_session, FieldSchema) == 1


def test_delete_a_schema_after_confirmation(db_session, admin_client):
    field = CustomFieldFactory(name="Mood")
    schema_id = FieldSchemaFactory(name="Music", members=[field]).id
    url = f"/fields/schemas/{schema_id}/delete"
    assert "The fields themselves and their values on videos stay" in html(admin_client.get(url))
    assert post_form(admin_client, url).status_code == 302
    db_session.expire_all()
    assert count(db_session, FieldSchema) == 0
    assert count(db_session, CustomField) == 1
    [row] = audit_rows(db_session, "field_schema", schema_id)
    assert row.action == "delete"


# Who may.


@pytest.mark.parametrize("role", ["editor", "auditor", "viewer"])
def test_only_admins_define_fields(client, db_session, sign_in_as, role):
    sign_in_as(role)
    field = CustomFieldFactory(name="Mood")
    schema = FieldSchemaFactory(name="Music", members=[field])
    token = csrf_token(client.get("/videos"))
    attempts = [
        ("/fields/new", field_form(name="Other")),
        (f"/fields/{field.id}", field_form(name="Renamed")),
        (f"/fields/{field.id}/delete", {}),
        ("/fields/schemas/new", {"name": "Other"}),
        (f"/fields/schemas/{schema.id}", {"name": "Renamed"}),
        (f"/fields/schemas/{schema.id}/delete", {}),
    ]
    for url, data in attempts:
        assert client.get(url).status_code == 403
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 403
    assert client.get("/fields").status_code == 403
    db_session.expire_all()
    assert (field.name, schema.name) == ("Mood", "Music")
    assert audit_rows(db_session, "custom_field") == []
    assert audit_rows(db_session, "field_schema") == []
