"""Posting a video's edit form exactly as it was rendered changes nothing and writes no audit
row: checked over every demo video, with custom values of every type, and over values
that are easy to lose on the way through a browser (seconds, line breaks, inactive choices)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from catalog.extensions import db
from catalog.models import (
    Channel,
    CustomField,
    FieldSchema,
    MetadataSync,
    SchemaField,
    Video,
    VideoCategory,
    VideoFieldValue,
)
from catalog.videos import custom_values
from tests.html_forms import submitted_fields


def _custom_fields() -> list[CustomField]:
    """One field of each type, in a schema for every video."""
    fields = [
        CustomField(name="Mood notes", field_type="text", config={}),
        CustomField(name="Presentation", field_type="select",
                    config={"options": ["great", "fine", "needs work"]}),
        CustomField(name="Rating", field_type="rating", config={"max_rating": 7}),
        CustomField(name="Cleared", field_type="boolean", config={}),
    ]  # fmt: skip
    schema = FieldSchema(name="Review")
    schema.fields = [
        SchemaField(field=field, display_order=n, show_on_card=False)
        for n, field in enumerate(fields, start=1)
    ]
    db.session.add(schema)
    db.session.flush()
    return fields


def _custom_value(field: CustomField, n: int):
    """A value for video number `n`: every type gets empty and set values across the catalog."""
    if n % 5 == 0:
        return None
    if field.field_type == "select":
        return field.options[n % len(field.options)]
    if field.field_type == "rating":
        return n % field.max_rating + 1
    if field.field_type == "boolean":
        return n % 3 == 0
    return f"Line one of {n} & <more>\nline “two”" if n % 2 else f"plain {n}"


def _snapshot(session) -> dict:
    """Every video's columns and custom values."""
    videos = {
        video.id: {column.key: getattr(video, column.key) for column in Video.__table__.c}
        for video in session.scalars(select(Video))
    }
    values = {
        (row.video_id, row.field_id): row.value for row in session.scalars(select(VideoFieldValue))
    }
    return {"videos": videos, "custom": values}


def _audit_rows(session) -> int:
    return session.scalar(select(func.count()).select_from(MetadataSync))


@pytest.fixture
def demo_catalog(demo_app, demo_session):
    """The demo catalog (`flask catalog demo`'s, made once: tests/conftest.py) plus a custom
    value of each type on most videos, in the test's transaction; returns the video ids."""
    with demo_app.app_context():
        fields = _custom_fields()
        videos = db.session.scalars(select(Video).order_by(Video.id)).all()
        for n, video in enumerate(videos):
            values = {field.id: _custom_value(field, n) for field in fields}
            custom_values.apply(video.id, fields, values)
        db.session.commit()
        ids = [video.video_id for video in videos]
        db.session.remove()
    return ids


def post_as_rendered(client, video_id: str):
    page = client.get(f"/videos/{video_id}/edit")
    assert page.status_code == 200
    fields = submitted_fields(page.get_data(as_text=True), "video-form")
    return client.post(f"/videos/{video_id}/edit", data=MultiDict(fields))


def test_posting_every_demo_video_as_rendered_changes_nothing(
    demo_client, demo_session, demo_sign_in_as, demo_catalog
):
    client, db_session, sign_in_as = demo_client, demo_session, demo_sign_in_as
    # Times are shown and read in the user's zone: one with clock changes, so that the
    # round trip covers the conversion both ways (the tests below cover UTC).
    sign_in_as("editor", time_zone="America/Los_Angeles")
    assert len(demo_catalog) == 300
    before, rows_before = _snapshot(db_session), _audit_rows(db_session)
    changed = []
    for video_id in demo_catalog:
        response = post_as_rendered(client, video_id)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        with client.session_transaction() as session:
            flashes = session.pop("_flashes", [])
        if flashes != [("info", "Nothing changed, so nothing was saved.")]:
            changed.append((video_id, flashes))
    assert changed == []
    db_session.expire_all()
    assert _audit_rows(db_session) == rows_before
    assert _snapshot(db_session) == before


@pytest.fixture
def awkward_video(app, db_session):
    """A video with the values that are easiest to lose on the way through a form."""
    with app.app_context():
        fields = _custom_fields()
        retired = VideoCategory(name="Retired", slug="retired", is_active=False)
        db.session.add(retired)
        db.session.flush()
        video = Video(
            video_id="-aB_cD3eF4g", title="Spaced & <b>bold</b> “quoted”", artist=["Zoë", "A&B"],
            genre=[], category_id=retired.id, time_published=datetime(
                2024, 10, 15, 18, 29, 11, 123456, tzinfo=UTC),
            notes="First line\nsecond line", other_owners_claiming="Label A\nLabel B",
            effective_policy="Monetize\n\nin all countries", views=0, video_length=0,
            claimed_status="dispute", claimed_by_another_owner="Yes", privacy_status="unlisted",
            hidden=True, administered=True, is_short=True,
            # Not one of the menu's values (written by other means): kept as it is.
            midrolls_enabled="Maybe",
        )  # fmt: skip
        db.session.add(video)
        db.session.flush()
        values = {fields[0].id: "multi\nline\n  indented", fields[1].id: "needs work",
                  fields[2].id: 7, fields[3].id: False}  # fmt: skip
        custom_values.apply(video.id, fields, values)
        db.session.commit()
        db.session.remove()
    return "-aB_cD3eF4g"


