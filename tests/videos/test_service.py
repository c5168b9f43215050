"""The rules of changing videos, and the audit row each change leaves."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from catalog import audit
from catalog.extensions import db
from catalog.models import MetadataSync, Video
from catalog.videos import bulk_edit, service
from tests.factories import (
    CategoryFactory,
    ChannelFactory,
    CustomFieldFactory,
    UserFactory,
    VideoFactory,
)


def audit_rows(video_pk: int) -> list[MetadataSync]:
    return db.session.scalars(
        select(MetadataSync).where(MetadataSync.entity_id == video_pk).order_by(MetadataSync.id)
    ).all()


@pytest.fixture
def editor(app_ctx):
    return UserFactory(roles=["editor"])


def test_create_records_every_starting_value(editor):
    channel = ChannelFactory(name="Night Owl Records")
    video = service.create_video(
        {"video_id": "dQw4w9WgXcQ", "title": " Never Gonna ", "artist": ["Rick", " "],
         "channel_id": channel.id, "views": 10, "notes": ""},
        actor=editor,
    )  # fmt: skip
    [row] = audit_rows(video.id)
    assert row.action == "create"
    assert row.source == "web"
    assert row.user_id == editor.id
    assert row.user_email == editor.email
    assert row.entity_key == "dQw4w9WgXcQ"
    assert row.changes == {
        "video_id": [None, "dQw4w9WgXcQ"],
        "title": [None, "Never Gonna"],
        "artist": [[], ["Rick"]],
        "channel_id": [None, channel.id],
        "channel_display_name": [None, "Night Owl Records"],
        "views": [None, 10],
    }
    assert video.channel_display_name == "Night Owl Records"


def test_create_refuses_a_duplicate_video_id(editor):
    VideoFactory(video_id="AAAAAAAAAAA")
    with pytest.raises(service.DuplicateVideo):
        service.create_video({"video_id": "AAAAAAAAAAA"}, actor=editor)


def test_update_records_only_what_changed(editor):
    video = VideoFactory(title="Old", views=5, privacy_status="public")
    version = video.version
    changes = service.update_video(
        video, {"title": "New", "views": 5, "privacy_status": "public", "genre": ["Rock"]},
        expected_version=version, actor=editor,
    )  # fmt: skip
    assert changes == {"title": ["Old", "New"], "genre": [["Pop"], ["Rock"]]}
    [row] = audit_rows(video.id)
    assert row.action == "update"
    assert row.changes == {"title": ["Old", "New"], "genre": [["Pop"], ["Rock"]]}
    assert row.video_title == "New"
    assert video.version == version + 1


def test_a_save_that_changes_nothing_writes_nothing(editor):
    video = VideoFactory(title="Same")
    version = video.version
    assert (
        service.update_video(video, {"title": "Same "}, expected_version=version, actor=editor)
        == {}
    )
    assert audit_rows(video.id) == []
    assert video.version == version


def test_stale_version_is_refused_and_writes_nothing(editor):
    video = VideoFactory(title="First")
    opened = video.version
    service.update_video(video, {"title": "Second"}, expected_version=opened, actor=editor)
    with pytest.raises(service.VersionConflict):
        service.update_video(video, {"title": "Third"}, expected_version=opened, actor=editor)
    assert video.title == "Second"
    assert len(audit_rows(video.id)) == 1
    assert [r.changes for r in service.changes_since(video, opened)] == [
        {"title": ["First", "Second"]}
    ]


def test_administered_stamps_the_time(editor):
    video = VideoFactory()
    changes = service.update_video(
        video, {"administered": True}, expected_version=video.version, actor=editor
    )
    assert video.administered_at is not None
    assert set(changes) == {"administered", "administered_at"}


def test_changing_channel_updates_the_display_name(editor):
    video = VideoFactory()
    other = ChannelFactory(name="Other Channel")
    changes = service.update_video(
        video, {"channel_id": other.id}, expected_version=video.version, actor=editor
    )
    assert changes["channel_display_name"][1] == "Other Channel"
    assert video.channel_display_name == "Other Channel"


def test_delete_keeps_history_and_records_last_values(editor):
    video = VideoFactory(title="Doomed", isrc="USRC17607839")
    service.update_video(video, {"views": 7}, expected_version=video.version, actor=editor)
    pk = video.id
    service.delete_video(video, actor=editor)
    assert db.session.get(Video, pk) is None
    rows = audit_rows(pk)
    assert [r.action for r in rows] == ["update", "delete"]
    assert rows[-1].changes["title"] == ["Doomed", None]
    assert rows[-1].changes["isrc"] == ["USRC17607839", None]


def test_delete_records_custom_values_and_zeros_too(editor):
    """The deletion row alone can bring the video back: custom values included, and a 0 is
    a value (0 == False, so a test for "not empty" by `in (None, [], False)` lost it)."""
    mood = CustomFieldFactory(name="Mood", field_type="select", config={"options": ["calm"]})
    stars = CustomFieldFactory(name="Stars", field_type="rating", config={"max_rating": 5})
    video = service.create_video(
        {"video_id": "delCustom01", "views": 0, "hidden": False}, actor=editor,
        custom={mood: "calm", stars: 4},
    )  # fmt: skip
    pk = video.id
    service.delete_video(video, actor=editor)
    deletion = audit_rows(pk)[-1]
    assert deletion.changes["field:Mood"] == ["calm", None]
    assert deletion.changes["field:Stars"] == [4, None]
    assert deletion.changes["views"] == [0, None]
    assert "hidden" not in deletion.changes  # false is a column's blank: left out


def test_an_edit_of_fields_and_custom_values_is_one_version(editor):
    """One edit, one new version, one audit row: the edit conflict page lists the changes
    since the version an editor saw by counting versions."""
    stars = CustomFieldFactory(name="Stars", field_type="rating", config={"max_rating": 5})
    video = service.create_video({"video_id": "oneVersion1"}, actor=editor, custom={stars: 2})
    opened = video.version
    service.update_video(
        video, {"title": "New"}, expected_version=opened, actor=editor, custom={stars: 5}
    )
    assert video.version == opened + 1
    [since] = service.changes_since(video, opened)
    assert since.changes == {"title": [None, "New"], "field:Stars": [2, 5]}


def test_bulk_update_audits_each_changed_video_once(editor):
    category = CategoryFactory()
    same = VideoFactory(claimed_status="claim", category_id=category.id)
    differs = VideoFactory(claimed_status="appeal")
    untouched = VideoFactory(claimed_status="appeal")
    selection = select(Video.id).where(Video.id.in_([same.id, differs.id]))
    changed = bulk_edit.bulk_update(
        selection, {"claimed_status": "claim", "category_id": category.id}, actor=editor
    )
    assert changed == 1
    assert audit_rows(same.id) == []
    assert audit_rows(untouched.id) == []
    [row] = audit_rows(differs.id)
    assert row.source == "bulk"
    assert row.batch_id is not None
    assert row.changes == {
        "claimed_status": ["appeal", "claim"],
        "category_id": [None, category.id],
    }
    db.session.refresh(differs)
    assert differs.claimed_status == "claim"
    assert differs.version == 2


def test_bulk_update_shares_one_batch(editor):
    videos = VideoFactory.create_batch(3, hidden=False)
    bulk_edit.bulk_update(select(Video.id).where(Video.id.in_([v.id for v in videos])),
                        {"hidden": True}, actor=editor)  # fmt: skip
    batches = db.session.scalars(
        select(func.count(func.distinct(MetadataSync.batch_id))).where(
            MetadataSync.entity_id.in_([v.id for v in videos])
        )
    ).one()
    assert batches == 1


def test_bulk_update_refuses_identity_fields(editor):
    with pytest.raises(ValueError, match="video_id"):
        bulk_edit.bulk_update(select(Video.id), {"video_id": "x"}, actor=editor)


def test_failed_audit_write_rolls_back_the_change(editor, monkeypatch):
    """The change and its audit row commit together or not at all."""
    video = VideoFactory(title="Before")
    db.session.commit()  # a savepoint inside the test's transaction
    real_row = audit.video_row

    def broken_row(*args, **kwargs):
        row = real_row(*args, **kwargs)
        row["source"] = "x" * 50  # longer than the column: the INSERT fails in PostgreSQL
        return row

    monkeypatch.setattr(audit, "video_row", broken_row)
    with pytest.raises(DataError):
        service.update_video(
            video, {"title": "After"}, expected_version=video.version, actor=editor
        )
    db.session.rollback()
    assert db.session.get(Video, video.id).title == "Before"
    assert audit_rows(video.id) == []


def test_bulk_custom_value_that_changes_nothing_writes_nothing(editor):
    stars = CustomFieldFactory(name="Stars", field_type="rating", config={"max_rating": 5})
    video = service.create_video({"video_id": "bulkSame001"}, actor=editor, custom={stars: 3})
    version = video.version
    selection = select(Video.id).where(Video.id == video.id)
    assert bulk_edit.bulk_update(selection, {}, actor=editor, custom={stars: 3}) == 0
    assert [row.action for row in audit_rows(video.id)] == ["create"]
    assert db.session.get(Video, video.id).version == version
