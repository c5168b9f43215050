"""Beacons and reactions that arrive at the same moment, in committed transactions of their
own: one row per person and video, whatever the order."""

from sqlalchemy import func, select

from catalog.extensions import db
from catalog.library import progress, reactions
from catalog.models import Video, VideoProgress, VideoReaction
from catalog.web.db_retry import run_in_transaction
from tests.factories import ChannelFactory, UserFactory, VideoFactory, use_session
from tests.race import run_together


def _setup(race_app):
    with race_app.app_context():
        use_session(db.session, "not-a-hash")
        user = UserFactory()
        video = VideoFactory(channel=ChannelFactory(), published=True,
                             video_url="uploads/a.mp4", duration_seconds=100.0)  # fmt: skip
        db.session.commit()
        return user.id, video.video_id, video.id


def test_first_beacons_at_once_make_one_row(race_app):
    user_id, video_id, video_pk = _setup(race_app)

    def report(n: int):
        return run_in_transaction(
            lambda: progress.record(user_id, video_id, position=float(n), played=1.0)
        )

    _results, failures = run_together(race_app, 8, report)
    assert failures == []
    with race_app.app_context():
        rows = db.session.scalars(select(VideoProgress)).all()
        assert len(rows) == 1
        # Every report counted: eight seconds played, none lost to the race.
        assert rows[0].watched_seconds == 8.0
        assert rows[0].video_id == video_pk


def test_reactions_at_once_leave_at_most_one(race_app):
    user_id, _video_id, video_pk = _setup(race_app)

    def react(n: int):
        with race_app.app_context():
            video = db.session.get(Video, video_pk)
            return run_in_transaction(
                lambda: reactions.toggle(user_id, video, ("like", "love")[n % 2])
            )

    _results, failures = run_together(race_app, 8, react)
    assert failures == []
    with race_app.app_context():
        count = db.session.scalar(select(func.count()).select_from(VideoReaction))
        assert count <= 1
