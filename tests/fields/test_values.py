"""Custom field values on videos: typed storage, validation, and the video's audit row."""

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import CustomField, MetadataSync, Video, VideoFieldValue
from catalog.videos import bulk_edit, custom_values, service
from tests.factories import UserFactory, VideoFactory


def make_field(name: str, field_type: str, **config) -> CustomField:
    field = CustomField(name=name, field_type=field_type, config=config)
    db.session.add(field)
    db.session.flush()
    return field


@pytest.fixture
def fields(app_ctx):
    return {
        "rating": make_field("Rating", "rating", max_rating=5),
        "mood": make_field("Mood", "select", options=["bad", "good", "great"]),
        "live": make_field("Live ready", "boolean"),
        "note": make_field("Reviewer note", "text"),
    }


@pytest.fixture
def editor(app_ctx):
    return UserFactory(roles=["editor"])


def stored(video_id: int) -> dict[str, tuple]:
    rows = db.session.execute(
        select(CustomField.name, VideoFieldValue.value_text, VideoFieldValue.value_numeric,
               VideoFieldValue.value_boolean)
        .join(CustomField, CustomField.id == VideoFieldValue.field_id)
        .where(VideoFieldValue.video_id == video_id)
    )  # fmt: skip
    return {row[0]: tuple(row[1:]) for row in rows}


def test_values_use_the_typed_column_of_their_type(fields, editor):
    video = VideoFactory()
    service.update_video(
        video, {}, expected_version=video.version, actor=editor,
        custom={fields["rating"]: 4, fields["mood"]: "great", fields["live"]: False,
                fields["note"]: "ok"},
    )  # fmt: skip
    assert stored(video.id) == {
        "Rating": (None, Decimal(4), None),
        "Mood": ("great", None, None),
        "Live ready": (None, None, False),
        "Reviewer note": ("ok", None, None),
    }


def test_custom_changes_join_the_video_audit_row(fields, editor):
    video = VideoFactory(title="Same")
    service.update_video(video, {}, expected_version=video.version, actor=editor,
                         custom={fields["rating"]: 3})  # fmt: skip
    version = video.version
    changes = service.update_video(
        video, {"title": "New"}, expected_version=version, actor=editor,
        custom={fields["rating"]: 5, fields["mood"]: None},
    )  # fmt: skip
    assert changes == {"title": ["Same", "New"], "field:Rating": [3, 5]}
    rows = db.session.scalars(
        select(MetadataSync).where(MetadataSync.entity_id == video.id).order_by(MetadataSync.id)
    ).all()
    assert [r.changes for r in rows] == [{"field:Rating": [None, 3]}, changes]


def test_a_save_changing_only_custom_values_is_audited_and_versioned(fields, editor):
    video = VideoFactory()
    version = video.version
    changes = service.update_video(video, {}, expected_version=version, actor=editor,
                                   custom={fields["live"]: True})  # fmt: skip
    assert changes == {"field:Live ready": [None, True]}
    assert video.version == version + 1
    # Saving the same value again changes nothing and writes nothing.
    assert service.update_video(video, {}, expected_version=video.version, actor=editor,
                                custom={fields["live"]: True}) == {}  # fmt: skip


def test_clearing_a_value_removes_its_row(fields, editor):
    video = VideoFactory()
    service.update_video(video, {}, expected_version=video.version, actor=editor,
                         custom={fields["mood"]: "good"})  # fmt: skip
    changes = service.update_video(video, {}, expected_version=video.version, actor=editor,
                                   custom={fields["mood"]: None})  # fmt: skip
    assert changes == {"field:Mood": ["good", None]}
    assert stored(video.id) == {}


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [("rating", "6", "between 1 and 5"), ("rating", "x", "whole number"),
     ("mood", "meh", "Choose one of"), ("live", "maybe", "yes or no")],
)  # fmt: skip
def test_clean_refuses_values_that_do_not_fit(fields, key, raw, message):
    with pytest.raises(custom_values.InvalidValue, match=message):
        custom_values.clean(fields[key], raw)


def test_clean_accepts_and_types(fields):
    assert custom_values.clean(fields["rating"], "4") == 4
    assert custom_values.clean(fields["live"], "no") is False
    assert custom_values.clean(fields["mood"], " great ") == "great"
    assert custom_values.clean(fields["note"], "  ") is None


