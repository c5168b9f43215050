"""Edit in place on the video list (issue 18 §3): a cell's editor and its save, which is the
edit form's save of one value: the same version check, the same audit row."""

import re

import pytest
from sqlalchemy import select

from catalog.models import MetadataSync, VideoFieldValue
from tests.factories import CategoryFactory, ChannelFactory, VideoFactory
from tests.factories.fields import CustomFieldFactory, FieldSchemaFactory, add_value
from tests.helpers import csrf_token
from tests.videos.test_views import form_data


def audit_rows(session, video) -> list[MetadataSync]:
    return session.scalars(
        select(MetadataSync)
        .where(MetadataSync.entity_type == "video", MetadataSync.entity_id == video.id)
        .order_by(MetadataSync.id)
    ).all()


def open_cell(client, video, column: str):
    response = client.get(f"/videos/{video.video_id}/cell/{column}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response


def save_cell(client, video, column: str, value, *, version=None, token=None):
    token = token or csrf_token(open_cell(client, video, column))
    return client.post(
        f"/videos/{video.video_id}/cell/{column}",
        data={"csrf_token": token, "version": video.version if version is None else version,
              "value": value},
    )  # fmt: skip


@pytest.fixture
def rating(db_session):
    field = CustomFieldFactory(name="Presentation", field_type="rating", config={"max_rating": 5})
    FieldSchemaFactory(members=[(field, True)])
    return field


@pytest.fixture
def mood(db_session):
    field = CustomFieldFactory(
        name="Mood", field_type="select", config={"options": ["calm", "wild"]}
    )
    FieldSchemaFactory(members=[(field, True)])
    return field


def test_the_editor_carries_the_value_the_version_the_choices_and_a_csrf_token(
    db_session, editor_client
):
    video = VideoFactory(privacy_status="unlisted")
    html = open_cell(editor_client, video, "privacy").get_data(as_text=True)
    assert 'name="csrf_token"' in html
    assert f'name="version" type="hidden" value="{video.version}"' in html
    assert '<option selected value="unlisted">' in html
    assert '<option value="public">' in html
    assert 'data-state="edit"' in html


@pytest.mark.parametrize(
    ("column", "attribute", "before", "value", "after"),
    [
        ("privacy", "privacy_status", "public", "private", "private"),
        ("claim", "claimed_status", None, "dispute", "dispute"),
        ("notes", "notes", "old note", "  a new note\r\nsecond line ", "a new note\nsecond line"),
        ("privacy", "privacy_status", "public", "", None),
    ],
)
def test_a_save_changes_that_value_only_and_writes_the_edit_forms_audit_row(
    db_session, editor_client, column, attribute, before, value, after
):
    video = VideoFactory(title="Stays", views=7, **{attribute: before})
    version = video.version
    response = save_cell(editor_client, video, column, value)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-state="saved"' in html
    # The row's Last change too: who, now (inplace.js puts it into that column), written as
    # the list writes it.
    last_change = re.search(
        rf"<template data-last-change>([^<]+<br>{re.escape(editor_client.user.email)})<", html
    ).group(1)
    listed = editor_client.get(f"/videos?q={video.video_id}").get_data(as_text=True)
    assert f'<td class="s">{last_change}' in listed
    db_session.expire_all()
    assert getattr(video, attribute) == after
    assert (video.title, video.views, video.version) == ("Stays", 7, version + 1)
    [row] = audit_rows(db_session, video)
    assert row.changes == {attribute: [before, after]}
    assert (row.source, row.action, row.user_email) == ("web", "update", editor_client.user.email)


def test_a_category_saves_and_shows_its_name(db_session, editor_client):
    category = CategoryFactory(name="Live sessions")
    video = VideoFactory()
    response = save_cell(editor_client, video, "category", str(category.id))
    assert response.status_code == 200
    assert "Live sessions" in response.get_data(as_text=True)
    db_session.expire_all()
    assert video.category_id == category.id


def test_custom_select_and_rating_values_save_as_on_the_form(
    db_session, editor_client, rating, mood
):
    video = VideoFactory()
    add_value(video, rating, 2)
    assert save_cell(editor_client, video, f"cf{rating.id}", "4").status_code == 200
    db_session.expire_all()
    response = save_cell(editor_client, video, f"cf{mood.id}", "wild")
    assert response.status_code == 200
    values = {
        row.field_id: row.value
        for row in db_session.scalars(
            select(VideoFieldValue).where(VideoFieldValue.video_id == video.id)
        )
    }
    assert values == {rating.id: 4, mood.id: "wild"}
    assert [row.changes for row in audit_rows(db_session, video)] == [
        {"field:Presentation": [2, 4]},
        {"field:Mood": [None, "wild"]},
    ]


def test_the_audit_row_is_the_edit_forms_for_the_same_change(db_session, client, sign_in_as):
    """The same change made once in place and once through the edit form leaves the same row
    (but for its id and time)."""
    sign_in_as("editor")
    channel = ChannelFactory()  # same title and channel: the rows' snapshots match
    in_place, on_form = (
        VideoFactory(privacy_status="public", title="Same", channel=channel) for _ in range(2)
    )
    assert save_cell(client, in_place, "privacy", "unlisted").status_code == 200
    token = csrf_token(client.get(f"/videos/{on_form.video_id}/edit"))
    response = client.post(
        f"/videos/{on_form.video_id}/edit",
        data=form_data(on_form, token, privacy_status="unlisted"),
    )
    assert response.status_code == 302

    def shape(row):
        kept = ("action", "source", "changes", "user_id", "user_email", "video_title",
                "channel_display_name", "entity_type", "batch_id", "reverts_id")  # fmt: skip
        return {name: getattr(row, name) for name in kept}

    [placed], [formed] = audit_rows(db_session, in_place), audit_rows(db_session, on_form)
    assert shape(placed) == shape(formed)
    assert placed.changes == {"privacy_status": ["public", "unlisted"]}


def test_a_stale_version_is_a_conflict_that_shows_the_current_value(db_session, editor_client):
    video = VideoFactory(privacy_status="public")
    stale = video.version
    token = csrf_token(open_cell(editor_client, video, "privacy"))
    assert save_cell(editor_client, video, "privacy", "private", token=token).status_code == 200
    db_session.expire_all()
    response = save_cell(editor_client, video, "privacy", "unlisted", version=stale, token=token)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'data-state="conflict"' in html
    assert 'data-testid="cell-current">private<' in html
    # The editor keeps the chosen value, now against the current version: overwriting is
    # one deliberate save more.
    assert '<option selected value="unlisted">' in html
    assert f'name="version" type="hidden" value="{video.version}"' in html
    db_session.expire_all()
    assert video.privacy_status == "private"
    assert len(audit_rows(db_session, video)) == 1
    overwrite = save_cell(editor_client, video, "privacy", "unlisted", token=token)
    assert overwrite.status_code == 200
    db_session.expire_all()
    assert video.privacy_status == "unlisted"


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("privacy", "secret", "Not a valid choice"),
        ("claim", "maybe", "Not a valid choice"),
        ("notes", "x" * 501, "500 characters"),
        ("category", "999999", "Not a valid choice"),
        # As on the edit form: a custom value is one of its menu's (ratings 1..max, options).
        ("rating", "6", "Not a valid choice"),
        ("rating", "x", "Not a valid choice"),
        ("mood", "sleepy", "Not a valid choice"),
    ],
)
def test_bad_input_is_an_error_in_the_row_and_changes_nothing(
    db_session, editor_client, rating, mood, column, value, message
):
    column = {"rating": f"cf{rating.id}", "mood": f"cf{mood.id}"}.get(column, column)
    video = VideoFactory(privacy_status="public", notes="keep", claimed_status="claim")
    add_value(video, rating, 3)
    version = video.version
    response = save_cell(editor_client, video, column, value)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-state="error"' in html
    assert message in html
    db_session.expire_all()
    assert (video.privacy_status, video.notes, video.claimed_status, video.version) == (
        "public", "keep", "claim", version,
    )  # fmt: skip
    assert audit_rows(db_session, video) == []


