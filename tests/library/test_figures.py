"""The library figures of a video and of a category, from progress and reactions rows: one
statement each, shown on the video's page and on the category's page."""

import pytest
from sqlalchemy import event

from catalog.extensions import db
from catalog.library import figures
from catalog.models import VideoProgress, VideoReaction
from tests import factories
from tests.factories import CategoryFactory, UserFactory, VideoFactory


def watched(session, user, video, seconds: float, *, completed: bool = False) -> None:
    session.add(
        VideoProgress(
            user_id=user.id, video_id=video.id, watched_seconds=seconds, duration_seconds=100,
            last_position=min(seconds, 100), completed=completed,
        )
    )  # fmt: skip
    session.flush()


def reacted(session, user, video, kind: str) -> None:
    session.add(VideoReaction(user_id=user.id, video_id=video.id, reaction_type=kind))
    session.flush()


@pytest.fixture
def watched_category(db_session):
    """(Request it after app_ctx where a test has one: it writes through the factories'
    session.) Two videos of one category: three people watched the first (one finished, one
    watched it twice over), one the second; four reactions. A video elsewhere, watched."""
    session = factories.state.session
    category = CategoryFactory()
    first, second = (VideoFactory(category_id=category.id) for _ in range(2))
    ann, bob, cid = (UserFactory() for _ in range(3))
    watched(session, ann, first, 95, completed=True)
    watched(session, bob, first, 20)
    watched(session, cid, first, 250)  # more than the duration: counts as all of it
    watched(session, ann, second, 50)
    reacted(session, ann, first, "love")
    reacted(session, bob, first, "love")
    reacted(session, cid, first, "wow")
    reacted(session, ann, second, "sad")
    elsewhere = VideoFactory()
    watched(session, bob, elsewhere, 100, completed=True)
    reacted(session, bob, elsewhere, "angry")
    return category, first, second


def count_statements(connection):
    statements = []
    event.listen(connection, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def test_a_videos_figures_in_one_statement(app_ctx, watched_category):
    _category, first, _second = watched_category
    statements = count_statements(db.session.connection())
    found = figures.for_video(first.id)
    assert len(statements) == 1
    assert (found.viewers, found.viewings, found.completed) == (3, 3, 1)
    assert found.completion_rate == pytest.approx(1 / 3)
    assert found.average_share == pytest.approx((0.95 + 0.20 + 1.0) / 3)
    assert found.reactions == {"like": 0, "love": 2, "haha": 0, "wow": 1, "sad": 0, "angry": 0}


def test_a_categorys_figures_add_up_its_videos(app_ctx, watched_category):
    category, _first, _second = watched_category
    statements = count_statements(db.session.connection())
    found = figures.for_category(category.id)
    assert len(statements) == 1
    assert (found.viewers, found.viewings, found.completed) == (3, 4, 1)  # ann counted once
    assert found.average_share == pytest.approx((0.95 + 0.20 + 1.0 + 0.5) / 4)
    assert found.reactions["love"] == 2
    assert found.reactions["sad"] == 1
    assert found.reactions["angry"] == 0  # the video elsewhere is not in it


def test_no_activity_shows_dashes_not_zero_percent(app_ctx):
    found = figures.for_video(VideoFactory().id)
    assert (found.viewers, found.completion_rate, found.average_share) == (0, None, None)
    assert set(found.reactions.values()) == {0}


def test_the_video_page_and_the_category_page_show_them(
    client, db_session, sign_in_as, watched_category
):
    sign_in_as("admin")
    category, first, _second = watched_category
    page = client.get(f"/videos/{first.video_id}").get_data(as_text=True)
    assert 'data-figure="viewers">3<' in page
    assert "33% <span" in page
    assert "(1 of 3 viewings)" in page
    assert 'data-figure="share">72%<' in page
    assert 'data-reaction="love">love 2<' in page
    page = client.get(f"/categories/{category.id}/edit").get_data(as_text=True)
    assert 'data-figure="viewers">3<' in page
    assert "(1 of 4 viewings)" in page
    assert 'data-reaction="sad">sad 1<' in page