def test_bulk_edit_sets_a_custom_field_with_one_row_per_changed_video(fields, editor):
    already, fresh = VideoFactory(), VideoFactory()
    service.update_video(already, {}, expected_version=already.version, actor=editor,
                         custom={fields["rating"]: 4})  # fmt: skip
    selection = select(Video.id).where(Video.id.in_([already.id, fresh.id]))
    changed = bulk_edit.bulk_update(selection, {"label": "New label"}, actor=editor,
                                  custom={fields["rating"]: 4})  # fmt: skip
    assert changed == 2
    rows = {
        r.entity_id: r.changes
        for r in db.session.scalars(select(MetadataSync).where(MetadataSync.source == "bulk"))
    }
    assert rows[already.id] == {"label": [None, "New label"]}
    assert rows[fresh.id] == {"label": [None, "New label"], "field:Rating": [None, 4]}
    # Only the custom value differs: still one row, and the version moves.
    version = db.session.get(Video, fresh.id).version
    assert bulk_edit.bulk_update(selection, {}, actor=editor, custom={fields["mood"]: "bad"}) == 2
    db.session.expire_all()
    assert db.session.get(Video, fresh.id).version == version + 1
    assert bulk_edit.bulk_update(selection, {}, actor=editor, custom={fields["mood"]: None}) == 2
    assert stored(fresh.id)["Rating"] == (None, Decimal(4), None)
    assert "Mood" not in stored(fresh.id)


# -- over HTTP: the edit form, the list's filters, sorts and columns ---------------------------
def _schema(session, fields, *, on_card=(), channel=None):
    from catalog.models import FieldSchema, SchemaField

    schema = FieldSchema(name=f"Review {fields[0].id}")
    session.add(schema)
    session.flush()
    for order, field in enumerate(fields):
        session.add(SchemaField(schema_id=schema.id, field_id=field.id, display_order=order,
                                show_on_card=field in on_card))  # fmt: skip
    if channel is not None:
        schema.channels.append(channel)
    session.flush()
    return schema


@pytest.fixture
def http_fields(db_session):
    rating = CustomField(name="Rating", field_type="rating", config={"max_rating": 5})
    mood = CustomField(name="Mood", field_type="select", required=True,
                       config={"options": ["bad", "good", "great"]})  # fmt: skip
    db_session.add_all([rating, mood])
    db_session.flush()
    _schema(db_session, [rating, mood], on_card=[rating])
    return rating, mood


def _edit_data(video, token, **extra):
    from tests.videos.test_views import form_data

    return form_data(video, token, **extra)


def test_edit_form_renders_validates_and_saves_custom_values(client, db_session, sign_in_as,
                                                             http_fields):  # fmt: skip
    from tests.helpers import csrf_token

    rating, mood = http_fields
    sign_in_as("editor")
    video = VideoFactory(title="Song")
    page = client.get(f"/videos/{video.video_id}/edit").get_data(as_text=True)
    assert f'name="cf_{rating.id}"' in page
    assert "★★★★★" in page
    token = csrf_token(client.get(f"/videos/{video.video_id}/edit"))
    missing = client.post(f"/videos/{video.video_id}/edit",
                          data=_edit_data(video, token, **{f"cf_{rating.id}": "4"}))  # fmt: skip
    assert missing.status_code == 400  # Mood is required
    assert "This field is required" in missing.get_data(as_text=True)
    too_high = client.post(f"/videos/{video.video_id}/edit", data=_edit_data(
        video, token, **{f"cf_{rating.id}": "9", f"cf_{mood.id}": "good"}))  # fmt: skip
    assert too_high.status_code == 400
    saved = client.post(f"/videos/{video.video_id}/edit", data=_edit_data(
        video, token, **{f"cf_{rating.id}": "4", f"cf_{mood.id}": "good"}))  # fmt: skip
    assert saved.status_code == 302
    row = db_session.scalars(select(MetadataSync).where(MetadataSync.entity_id == video.id)).one()
    assert row.changes == {"field:Rating": [None, 4], "field:Mood": [None, "good"]}
    detail = client.get(f"/videos/{video.video_id}").get_data(as_text=True)
    assert "★★★★☆" in detail


