"""The rules of saved views, called directly: who may change a view, who sees it, and the
defaults that stop pointing at a view someone can no longer open."""

import pytest
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import MetadataSync, SavedView
from catalog.saved_views import service
from tests.factories import UserFactory

STATE = {"args": {"privacy": "public"}}


@pytest.fixture
def owner(app_ctx):
    return UserFactory(roles=["editor"])


def test_an_admin_manages_shared_views_but_not_personal_ones(owner):
    admin = UserFactory(roles=["admin"])
    personal = service.create(owner, "videos", "Mine", STATE, actor=owner)
    shared = service.create(owner, "videos", "Ours", STATE, shared_with="everyone", actor=owner)
    assert not service.sees(personal, admin)
    assert service.manages(shared, admin)
    service.edit(shared, name="Everyone's", shared_with="everyone", actor=admin)
    assert shared.name == "Everyone's"
    with pytest.raises(service.ViewError, match="Only its owner"):
        service.edit(shared, name="Taken", shared_with="", actor=admin)
    with pytest.raises(service.ViewError, match="Only the view's owner"):
        service.save_state(personal, {"args": {}}, actor=admin)
    assert service.visible_views(admin, "videos") == [shared]


def test_roles_see_what_is_shared_with_them(owner):
    auditor, editor = UserFactory(roles=["auditor"]), UserFactory(roles=["editor"])
    view = service.create(owner, "videos", "Editors'", STATE, shared_with="editor", actor=owner)
    assert service.sees(view, editor)
    assert not service.sees(view, auditor)
    assert not service.manages(view, editor)


def test_unsharing_takes_the_view_out_of_others_defaults(owner):
    colleague = UserFactory(roles=["editor"])
    view = service.create(owner, "videos", "Shared", STATE, shared_with="editor", actor=owner)
    service.set_default(colleague, "videos", view)
    service.set_default(owner, "videos", view)
    db.session.flush()
    service.edit(view, name="Shared", shared_with="auditor", actor=owner)
    db.session.expire_all()
    assert colleague.default_views == {}
    assert owner.default_views == {"videos": view.id}


def test_names_are_unique_per_owner_and_list_whatever_their_case(owner):
    service.create(owner, "videos", "Disputes", STATE, actor=owner)
    with pytest.raises(service.ViewError, match="already have a view"):
        service.create(owner, "videos", " disputes ", STATE, actor=owner)
    service.create(owner, "audit", "Disputes", STATE, actor=owner)  # another list
    service.create(UserFactory(roles=["editor"]), "videos", "Disputes", STATE, actor=owner)
    with pytest.raises(service.ViewError, match="needs a name"):
        service.create(owner, "videos", "   ", STATE, actor=owner)
    count = db.session.scalar(
        select(db.func.count()).select_from(MetadataSync).where(MetadataSync.entity_type == "view")
    )
    assert count == 3
    assert db.session.scalar(select(db.func.count()).select_from(SavedView)) == 3


def test_the_column_choice_keeps_column_names_only(owner):
    kept = service.set_columns(owner, "videos", ["views", "cf12", "x y", 5, "views"])
    assert kept == ["cf12", "views"]
    with pytest.raises(service.ViewError):
        service.set_colour_mode(owner, "purple")
