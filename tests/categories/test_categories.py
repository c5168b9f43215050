"""Video categories: slugs, order, the active flag, delete only when unused; all audited."""

import pytest
from sqlalchemy import select

from catalog.categories import service
from catalog.extensions import db
from catalog.models import MetadataSync, VideoCategory
from tests.conftest import csrf_token
from tests.factories import CategoryFactory, UserFactory, VideoFactory


def history(session, category_pk: int) -> list[MetadataSync]:
    return session.scalars(
        select(MetadataSync)
        .where(MetadataSync.entity_type == "category", MetadataSync.entity_id == category_pk)
        .order_by(MetadataSync.id)
    ).all()


@pytest.fixture
def admin_user(app_ctx):
    return UserFactory()


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Hip-Hop & R&B", "hip-hop-r-b"), ("Música Latina", "musica-latina"),
     ("  Lo-fi  beats ", "lo-fi-beats"), ("K-Pop!!", "k-pop")],
)  # fmt: skip
def test_slugify(name, slug):
    assert service.slugify(name) == slug


def test_create_derives_the_slug_and_goes_last(admin_user):
    first = CategoryFactory(sort_order=4)
    category = service.create_category({"name": "Jazz Fusion", "slug": ""}, actor=admin_user)
    assert category.slug == "jazz-fusion"
    assert category.sort_order == first.sort_order + 1
    [row] = history(db.session, category.id)
    assert (row.action, row.entity_key, row.changes["name"]) == (
        "create", "jazz-fusion", [None, "Jazz Fusion"],
    )  # fmt: skip


def test_slugs_are_unique_and_well_formed(admin_user):
    CategoryFactory(name="Pop", slug="pop")
    with pytest.raises(service.CategoryError, match="already used") as taken:
        service.create_category({"name": "Pop"}, actor=admin_user)
    assert taken.value.field == "slug"
    with pytest.raises(service.CategoryError, match="hyphens"):
        service.create_category({"name": "Rock", "slug": "Rock--n"}, actor=admin_user)
    with pytest.raises(service.CategoryError, match="hyphens"):
        service.create_category({"name": "!!!"}, actor=admin_user)  # nothing to derive from


def test_update_is_audited_and_a_blank_slug_follows_the_name(admin_user):
    category = CategoryFactory(name="Old", slug="old")
    changes = service.update_category(
        category, {"name": "New Age", "slug": "", "is_active": False}, actor=admin_user
    )
    assert changes == {
        "name": ["Old", "New Age"], "slug": ["old", "new-age"], "is_active": [True, False],
    }  # fmt: skip
    [row] = history(db.session, category.id)
    assert row.entity_key == "new-age"
    assert service.update_category(category, {"name": "New Age "}, actor=admin_user) == {}


def test_move_renumbers_and_audits(admin_user):
    db.session.execute(db.delete(VideoCategory))  # this test owns the whole order
    a, b, c = (CategoryFactory(name=n, sort_order=0) for n in ("A", "B", "C"))
    assert service.move_category(c, "up", actor=admin_user)
    assert [a.sort_order, b.sort_order, c.sort_order] == [1, 3, 2]
    assert history(db.session, c.id)[-1].changes == {"sort_order": [0, 2]}
    assert not service.move_category(a, "up", actor=admin_user)  # already first
    assert service.move_category(a, "down", actor=admin_user)
    assert [c.sort_order, a.sort_order, b.sort_order] == [1, 2, 3]
    with pytest.raises(ValueError, match="direction"):
        service.move_category(a, "sideways", actor=admin_user)


def test_delete_only_when_unused(admin_user):
    used, unused = CategoryFactory(), CategoryFactory()
    VideoFactory.create_batch(2, category_id=used.id)
    with pytest.raises(service.CategoryInUse) as error:
        service.delete_category(used, actor=admin_user)
    assert error.value.videos == 2
    pk = unused.id
    service.delete_category(unused, actor=admin_user)
    assert db.session.get(VideoCategory, pk) is None
    assert [row.action for row in history(db.session, pk)] == ["delete"]


# -- over HTTP, as an admin --------------------------------------------------------------


@pytest.fixture
def admin(sign_in):
    return sign_in("admin")


def test_categories_are_for_admins_only(client, db_session, sign_in):
    sign_in("editor")
    assert client.get("/categories").status_code == 403


def test_create_edit_move_delete_over_http(client, db_session, admin):
    token = csrf_token(client, "/categories/new")
    response = client.post("/categories/new", data={
        "csrf_token": token, "name": "Zydeco Live", "slug": "", "is_active": "y",
    })  # fmt: skip
    assert response.status_code == 302
    category = db_session.scalars(
        select(VideoCategory).where(VideoCategory.slug == "zydeco-live")
    ).one()
    index = client.get("/categories").get_data(as_text=True)
    assert "Category Zydeco Live created." in index
    assert f'aria-label="Move {category.name} up"' in index

    bad = client.post(f"/categories/{category.id}/edit", data={
        "csrf_token": token, "name": "Zydeco", "slug": "Not A Slug",
    })  # fmt: skip
    assert bad.status_code == 400
    assert "single hyphens" in bad.get_data(as_text=True)
    response = client.post(f"/categories/{category.id}/edit", data={
        "csrf_token": token, "name": "Zydeco", "slug": "zydeco",
    })  # fmt: skip
    assert response.status_code == 302
    db_session.expire_all()
    assert (category.name, category.slug, category.is_active) == ("Zydeco", "zydeco", False)
    edit = client.get(f"/categories/{category.id}/edit").get_data(as_text=True)
    assert admin.email in edit  # its history

    response = client.post(
        f"/categories/{category.id}/move", data={"csrf_token": token, "direction": "up"}
    )
    assert response.status_code == 302
    assert (
        client.post(
            f"/categories/{category.id}/move", data={"csrf_token": token, "direction": "left"}
        ).status_code
        == 400
    )

    pk = category.id
    response = client.post(f"/categories/{pk}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(VideoCategory, pk) is None


def test_delete_of_a_used_category_explains_why_not(client, db_session, admin):
    category = CategoryFactory(name="Busy")
    VideoFactory.create_batch(3, category_id=category.id)
    page = client.get(f"/categories/{category.id}/delete").get_data(as_text=True)
    assert "3 videos still have it" in page
    token = csrf_token(client, "/categories")
    response = client.post(f"/categories/{category.id}/delete", data={"csrf_token": token})
    assert response.status_code == 409
    assert db_session.get(VideoCategory, category.id) is not None


def test_inactive_categories_are_not_offered_but_stay_on_their_videos(client, db_session, admin):
    inactive = CategoryFactory(name="Retired genre", is_active=False)
    CategoryFactory(name="Current genre")
    video = VideoFactory(category_id=inactive.id)
    other = VideoFactory()
    offered = client.get(f"/videos/{other.video_id}/edit").get_data(as_text=True)
    assert "Current genre" in offered
    assert "Retired genre" not in offered
    own = client.get(f"/videos/{video.video_id}/edit").get_data(as_text=True)
    assert "Retired genre" in own  # its own video still shows (and keeps) it