def test_a_post_without_the_csrf_token_is_refused(db_session, editor_client):
    video = VideoFactory(privacy_status="public")
    response = editor_client.post(
        f"/videos/{video.video_id}/cell/privacy",
        data={"version": video.version, "value": "private"},
    )
    assert response.status_code == 400
    db_session.expire_all()
    assert video.privacy_status == "public"
    assert audit_rows(db_session, video) == []


@pytest.mark.parametrize("column", ["title", "views", "cf999999", "cf", "video_id"])
def test_columns_that_do_not_edit_in_place_are_not_found(db_session, editor_client, column):
    video = VideoFactory()
    assert editor_client.get(f"/videos/{video.video_id}/cell/{column}").status_code == 404


def test_a_custom_field_that_does_not_apply_to_the_video_is_not_found(db_session, editor_client):
    elsewhere = CustomFieldFactory(field_type="rating", config={"max_rating": 5})
    FieldSchemaFactory(members=[(elsewhere, True)], channels=[ChannelFactory()])
    video = VideoFactory()
    assert editor_client.get(f"/videos/{video.video_id}/cell/cf{elsewhere.id}").status_code == 404


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_readers_get_no_editor_and_the_endpoints_refuse_them(db_session, client, sign_in_as, role):
    sign_in_as(role)
    video = VideoFactory(privacy_status="public")
    assert client.get(f"/videos/{video.video_id}/cell/privacy").status_code == 403
    token = csrf_token(client.get("/videos"))
    response = client.post(
        f"/videos/{video.video_id}/cell/privacy",
        data={"csrf_token": token, "version": video.version, "value": "private"},
    )
    assert response.status_code == 403
    html = client.get("/videos").get_data(as_text=True)
    assert "data-edit" not in html
    db_session.expire_all()
    assert video.privacy_status == "public"
