"""Property: whatever happens to videos (edits, bulk edits, reverts of earlier changes, restores
to a time, deletions and restores, batch undos), replaying each video's audit deltas from
its creation gives exactly the video as it is (and nothing for a deleted one), and reading
the history backwards from now agrees with reading it forwards at every point in time.

The other tests run inside one rolled-back transaction, where every audit row carries the
same time; this one needs each change in its own transaction, as in real use, so that
"restore to a time" has times to choose between. It runs on a database of its own, committing
every step. Each example makes videos with ids of its own, so examples do not see each
other's videos; the database is dropped with the test cluster.
"""

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from catalog import create_app
from catalog.extensions import db
from catalog.models import Channel, CustomField, MetadataSync, Video
from catalog.revert import batch as batch_undo
from catalog.revert import service as revert
from catalog.revert import states
from catalog.videos import bulk_edit, custom_values, service
from tests.conftest import app_config, migrated_database

VIDEOS = 3
EXPECTED = (revert.RevertError, service.VersionConflict, custom_values.InvalidValue)
_examples = itertools.count()


@pytest.fixture(scope="module")
def replay_app(postgres):
    app = create_app(app_config(migrated_database(postgres, "catalog_replay")))
    with app.app_context():
        channels = [Channel(channel_id=f"UCreplay{n:016d}", name=f"Replay {n}") for n in (1, 2)]
        score = CustomField(name="Score", field_type="rating", config={"max_rating": 5})
        db.session.add_all([*channels, score])
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def _fixtures():
    channels = db.session.scalars(select(Channel.id).order_by(Channel.id)).all()
    score = db.session.scalars(select(CustomField).where(CustomField.name == "Score")).one()
    return channels, score


# -- the steps --------------------------------------------------------------------------------

video = st.integers(0, VIDEOS - 1)
pick = st.integers(0, 10**6)  # an index into whatever there is to choose from, modulo its size
score = st.sampled_from([None, 1, 3, 5])
edit_values = st.fixed_dictionaries(
    {},
    optional={
        "title": st.sampled_from([None, "A", "B", "C"]),
        "artist": st.lists(st.sampled_from(["x", "y", "z"]), max_size=2, unique=True),
        "views": st.sampled_from([None, 0, 7]),
        "hidden": st.booleans(),
        "administered": st.booleans(),  # derives administered_at
        "channel": st.sampled_from([None, 0, 1]),  # derives channel_display_name
        "label": st.sampled_from([None, "L1", "L2"]),
    },
)
bulk_values = st.fixed_dictionaries(
    {},
    optional={
        "label": st.sampled_from([None, "L1", "L3"]),
        "hidden": st.booleans(),
        "notes": st.sampled_from([None, "n1", "n2"]),
    },
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("edit"), video, edit_values, st.none() | score),
        st.tuples(st.just("bulk"), st.sets(video, min_size=1), bulk_values, st.none() | score),
        st.tuples(st.just("revert"), pick),
        st.tuples(st.just("restore_to"), video, pick, st.booleans()),
        st.tuples(st.just("delete"), video),
        st.tuples(st.just("restore"), video),
        st.tuples(st.just("undo_batch"), pick, st.booleans()),
    ),
    min_size=1,
    max_size=14,
)


