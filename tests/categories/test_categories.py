"""Video categories: slugs, order, the active flag, delete only when unused; all audited."""

import pytest
from sqlalchemy import select

from catalog.categories import service
from catalog.extensions import db
from catalog.models import MetadataSync, VideoCategory
from tests.factories import CategoryFactory, UserFactory, VideoFactory
from tests.helpers import csrf_token


def history(session, category_pk: int) -> list[MetadataSync]:
    return session.scalars(
        select(MetadataSync)
        .where(MetadataSync.entity_type == "category", MetadataSync.entity_id == category_pk)
        .order_by(MetadataSync.id)
    ).all()


@pytest.fixture
def admin(app_ctx):
    return UserFactory()


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Hip-Hop & R&B", "hip-hop-r-b"), ("Música Latina", "musica-latina"),
     ("  Lo-fi  beats ", "lo-fi-beats"), ("K-Pop!!", "k-pop")],
)  # fmt: skip
def test_slugify(name, slug):
    assert service.slugify(name) == slug


def test_create_derives_the_slug_and_goes_last(admin):
    first = CategoryFactory(sort_order=4)
    category = service.create_category({"name": "Jazz Fusion", "slug": ""}, actor=admin)
    assert category.slug == "jazz-fusion"
    assert category.sort_order == first.sort_order + 1
    [row] = history(db.session, category.id)
    assert (row.action, row.entity_key, row.changes["name"]) == (
        "create", "jazz-fusion", [None, "Jazz Fusion"],
    )  # fmt: skip


def test_slugs_are_unique_and_well_formed(admin):
    CategoryFactory(name="Pop", slug="pop")
    with pytest.raises(service.CategoryError, match="already used") as taken:
        service.create_category({"name": "Pop"}, actor=admin)
    assert taken.value.field == "slug"
    with pytest.raises(service.CategoryError, match="hyphens"):
        service.create_category({"name": "Rock", "slug": "Rock--n"}, actor=admin)
    with pytest.raises(service.CategoryError, match="hyphens"):
        service.create_category({"name": "!!!"}, actor=admin)  # nothing to derive from


def test_update_is_audited_and_a_blank_slug_follows_the_name(admin):
    category = CategoryFactory(name="Old", slug="old")
    changes = service.update_category(
        category, {"name": "New Age", "slug": "", "is_active": False}, actor=admin
    )
    assert changes == {
        "name": ["Old", "New Age"], "slug": ["old", "new-age"], "is_active": [True, False],
    }  # fmt: skip
    [row] = history(db.session, category.id)
    assert row.entity_key == "new-age"
    assert service.update_category(category, {"name": "New Age "}, actor=admin) == {}


def test_move_renumbers_and_audits(admin):
    db.session.execute(db.delete(VideoCategory))  # this test owns the whole order
    a, b, c = (CategoryFactory(name=n, sort_order=0) for n in ("A", "B", "C"))
    assert service.move_category(c, "up", actor=admin)
    assert [a.sort_order, b.sort_order, c.sort_order] == [1, 3, 2]
    assert history(db.session, c.id)[-1].changes == {"sort_order": [0, 2]}
    assert not service.move_category(a, "up", actor=admin)  # already first
    assert service.move_category(a, "down", actor=admin)
    assert [c.sort_order, a.sort_order, b.sort_order] == [1, 2, 3]
    with pytest.raises(ValueError, match="direction"):
        service.move_category(a, "sideways", actor=admin)


def test_delete_only_when_unused(admin):
    used, unused = CategoryFactory(), CategoryFactory()
    VideoFactory.create_batch(2, category_id=used.id)
    with pytest.raises(service.CategoryInUse) as error:
        service.delete_category(used, actor=admin)
    assert error.value.videos == 2
    pk = unused.id
    service.delete_category(unused, actor=admin)
    assert db.session.get(VideoCategory, pk) is None
    assert [row.action for row in history(db.session, pk)] == ["delete"]


# -- over HTTP, as an admin --------------------------------------------------------------


def test_categories_are_for_admins_only(client, db_session, sign_in_as):
    sign_in_as("editor")
    assert client.get("/categories").status_code == 403


def test_create_edit_move_delete_over_http(db_session, admin_client):
    token = csrf_token(admin_client.get("/categories/new"))
    response = admin_client.post("/categories/new", data={
        "csrf_token": token, "name": "Zydeco Live", "slug": "", "is_active": "y",
    })  # fmt: skip
    assert response.status_code == 302
    category = db_session.scalars(
        select(VideoCategory).where(VideoCategory.slug == "zydeco-live")
    ).one()
    index = admin_client.get("/categories").get_data(as_text=True)
    assert "Category Zydeco Live created." in index
    assert f'aria-label="Move {category.name} up"' in index

    bad = admin_client.post(f"/categories/{category.id}/edit", data={
        "csrf_token": token, "name": "Zydeco", "slug": "Not A Slug",
    })  # fmt: skip
    assert bad.status_code == 400
    assert "single hyphens" in bad.get_data(as_text=True)
    response = admin_client.post(f"/categories/{category.id}/edit", data={
        "csrf_token": token, "name": "Zydeco", "slug": "zydeco",
    })  # fmt: skip
    assert response.status_code == 302
    db_session.expire_all()
    assert (category.name, category.slug, category.is_active) == ("Zydeco", "zydeco", False)
    edit = admin_client.get(f"/categories/{category.id}/edit").get_data(as_text=True)
    assert admin_client.user.email in edit  # its history

    response = admin_client.post(
        f"/categories/{category.id}/move", data={"csrf_token": token, "direction": "up"}
    )
    assert response.status_code == 302
    assert (
        admin_client.post(
            f"/categories/{category.id}/move", data={"csrf_token": token, "direction": "left"}
        ).status_code
        == 400
    )

    pk = category.id
    response = admin_client.post(f"/categories/{pk}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(VideoCategory, pk) is None


def test_delete_of_a_used_category_explains_why_not(db_session, admin_client):
    category = CategoryFactory(name="Busy")
    VideoFactory.create_batch(3, category_id=category.id)
    page = admin_client.get(f"/categories/{category.id}/delete").get_data(as_text=True)
    assert "3 videos still have it" in page
    token = csrf_token(admin_client.get("/categories"))
    response = admin_client.post(f"/categories/{category.id}/delete", data={"csrf_token": token})
    assert response.status_code == 409
    assert db_session.get(VideoCategory, category.id) is not None


def test_inactive_categories_are_not_offered_but_stay_on_their_videos(db_session, admin_client):
    inactive = CategoryFactory(name="Retired genre", is_active=False)
    CategoryFactory(name="Current genre")
    video = VideoFactory(category_id=inactive.id)
    other = VideoFactory()
    offered = admin_client.get(f"/videos/{other.video_id}/edit").get_data(as_text=True)
    assert "Current genre" in offered
    assert "Retired genre" not in offered
    own = admin_client.get(f"/videos/{video.video_id}/edit").get_data(as_text=True)
    assert "Retired genre" in own  # its own video still shows (and keeps) it
