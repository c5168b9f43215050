"""The channel rules, called as the web, the CLI and the report import call them."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from catalog.channels import service
from catalog.extensions import db
from catalog.models import Channel, FieldSchema, MetadataSync
from tests.factories import ChannelFactory, UserFactory, VideoFactory

VALID_ID = "UC" + "aZ09_-" * 3 + "abcd"  # 2 + 22 characters


def history(channel_pk: int) -> list[MetadataSync]:
    return list(
        db.session.scalars(
            select(MetadataSync)
            .where(MetadataSync.entity_type == "channel", MetadataSync.entity_id == channel_pk)
            .order_by(MetadataSync.id)
        )
    )


@pytest.fixture
def editor(app_ctx):
    return UserFactory()


def test_create_is_audited_with_its_values(editor):
    channel = service.create_channel(
        {"channel_id": VALID_ID, "name": " Blue Note ", "country": "gb", "subscriber_count": 5,
         "image_url": "https://img.example.com/a.png", "is_monetized": True},
        actor=editor,
    )  # fmt: skip
    assert (channel.name, channel.country) == ("Blue Note", "GB")
    [row] = history(channel.id)
    assert (row.action, row.source, row.entity_key, row.user_id) == (
        "create", "web", VALID_ID, editor.id,
    )  # fmt: skip
    assert row.changes["name"] == [None, "Blue Note"]
    assert row.changes["subscriber_count"] == [None, 5]
    assert row.channel_display_name == "Blue Note"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"channel_id": "UC123"}, "channel_id"),
        ({"channel_id": "XX" + "a" * 22}, "channel_id"),
        ({"channel_id": "UC" + "a" * 21 + "!"}, "channel_id"),
        ({"country": "XX"}, "country"),
        ({"image_url": "javascript:alert(1)"}, "image_url"),
        ({"image_url": "ftp://example.com/a.png"}, "image_url"),
        ({"image_url": "https://"}, "image_url"),
        ({"view_count": -1}, "view_count"),
        ({"name": "   "}, "name"),
    ],
)
def test_invalid_values_are_refused(editor, values, field):
    with pytest.raises(service.ChannelError) as error:
        service.create_channel({"channel_id": VALID_ID, "name": "N", **values}, actor=editor)
    assert error.value.field == field
    assert db.session.scalar(select(Channel).where(Channel.channel_id == VALID_ID)) is None


def test_duplicate_channel_id_is_refused(editor):
    ChannelFactory(channel_id=VALID_ID)
    with pytest.raises(service.DuplicateChannel):
        service.create_channel({"channel_id": VALID_ID, "name": "Again"}, actor=editor)


def test_counts_are_checked_by_the_database_too(app_ctx):
    with pytest.raises(IntegrityError):
        ChannelFactory(subscriber_count=-5)


def test_rename_is_audited_and_leaves_the_videos_report_names(editor):
    channel = ChannelFactory(name="Old Name")
    video = VideoFactory(channel=channel, channel_display_name="Old Name")
    changes = service.update_channel(channel, {"name": "New Name"}, actor=editor)
    assert changes == {"name": ["Old Name", "New Name"]}
    [row] = history(channel.id)
    assert (row.action, row.changes) == ("update", {"name": ["Old Name", "New Name"]})
    db.session.refresh(video)
    assert video.channel_display_name == "Old Name"
    assert video.channel_id == channel.id


def test_an_update_of_nothing_writes_nothing(editor):
    channel = ChannelFactory(name="Same", country="US")
    assert service.update_channel(channel, {"name": "Same ", "country": "us"}, actor=editor) == {}
    assert history(channel.id) == []


def test_the_channel_id_cannot_change(editor):
    channel = ChannelFactory()
    with pytest.raises(service.ChannelError):
        service.update_channel(channel, {"channel_id": VALID_ID}, actor=editor)


def test_hide_and_unhide_are_audited(editor):
    channel = ChannelFactory()
    assert service.set_hidden(channel, True, actor=editor) == {"hidden": [False, True]}
    assert service.set_hidden(channel, True, actor=editor) == {}
    assert service.set_hidden(channel, False, actor=editor) == {"hidden": [True, False]}
    assert [row.changes for row in history(channel.id)] == [
        {"hidden": [False, True]},
        {"hidden": [True, False]},
    ]


def test_delete_is_refused_while_videos_use_the_channel(editor):
    channel = ChannelFactory()
    VideoFactory.create_batch(3, channel=channel)
    assert service.usage(channel) == {"videos": 3}
    with pytest.raises(service.ChannelInUse) as error:
        service.delete_channel(channel, actor=editor)
    assert error.value.usage == {"videos": 3}
    assert history(channel.id) == []


def test_delete_is_refused_while_a_schema_is_attached(editor):
    channel = ChannelFactory()
    schema = FieldSchema(name="Release data", channels=[channel])
    db.session.add(schema)
    db.session.flush()
    assert service.usage(channel) == {"schemas": 1}
    with pytest.raises(service.ChannelInUse):
        service.delete_channel(channel, actor=editor)


def test_delete_of_an_unused_channel_keeps_its_history(editor):
    channel = ChannelFactory(name="Short-lived", country="DE")
    pk = channel.id
    service.update_channel(channel, {"name": "Gone soon"}, actor=editor)
    service.delete_channel(channel, actor=editor)
    assert db.session.get(Channel, pk) is None
    update, delete = history(pk)
    assert (update.action, delete.action) == ("update", "delete")
    assert delete.changes["name"] == ["Gone soon", None]
    assert delete.changes["country"] == ["DE", None]
    assert delete.entity_key == channel.channel_id


def test_ensure_channel_creates_an_unknown_channel(app_ctx):
    channel = service.ensure_channel(VALID_ID, "From a report", actor=None, source="report")
    assert (channel.channel_id, channel.name, channel.hidden) == (VALID_ID, "From a report", False)
    [row] = history(channel.id)
    assert (row.action, row.source, row.user_id) == ("create", "report", None)
    assert row.changes == {"channel_id": [None, VALID_ID], "name": [None, "From a report"]}
    # Called again for the next row of the same report: the same channel, nothing written.
    assert service.ensure_channel(VALID_ID, "From a report", actor=None, source="report") is channel
    assert len(history(channel.id)) == 1


def test_ensure_channel_without_a_name_uses_the_id(app_ctx):
    channel = service.ensure_channel(VALID_ID, "  ", actor=None, source="report")
    assert channel.name == VALID_ID


def test_ensure_channel_renames_a_known_channel_and_keeps_its_identity(editor):
    channel = ChannelFactory(name="Before")
    pk = channel.id
    again = service.ensure_channel(channel.channel_id, "After", actor=editor, source="report")
    assert again.id == pk
    assert again.name == "After"
    [row] = history(pk)
    assert (row.action, row.source, row.changes) == (
        "update", "report", {"name": ["Before", "After"]},
    )  # fmt: skip
    # A report row without a name renames nothing.
    service.ensure_channel(channel.channel_id, None, actor=editor, source="report")
    assert len(history(pk)) == 1


def test_ensure_channel_refuses_what_is_not_a_channel_id(app_ctx):
    with pytest.raises(service.ChannelError):
        service.ensure_channel("not-a-channel", "X", actor=None, source="report")