class Example:
    """The videos of one example, and what it does to them."""

    def __init__(self):
        n = next(_examples)
        self.keys = [f"r{n:05d}{i:05d}"[:11] for i in range(VIDEOS)]
        self.channels, self.score = _fixtures()

    def video(self, index: int) -> Video | None:
        key = self.keys[index]
        return db.session.scalars(select(Video).where(Video.video_id == key)).first()

    def rows(self) -> list[MetadataSync]:
        rows = db.session.scalars(
            select(MetadataSync)
            .where(MetadataSync.entity_type == "video", MetadataSync.entity_key.in_(self.keys))
            .order_by(MetadataSync.chain_seq)
        )
        return list(rows)

    def create(self) -> None:
        for key in self.keys:
            service.create_video(
                {"video_id": key, "title": "Start", "artist": ["x"], "views": 1},
                actor=None, custom={self.score: 2},
            )  # fmt: skip

    def edit(self, index, values, score) -> None:
        video = self.video(index)
        if video is None:
            return
        values = dict(values)
        if "channel" in values:
            channel = values.pop("channel")
            values["channel_id"] = None if channel is None else self.channels[channel]
        custom = {self.score: score} if score is not None else None
        service.update_video(video, values, expected_version=video.version, actor=None,
                             custom=custom)  # fmt: skip

    def bulk(self, indexes, values, score) -> None:
        if not values and score is None:
            return
        keys = [self.keys[i] for i in sorted(indexes)]
        selection = select(Video.id).where(Video.video_id.in_(keys))
        custom = {self.score: score} if score is not None else None
        bulk_edit.bulk_update(selection, values, actor=None, custom=custom)

    def revert(self, choice) -> None:
        """Revert a change chosen among all of the example's, putting back every field,
        conflicts included; a deletion is restored instead."""
        rows = self.rows()
        row = rows[choice % len(rows)]
        if row.action == "delete":
            revert.restore_deleted(row, actor=None)
            return
        plan = revert.plan_revert(row)
        keys = {change.key for change in plan.changes}
        revert.apply_revert(row, restore=keys, acknowledged=keys,
                            expected_version=plan.video.version, actor=None)  # fmt: skip

    def restore_to(self, index, choice, before) -> None:
        """Back to the time of one of the video's changes: just after it, or just before."""
        rows = states.history(self.keys[index])
        row = rows[choice % len(rows)]
        at = row.sync_time - timedelta(microseconds=1 if before else 0)
        video = self.video(index)
        revert.restore_to(self.keys[index], at, expected_version=video.version if video else None,
                          actor=None)  # fmt: skip

    def delete(self, index) -> None:
        video = self.video(index)
        if video is not None:
            service.delete_video(video, actor=None)

    def restore(self, index) -> None:
        rows = states.history(self.keys[index])
        if rows and rows[-1].action == "delete":
            revert.restore_deleted(rows[-1], actor=None)

    def undo_batch(self, choice, overwrite) -> None:
        batches = list(dict.fromkeys(row.batch_id for row in self.rows() if row.batch_id))
        if batches:
            batch_id = batches[choice % len(batches)]
            plan = batch_undo.plan_batch(batch_id, overwrite=overwrite)
            batch_undo.undo_batch(batch_id, overwrite=overwrite, seen=plan.seen, actor=None)


def _check(example: Example) -> None:
    renames = states.renamed_keys()
    for key in example.keys:
        rows = states.history(key)
        now = states.current(key)
        assert rows[0].action == "create"
        assert states.replay(rows, renames) == now, key
        # Backwards from now and forwards from the creation agree at every moment.
        for moment in sorted({row.sync_time for row in rows}):
            upto = [row for row in rows if row.sync_time <= moment]
            assert states.state_at(key, moment, rows) == states.replay(upto, renames), (key, moment)
        # Every revert names a row it undid, of the same video.
        by_id = {row.id: row for row in rows}
        for row in rows:
            if row.source == "revert" and row.reverts_id is not None:
                assert by_id[row.reverts_id].entity_key == key


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_replaying_the_audit_trail_gives_each_video_as_it_is(replay_app, steps):
    with replay_app.app_context():
        example = Example()
        example.create()
        db.session.commit()
        for name, *args in steps:
            try:
                getattr(example, name)(*args)
            except EXPECTED:
                db.session.rollback()  # refused, as a page would say; nothing was written
            else:
                db.session.commit()
        db.session.expire_all()
        _check(example)
        db.session.rollback()


def test_the_property_is_not_vacuous(replay_app):
    """One fixed story through every step, so the property is known to see them all."""
    with replay_app.app_context():
        example = Example()
        example.create()
        db.session.commit()
        story = [
            ("edit", 0, {"title": "B", "administered": True, "channel": 1}, 5),
            ("bulk", {0, 1}, {"label": "L3", "hidden": True}, 1),
            ("edit", 0, {"label": "L1"}, None),
            ("revert", 1),  # the first video's edit
            ("restore_to", 1, 0, False),  # the second video back to its creation
            ("delete", 2),
            ("restore", 2),
            ("undo_batch", 0, True),
        ]
        for name, *args in story:
            getattr(example, name)(*args)
            db.session.commit()
        sources = {row.source for row in example.rows()}
        assert sources == {"web", "bulk", "revert"}
        assert any(row.restored_to for row in example.rows())
        _check(example)
        rows = example.rows()
        assert [r.action for r in rows if r.entity_key == example.keys[2]][-2:] == [
            "delete", "create"
        ]  # fmt: skip
        db.session.rollback()