def test_list_filters_sorts_and_shows_custom_columns(client, db_session, sign_in_as, http_fields):
    rating, mood = http_fields
    sign_in_as("viewer")
    channel = VideoFactory().channel
    videos = [VideoFactory(title=f"Rated {n}", channel=channel) for n in range(1, 6)]
    for n, video in enumerate(videos, start=1):
        db_session.add(VideoFieldValue(video_id=video.id, field_id=rating.id, value_numeric=n))
        db_session.add(VideoFieldValue(video_id=video.id, field_id=mood.id,
                                       value_text="great" if n % 2 else "bad"))  # fmt: skip
    VideoFactory(title="Unrated one", channel=channel)
    db_session.flush()

    def titles(query: str) -> list[str]:
        html = client.get(f"/videos?channel={channel.id}&{query}").get_data(as_text=True)
        # The title cell follows the video id's (the default column order).
        return re.findall(r'<td><a href="/videos/[^"]+">[^<]+</a><td>([^<]*)', html)

    assert titles(f"cf{rating.id}=4&cf{rating.id}_op=gte") == ["Rated 5", "Rated 4"]
    assert titles(f"cf{rating.id}=2&cf{rating.id}_op=lte&sort=cf{rating.id}&dir=asc") == [
        "Rated 1", "Rated 2"]  # fmt: skip
    assert titles(f"cf{mood.id}=bad&cf{mood.id}=good") == ["Rated 4", "Rated 2"]
    assert titles(f"sort=cf{rating.id}&dir=desc") == [f"Rated {n}" for n in range(5, 0, -1)]
    assert "Unrated one" in titles("")
    html = client.get(f"/videos?channel={channel.id}").get_data(as_text=True)
    assert f'<th class="col-cf{rating.id}' in html  # the column: its cells carry no class
    assert "★★★☆☆" in html


def test_keyset_pages_by_a_custom_field(app_ctx):
    from catalog.videos import menus, queries

    field = make_field("Score", "rating", max_rating=10)
    videos = VideoFactory.create_batch(30)
    for n, video in enumerate(videos):
        db.session.add(
            VideoFieldValue(video_id=video.id, field_id=field.id, value_numeric=n % 7 + 1)
        )
    db.session.flush()
    choice = menus.FieldChoice(field.id, "Score", "rating", {"max_rating": 10}, True)
    state = queries.ListState(sort=f"cf{field.id}", desc=True, size=25, hidden="all")
    seen, current = [], state
    while True:
        page = queries.list_page(current, {field.id: choice})
        seen += [(row.sort_key, row.Video.id) for row in page.rows]
        if not page.next_cursor:
            break
        current = queries.ListState(**{**current.__dict__, "after": page.next_cursor})
    ours = [pair for pair in seen if pair[1] in {v.id for v in videos}]
    assert len(ours) == 30
    assert ours == sorted(ours, reverse=True)


def test_a_value_removed_from_the_definition_meanwhile_is_refused(fields, editor):
    """The form checked "great"; before the save, an admin removed that option."""
    video = VideoFactory()
    mood = fields["mood"]
    db.session.execute(
        CustomField.__table__.update()
        .where(CustomField.id == mood.id)
        .values(config={"options": ["bad", "good"]})
    )
    with pytest.raises(custom_values.InvalidValue):
        service.update_video(video, {}, expected_version=video.version, actor=editor,
                             custom={mood: "great"})  # fmt: skip


def test_select_filter_over_several_pages_estimates_its_total(
    client, db_session, sign_in_as, http_fields, app, monkeypatch
):
    """The estimate EXPLAINs a query with an IN list; it must be rendered, not a placeholder.
    (Below the exact limit the total is counted: the limit is lowered to reach the estimate.)"""
    _, mood = http_fields
    sign_in_as("viewer")
    for video in VideoFactory.create_batch(30):
        db_session.add(VideoFieldValue(video_id=video.id, field_id=mood.id, value_text="great"))
    db_session.flush()
    monkeypatch.setitem(app.config, "LIST_EXACT_LIMIT", 10)
    response = client.get(f"/videos/total?cf{mood.id}=great&cf{mood.id}=good")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "More than 10 videos" in html
    assert '<span data-testid="estimate">(estimated by the database: about' in html
