"""Reverting one change, restoring a deleted video, restoring a video to a time: the service
rules, conflicts, refusals that write nothing, and the audit rows they leave."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.fields import service as fields
from catalog.models import MetadataSync, Video
from catalog.revert import service as revert
from catalog.revert import states
from catalog.videos import service
from tests.changes.conftest import HOUR, create, now_state, rows_of, update
from tests.factories import CategoryFactory, ChannelFactory, CustomFieldFactory, VideoFactory
from tests.factories.audit import past_row


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(MetadataSync))


def revert_all(row, video, *, acknowledged=(), actor=None) -> dict:
    """Revert `row`, putting back every field the preview lists."""
    plan = revert.plan_revert(row)
    return revert.apply_revert(
        row, restore={c.key for c in plan.changes}, acknowledged=set(acknowledged),
        expected_version=video.version, actor=actor,
    )  # fmt: skip


@pytest.fixture
def mood(app_ctx):
    return CustomFieldFactory(
        name="Mood", field_type="select", config={"options": ["calm", "wild", "sad"]}
    )


def test_revert_puts_the_old_values_back_and_says_what_it_undid(editor, mood):
    video = create("revert00001", actor=editor, title="Old", genre=["Pop"], custom={mood: "calm"})
    update(video, actor=editor, title="New", genre=["Rock", "Jazz"], notes="n",
           custom={mood: "wild"})  # fmt: skip
    change = rows_of("revert00001")[-1]
    version = video.version

    changes = revert_all(change, video, actor=editor)

    assert changes == {
        "title": ["New", "Old"], "genre": [["Rock", "Jazz"], ["Pop"]], "notes": ["n", None],
        "field:Mood": ["wild", "calm"],
    }  # fmt: skip
    state = now_state("revert00001")
    assert (state["title"], state["genre"], state["notes"]) == ("Old", ["Pop"], None)
    assert state["field:Mood"] == "calm"
    row = rows_of("revert00001")[-1]
    assert (row.action, row.source, row.reverts_id, row.user_id) == (
        "update",
        "revert",
        change.id,
        editor.id,
    )
    assert row.restored_to is None
    assert video.version > version  # optimistic locking sees the revert


def test_a_conflict_is_shown_and_kept_unless_chosen(editor):
    video = create("conflict001", actor=editor, title="Old", label="L1", views=1)
    update(video, actor=editor, title="New", label="L2", views=2)
    change = rows_of("conflict001")[-1]
    update(video, actor=editor, title="Newer")  # the title changed again since

    plan = revert.plan_revert(change)
    by_key = {c.key: c for c in plan.changes}
    assert [c.key for c in plan.conflicts] == ["title"]
    assert (by_key["title"].then, by_key["title"].set_to, by_key["title"].now) == (
        "Old", "New", "Newer"
    )  # fmt: skip
    assert not by_key["label"].conflict

    # Keep the title as it is now, put the rest back.
    changes = revert.apply_revert(
        change, restore={"label", "views"}, acknowledged={"title"},
        expected_version=video.version, actor=editor,
    )  # fmt: skip
    assert set(changes) == {"label", "views"}
    state = now_state("conflict001")
    assert (state["title"], state["label"], state["views"]) == ("Newer", "L1", 1)


def test_a_conflict_chosen_for_restore_is_overwritten(editor):
    video = create("conflict002", actor=editor, title="Old")
    update(video, actor=editor, title="New")
    change = rows_of("conflict002")[-1]
    update(video, actor=editor, title="Newer")
    revert_all(change, video, acknowledged={"title"}, actor=editor)
    assert now_state("conflict002")["title"] == "Old"


def test_a_conflict_the_person_did_not_see_writes_nothing(editor):
    video = create("conflict003", actor=editor, title="Old")
    update(video, actor=editor, title="New")
    change = rows_of("conflict003")[-1]
    update(video, actor=editor, title="Newer")
    before = audit_count()
    with pytest.raises(revert.Changed):
        revert_all(change, video, acknowledged=(), actor=editor)
    assert audit_count() == before
    assert now_state("conflict003")["title"] == "Newer"


def test_a_stale_version_writes_nothing(editor):
    video = create("stale000001", actor=editor, title="Old")
    update(video, actor=editor, title="New")
    change = rows_of("stale000001")[-1]
    before = audit_count()
    with pytest.raises(service.VersionConflict):
        revert.apply_revert(
            change, restore={"title"}, acknowledged=set(), expected_version=video.version - 1,
            actor=editor,
        )  # fmt: skip
    assert audit_count() == before
    assert now_state("stale000001")["title"] == "New"


def test_a_value_that_no_longer_fits_writes_nothing(editor, mood):
    video = create("invalid0001", actor=editor, title="Old", custom={mood: "sad"})
    update(video, actor=editor, title="New", custom={mood: "calm"})
    change = rows_of("invalid0001")[-1]
    # "sad" is no longer an option (no video has it any more, so the change is allowed).
    fields.update_field(
        mood, {"name": "Mood", "field_type": "select", "options": "calm\nwild"}, actor=editor
    )
    before = audit_count()
    with pytest.raises(revert.RevertError, match="sad"):
        revert_all(change, video, actor=editor)
    assert audit_count() == before
    state = now_state("invalid0001")
    assert (state["title"], state["field:Mood"]) == ("New", "calm")


def test_a_category_deleted_since_cannot_come_back(editor):
    gone = CategoryFactory()
    video = create("category001", actor=editor, category_id=gone.id)
    other = CategoryFactory()
    update(video, actor=editor, category_id=other.id)
    change = rows_of("category001")[-1]
    db.session.delete(gone)
    db.session.flush()
    with pytest.raises(revert.RevertError, match="no longer exists"):
        revert_all(change, video, actor=editor)
    assert now_state("category001")["category_id"] == other.id


def test_derived_values_come_back_as_recorded(editor):
    first, second = ChannelFactory(name="First"), ChannelFactory(name="Second")
    video = create("derived0001", actor=editor, channel_id=first.id)
    update(video, actor=editor, channel_id=second.id, administered=True)
    change = rows_of("derived0001")[-1]
    assert set(change.changes) == {
        "channel_id", "channel_display_name", "administered", "administered_at"
    }  # fmt: skip
    first.name = "First, renamed since"
    db.session.flush()
    revert_all(change, video, actor=editor)
    state = now_state("derived0001")
    assert (state["channel_id"], state["channel_display_name"]) == (first.id, "First")
    assert (state["administered"], state["administered_at"]) == (False, None)


def test_putting_administered_back_keeps_its_recorded_time(editor):
    video = create("derived0002", actor=editor, administered=True)
    stamped = video.administered_at
    update(video, actor=editor, administered=False)  # administered_at stays
    revert_all(rows_of("derived0002")[-1], video, actor=editor)
    state = now_state("derived0002")
    assert (state["administered"], state["administered_at"]) == (True, stamped)


def test_a_revert_of_a_revert_puts_the_change_back(editor, mood):
    video = create("twice000001", actor=editor, title="Old", custom={mood: "calm"})
    update(video, actor=editor, title="New", custom={mood: "wild"})
    revert_all(rows_of("twice000001")[-1], video, actor=editor)
    assert now_state("twice000001")["title"] == "Old"
    the_revert = rows_of("twice000001")[-1]
    revert_all(the_revert, video, actor=editor)
    state = now_state("twice000001")
    assert (state["title"], state["field:Mood"]) == ("New", "wild")
    assert rows_of("twice000001")[-1].reverts_id == the_revert.id


def test_a_renamed_custom_field_is_reverted_under_its_new_name(editor):
    stars = CustomFieldFactory(name="Stars", field_type="rating", config={"max_rating": 5})
    video = create("renamed0002", actor=editor, custom={stars: 2})
    update(video, actor=editor, custom={stars: 5})
    change = rows_of("renamed0002")[-1]
    fields.update_field(stars, {"name": "Rating", "field_type": "rating", "max_rating": 5},
                        actor=editor)  # fmt: skip
    assert revert_all(change, video, actor=editor) == {"field:Rating": [5, 2]}


def test_a_deleted_custom_field_is_reported_and_skipped(editor, mood):
    video = create("missing0001", actor=editor, title="Old", custom={mood: "calm"})
    update(video, actor=editor, title="New", custom={mood: "wild"})
    change = rows_of("missing0001")[-1]
    fields.delete_field(mood, actor=editor)
    plan = revert.plan_revert(change)
    assert plan.missing == ["field:Mood"]
    assert revert_all(change, video, actor=editor) == {"title": ["New", "Old"]}


def test_fields_already_back_are_left_out(editor):
    video = create("already0001", actor=editor, title="Old", label="L")
    update(video, actor=editor, title="New", label="M")
    change = rows_of("already0001")[-1]
    update(video, actor=editor, title="Old")
    plan = revert.plan_revert(change)
    assert plan.unchanged == ["title"]
    assert [c.key for c in plan.changes] == ["label"]


def test_reverting_a_change_of_a_deleted_video_is_refused(editor):
    video = create("deleted0001", actor=editor, title="Old")
    update(video, actor=editor, title="New")
    change = rows_of("deleted0001")[-1]
    service.delete_video(video, actor=editor)
    with pytest.raises(revert.RevertError, match="does not exist any more"):
        revert.plan_revert(change)


def test_reverting_a_creation_deletes_the_video(editor):
    video = create("creation001", actor=editor, title="Oops")
    creation = rows_of("creation001")[0]
    assert revert.plan_revert(creation).changes == []
    revert_all(creation, video, actor=editor)
    assert now_state("creation001") is None
    deletion = rows_of("creation001")[-1]
    assert (deletion.action, deletion.source, deletion.reverts_id) == (
        "delete", "revert", creation.id
    )  # fmt: skip


def test_reverting_a_creation_changed_since_needs_a_confirmation(editor):
    video = create("creation002", actor=editor, title="Oops")
    creation = rows_of("creation002")[0]
    update(video, actor=editor, title="Worked on since")
    plan = revert.plan_revert(creation)
    assert [(c.key, c.then, c.now) for c in plan.changes] == [("title", "Oops", "Worked on since")]
    with pytest.raises(revert.Changed):
        revert.apply_revert(creation, restore=set(), acknowledged=set(),
                            expected_version=video.version, actor=editor)  # fmt: skip
    assert now_state("creation002") is not None
    revert.apply_revert(creation, restore=set(), acknowledged={"title"},
                        expected_version=video.version, actor=editor)  # fmt: skip
    assert now_state("creation002") is None


# -- a deleted video ------------------------------------------------------------------------------


def test_the_deletion_row_holds_what_restoring_needs(editor, mood):
    video = create("restore0001", actor=editor, title="Gone", artist=["A", "B"], views=0,
                   administered=True, custom={mood: "wild"})  # fmt: skip
    before = now_state("restore0001")
    service.delete_video(video, actor=editor)
    deletion = rows_of("restore0001")[-1]

    restored = revert.restore_deleted(deletion, actor=editor)

    assert now_state("restore0001") == before
    assert restored.id != deletion.entity_id  # a new row, the same video by its YouTube id
    creation = rows_of("restore0001")[-1]
    assert (creation.action, creation.source, creation.reverts_id) == (
        "create", "revert", deletion.id
    )  # fmt: skip
    assert creation.changes["field:Mood"] == [None, "wild"]
    assert states.replay(rows_of("restore0001")) == before


def test_restoring_is_refused_when_the_id_exists_again(editor):
    video = create("restore0002", actor=editor, title="First")
    service.delete_video(video, actor=editor)
    deletion = rows_of("restore0002")[-1]
    create("restore0002", actor=editor, title="Someone else")
    before = audit_count()
    with pytest.raises(revert.RevertError, match="exists again"):
        revert.restore_deleted(deletion, actor=editor)
    assert audit_count() == before
    assert now_state("restore0002")["title"] == "Someone else"


def test_only_a_deletion_can_be_restored(editor):
    create("restore0003", actor=editor)
    with pytest.raises(revert.RevertError, match="Only a deletion"):
        revert.restore_deleted(rows_of("restore0003")[0], actor=editor)


# -- a video back to a time -----------------------------------------------------------------------


def test_restore_to_a_time_puts_every_value_back_as_it_was(editor, mood):
    video = VideoFactory(video_id="totime00001", title="Third", views=30, label=None)
    past_row(video, "update", {"title": ["First", "Second"], "label": [None, "L"]}, 3 * HOUR)
    past_row(video, "update", {"title": ["Second", "Third"], "views": [20, 30],
                               "label": ["L", None], "field:Mood": [None, "calm"]},
             1 * HOUR)  # fmt: skip
    service.update_video(video, {}, expected_version=None, actor=None, custom={mood: "calm"})
    at = datetime.now(UTC) - 2 * HOUR

    plan = revert.plan_restore_to("totime00001", at)
    assert {c.key: (c.now, c.then) for c in plan.changes} == {
        "title": ("Third", "Second"), "label": (None, "L"), "views": (30, 20),
        "field:Mood": ("calm", None),
    }  # fmt: skip
    count = revert.restore_to("totime00001", at, expected_version=video.version, actor=editor)

    assert count == 4
    assert now_state("totime00001") == states.state_at("totime00001", at)
    row = rows_of("totime00001")[-1]
    assert (row.source, row.restored_to, row.reverts_id) == ("revert", at, None)


def test_restore_to_a_time_before_the_video_existed_is_refused(editor):
    create("totime00002", actor=editor)
    with pytest.raises(revert.RevertError, match="did not exist"):
        revert.plan_restore_to("totime00002", datetime.now(UTC) - HOUR)


def test_restore_to_a_time_brings_a_deleted_video_back(editor):
    ghost = VideoFactory(video_id="totime00003", title="Was here")
    past_row(ghost, "create", {"video_id": [None, "totime00003"], "title": [None, "Was here"]},
             2 * HOUR)  # fmt: skip
    state = now_state("totime00003")
    service.delete_video(ghost, actor=editor)
    at = datetime.now(UTC) - HOUR

    revert.restore_to("totime00003", at, expected_version=None, actor=editor)

    assert now_state("totime00003") == state
    assert rows_of("totime00003")[-1].action == "create"


def test_restore_to_a_time_with_a_stale_version_writes_nothing(editor):
    video = VideoFactory(video_id="totime00004", title="Now")
    past_row(video, "update", {"title": ["Then", "Now"]}, HOUR)
    before = audit_count()
    with pytest.raises(service.VersionConflict):
        revert.restore_to("totime00004", datetime.now(UTC) - 2 * HOUR,
                          expected_version=video.version + 1, actor=editor)  # fmt: skip
    assert audit_count() == before
    assert db.session.get(Video, video.id).title == "Now"
