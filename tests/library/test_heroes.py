"""One hero per category: the form says which video holds the place and writes nothing;
the database refuses a second hero whatever path writes it; a category's hero may move."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from catalog.extensions import db
from catalog.models import MetadataSync, Video
from catalog.rules import RuleError
from catalog.videos import bulk_edit, service
from tests.factories import CategoryFactory, VideoFactory
from tests.helpers import csrf_token
from tests.videos.test_views import form_data


def test_a_second_hero_is_refused_on_the_form_naming_the_first(client, db_session, sign_in_as):
    sign_in_as("editor")
    category = CategoryFactory()
    VideoFactory(video_id="heroAAAAAA1", title="The hero", category_id=category.id, is_hero=True)
    video = VideoFactory(title="Hopeful", category_id=category.id)
    url = f"/videos/{video.video_id}/edit"
    token = csrf_token(client.get(url))
    response = client.post(
        url,
        data=form_data(video, token, category_id=str(category.id), is_hero="y", title="Changed"),
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "heroAAAAAA1 (The hero) is already the hero of this category" in page
    assert "nothing was saved" in page
    db_session.expire_all()
    assert (video.is_hero, video.title) == (False, "Hopeful")
    assert (
        db_session.scalars(select(MetadataSync).where(MetadataSync.entity_id == video.id)).all()
        == []
    )


def test_heroes_of_different_categories_or_of_none_are_allowed(app_ctx):
    first, second = CategoryFactory(), CategoryFactory()
    VideoFactory(category_id=first.id, is_hero=True)
    other = VideoFactory(category_id=second.id)
    service.update_video(other, {"is_hero": True}, expected_version=None, actor=None)
    uncategorised = VideoFactory()
    service.update_video(uncategorised, {"is_hero": True}, expected_version=None, actor=None)
    assert other.is_hero
    assert uncategorised.is_hero


def test_moving_a_hero_into_a_category_with_one_is_refused(app_ctx):
    first, second = CategoryFactory(), CategoryFactory()
    VideoFactory(category_id=first.id, is_hero=True)
    mover = VideoFactory(category_id=second.id, is_hero=True)
    with pytest.raises(RuleError, match="already the hero of this category") as refused:
        service.update_video(mover, {"category_id": first.id}, expected_version=None, actor=None)
    assert refused.value.field == "is_hero"


def test_a_new_video_cannot_be_a_second_hero(app_ctx):
    category = CategoryFactory()
    VideoFactory(category_id=category.id, is_hero=True)
    with pytest.raises(RuleError, match="already the hero"):
        service.create_video(
            {"video_id": "newHero0001", "category_id": category.id, "is_hero": True}, actor=None
        )


def test_the_hero_may_hand_over_its_place(app_ctx):
    category = CategoryFactory()
    old = VideoFactory(category_id=category.id, is_hero=True)
    new = VideoFactory(category_id=category.id)
    service.update_video(old, {"is_hero": False}, expected_version=None, actor=None)
    service.update_video(new, {"is_hero": True}, expected_version=None, actor=None)
    db.session.flush()
    assert (old.is_hero, new.is_hero) == (False, True)


def test_the_database_refuses_a_second_hero_whatever_writes_it(app_ctx):
    category = CategoryFactory()
    VideoFactory(category_id=category.id, is_hero=True)
    other = VideoFactory(category_id=category.id)
    with pytest.raises(IntegrityError, match="uq_videos_hero_per_category"):
        db.session.execute(
            text("UPDATE videos SET is_hero = true WHERE id = :id"), {"id": other.id}
        )


def test_a_bulk_move_that_would_give_a_category_two_heroes_is_refused(app_ctx):
    target, elsewhere = CategoryFactory(), CategoryFactory()
    VideoFactory(video_id="heroBBBBBB1", category_id=target.id, is_hero=True)
    movers = [VideoFactory(category_id=elsewhere.id, is_hero=True), VideoFactory()]
    selection = select(Video.id).where(Video.id.in_([v.id for v in movers]))
    with pytest.raises(RuleError, match="two heroes") as refused:
        bulk_edit.bulk_update(selection, {"category_id": target.id}, actor=None)
    assert refused.value.field == "category_id"
    # Without the hero, the same move is fine.
    plain = select(Video.id).where(Video.id == movers[1].id)
    assert bulk_edit.bulk_update(plain, {"category_id": target.id}, actor=None) == 1
