"""Custom field values on videos: typed storage, validation, and the video's audit row."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import CustomField, MetadataSync, Video, VideoFieldValue
from catalog.videos import custom_values, service
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
    changed = service.bulk_update(selection, {"label": "New label"}, actor=editor,
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
    assert service.bulk_update(selection, {}, actor=editor, custom={fields["mood"]: "bad"}) == 2
    db.session.expire_all()
    assert db.session.get(Video, fresh.id).version == version + 1
    assert service.bulk_update(selection, {}, actor=editor, custom={fields["mood"]: None}) == 2
    assert stored(fresh.id)["Rating"] == (None, Decimal(4), None)
    assert "Mood" not in stored(fresh.id)