def test_awkward_values_survive_an_unchanged_save(client, db_session, sign_in_as, awkward_video):
    sign_in_as("editor")
    before, rows_before = _snapshot(db_session), _audit_rows(db_session)
    response = post_as_rendered(client, awkward_video)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db_session.expire_all()
    assert _audit_rows(db_session) == rows_before
    assert _snapshot(db_session) == before


def test_the_form_keeps_the_seconds_of_the_published_time(client, db_session, sign_in_as):
    sign_in_as("editor")
    video = Video(video_id="secondsTest", title="Seconds", artist=[], genre=[],
                  time_published=datetime(2024, 10, 15, 18, 29, 11, tzinfo=UTC))  # fmt: skip
    db_session.add(video)
    db_session.flush()
    page = client.get("/videos/secondsTest/edit").get_data(as_text=True)
    fields = dict(submitted_fields(page, "video-form"))
    assert fields["time_published"] == "2024-10-15T18:29:11"
    assert 'step="1"' in page
    # Changing another field saves that one change only: the time keeps its seconds.
    fields["title"] = "Seconds kept"
    response = client.post("/videos/secondsTest/edit", data=fields)
    assert response.status_code == 302
    db_session.expire_all()
    assert video.time_published == datetime(2024, 10, 15, 18, 29, 11, tzinfo=UTC)
    [row] = db_session.scalars(select(MetadataSync).where(MetadataSync.entity_id == video.id))
    assert row.changes == {"title": ["Seconds", "Seconds kept"]}
    # And a time typed with seconds is stored with them.
    fields = dict(
        submitted_fields(client.get("/videos/secondsTest/edit").get_data(True), "video-form")
    )
    fields["time_published"] = "2024-10-15T18:29:59"
    assert client.post("/videos/secondsTest/edit", data=fields).status_code == 302
    db_session.expire_all()
    assert video.time_published == datetime(2024, 10, 15, 18, 29, 59, tzinfo=UTC)


def test_a_value_its_field_no_longer_offers_survives_a_save(
    client, db_session, sign_in_as, awkward_video
):
    """An option removed, or a rating's maximum lowered, after a video got its value: the
    form still shows the value, and a save of other fields keeps it."""
    sign_in_as("editor")
    presentation = db_session.scalars(
        select(CustomField).where(CustomField.name == "Presentation")
    ).one()
    rating = db_session.scalars(select(CustomField).where(CustomField.name == "Rating")).one()
    presentation.config = {"options": ["great", "fine"]}  # "needs work" is gone
    rating.config = {"max_rating": 5}  # the video has 7
    db_session.flush()
    before = _snapshot(db_session)

    page = client.get(f"/videos/{awkward_video}/edit").get_data(as_text=True)
    fields = dict(submitted_fields(page, "video-form"))
    assert fields[f"cf_{presentation.id}"] == "needs work"
    assert fields[f"cf_{rating.id}"] == "7"
    assert "needs work (no longer an option)" in page
    fields["title"] = "Renamed"
    response = client.post(f"/videos/{awkward_video}/edit", data=fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db_session.expire_all()
    after = _snapshot(db_session)
    assert after["custom"] == before["custom"]
    [row] = db_session.scalars(select(MetadataSync).where(MetadataSync.action == "update"))
    assert row.changes == {"title": ["Spaced & <b>bold</b> “quoted”", "Renamed"]}

    # Choosing a value the field offers still works, and still refuses one it does not.
    fields = dict(submitted_fields(client.get(f"/videos/{awkward_video}/edit").text, "video-form"))
    fields[f"cf_{rating.id}"] = "6"
    response = client.post(f"/videos/{awkward_video}/edit", data=fields)
    assert response.status_code == 400
    fields[f"cf_{rating.id}"] = "4"
    assert client.post(f"/videos/{awkward_video}/edit", data=fields).status_code == 302
    db_session.expire_all()
    video_pk = db_session.scalar(select(Video.id).where(Video.video_id == awkward_video))
    assert _snapshot(db_session)["custom"][video_pk, rating.id] == 4


def test_setting_only_a_rating_is_one_change(client, db_session, sign_in_as, awkward_video):
    sign_in_as("editor")
    rating = db_session.scalars(select(CustomField).where(CustomField.name == "Rating")).one()
    page = client.get(f"/videos/{awkward_video}/edit").get_data(as_text=True)
    fields = dict(submitted_fields(page, "video-form")) | {f"cf_{rating.id}": "3"}
    response = client.post(f"/videos/{awkward_video}/edit", data=fields, follow_redirects=True)
    assert "Saved 1 change." in response.get_data(as_text=True)
    [row] = db_session.scalars(select(MetadataSync).where(MetadataSync.action == "update"))
    assert row.changes == {"field:Rating": [7, 3]}


def test_the_saved_count_is_what_the_user_changed(client, db_session, sign_in_as, awkward_video):
    """A new channel also records the channel's name, and administering a video the time it
    became administered: one change of the user's each."""
    sign_in_as("editor")
    channel = Channel(channel_id="UCcount00000000000000000", name="Counted")
    db_session.add(channel)
    db_session.flush()
    page = client.get(f"/videos/{awkward_video}/edit").get_data(as_text=True)
    fields = dict(submitted_fields(page, "video-form")) | {"channel_id": str(channel.id)}
    response = client.post(f"/videos/{awkward_video}/edit", data=fields, follow_redirects=True)
    assert "Saved 1 change." in response.get_data(as_text=True)
    [row] = db_session.scalars(select(MetadataSync).where(MetadataSync.action == "update"))
    assert set(row.changes) == {"channel_id", "channel_display_name"}
