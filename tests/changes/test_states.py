"""A video's state at a time, rebuilt from its audit rows: backwards from now, forwards from
its creation, across a deletion and a creation again."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from catalog.fields import service as fields
from catalog.revert import states
from catalog.videos import service
from tests.changes.conftest import HOUR, create, now_state, rows_of, update
from tests.factories import CustomFieldFactory, VideoFactory
from tests.factories.audit import past_row


def test_state_at_reads_the_history_backwards_from_now(editor):
    video = VideoFactory(video_id="hist0000001", title="Third", views=30)
    past_row(video, "update", {"title": ["First", "Second"], "views": [10, 20]}, 3 * HOUR)
    past_row(video, "update", {"title": ["Second", "Third"], "views": [20, 30]}, 1 * HOUR)
    now = datetime.now(UTC)

    assert states.state_at("hist0000001", now)["title"] == "Third"
    middle = states.state_at("hist0000001", now - 2 * HOUR)
    assert (middle["title"], middle["views"]) == ("Second", 20)
    early = states.state_at("hist0000001", now - 4 * HOUR)
    assert (early["title"], early["views"]) == ("First", 10)
    # Fields no row mentions are as they are now.
    assert early["artist"] == ["The Testers"]


def test_a_video_deleted_and_created_again_has_one_history(editor):
    ghost = SimpleNamespace(
        id=1, video_id="again000001", title="Old life", channel_display_name=None
    )
    past_row(ghost, "create", {"video_id": [None, "again000001"], "title": [None, "Old life"],
                               "hidden": [None, True]}, 5 * HOUR)  # fmt: skip
    past_row(ghost, "delete", {"video_id": ["again000001", None], "title": ["Old life", None],
                               "hidden": [True, None]}, 3 * HOUR)  # fmt: skip
    create("again000001", actor=editor, title="New life")
    now = datetime.now(UTC)

    first = states.state_at("again000001", now - 4 * HOUR)
    assert (first["title"], first["hidden"]) == ("Old life", True)
    assert states.state_at("again000001", now - 2 * HOUR) is None
    assert states.state_at("again000001", now - 6 * HOUR) is None
    assert states.state_at("again000001", now)["title"] == "New life"
    assert states.state_at("again000001", now) == now_state("again000001")
    # Forwards from the first creation, the same story.
    assert states.replay(rows_of("again000001")) == now_state("again000001")


def test_replay_matches_the_video_with_custom_values_and_a_deletion(editor):
    mood = CustomFieldFactory(
        name="Mood", field_type="select", config={"options": ["calm", "wild"]}
    )
    video = create(
        "replay00001", actor=editor, title="A", artist=["X"], views=0, custom={mood: "calm"}
    )
    update(video, actor=editor, title="B", administered=True, custom={mood: "wild"})
    update(video, actor=editor, artist=["X", "Y"], custom={mood: None})
    assert states.replay(rows_of("replay00001")) == now_state("replay00001")

    update(video, actor=editor, custom={mood: "calm"})
    service.delete_video(video, actor=editor)
    assert states.replay(rows_of("replay00001")) is None
    # What the deletion recorded is the whole last state, custom value and zero views included.
    before = states.backward(None, rows_of("replay00001")[-1])
    assert before == states.replay(rows_of("replay00001")[:-1])
    assert (before["views"], before["field:Mood"], before["title"]) == (0, "calm", "B")


def test_a_renamed_custom_field_is_read_under_its_name_now(editor):
    rating = CustomFieldFactory(name="Stars", field_type="rating", config={"max_rating": 5})
    video = create("renamed0001", actor=editor, custom={rating: 2})
    update(video, actor=editor, custom={rating: 4})
    fields.update_field(rating, {"name": "Rating", "field_type": "rating", "max_rating": 5},
                        actor=editor)  # fmt: skip
    assert states.renamed_keys() == {"field:Stars": "field:Rating"}
    replayed = states.replay(rows_of("renamed0001"), states.renamed_keys())
    assert replayed == now_state("renamed0001")
    assert replayed["field:Rating"] == 4


def test_typed_values_compare_with_the_video(app_ctx):
    # PostgreSQL writes times into JSON with fewer digits than Python: they still compare.
    assert states.typed("time_published", "2024-01-01T10:00:00.5+00:00") == datetime(
        2024, 1, 1, 10, 0, 0, 500000, tzinfo=UTC
    )
    assert states.typed("administered_at", "2024-01-01T12:00:00+02:00") == datetime(
        2024, 1, 1, 10, tzinfo=UTC
    )
    assert states.typed("artist", None) == []
    assert states.typed("hidden", None) is False
    assert states.typed("views", 0) == 0


# Archiving is the schema owner's to do: the test's connection is the owner's (conftest.py).
@pytest.mark.parametrize("db_owner", [True])
def test_archived_history_still_rebuilds_the_video(editor, db_owner):
    """Old months moved to the archive (flask catalog audit archive) stay part of a video's
    history: its state then, and the history listed."""
    from catalog.changes.integrity import archive_before, month_start

    video = VideoFactory(video_id="archived001", title="Now", views=3)
    two_months = 1500 * HOUR  # ~62 days: before the start of this month, whatever today is
    past_row(video, "update", {"title": ["Then", "Later"], "views": [1, 2]}, two_months)
    past_row(video, "update", {"title": ["Later", "Now"], "views": [2, 3]}, 1 * HOUR)
    now = datetime.now(UTC)
    assert archive_before(month_start(f"{now:%Y-%m}")) >= 1

    assert [row.changes["title"] for row in rows_of("archived001")] == [
        ["Then", "Later"], ["Later", "Now"],
    ]  # fmt: skip
    before = states.state_at("archived001", now - two_months - HOUR)
    assert (before["title"], before["views"]) == ("Then", 1)
