"""form_page and confirm_page: a page's write in one call. Saved: a flash and a redirect;
refused: the page again, with the refusal and the status that says so, nothing written."""

import pytest
from flask import get_flashed_messages
from sqlalchemy import func, select

from catalog.categories import service as categories
from catalog.categories.forms import CategoryForm
from catalog.extensions import db
from catalog.models import MetadataSync, VideoCategory
from catalog.rules import RuleError
from catalog.web.pages import confirm_page, form_page
from tests import factories


def _audit_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(MetadataSync))


@pytest.fixture
def editor(app_ctx):
    """An admin account acting through the services (the actor of the audit rows)."""
    user = factories.UserFactory(roles=["admin"])
    db.session.commit()
    return user


def _category_form() -> CategoryForm:
    return CategoryForm(meta={"csrf": False})


def test_a_saved_form_flashes_what_it_did_and_redirects(app, editor):
    with app.test_request_context(method="POST", data={"name": "Ambient"}):
        form = _category_form()
        response = form_page(
            "categories/create.html", form,
            lambda: categories.create_category(form.values(), actor=editor),
            saved=lambda category: f"Category {category.name} created.",
            then=lambda category: f"/categories/{category.id}/edit",
        )  # fmt: skip
        messages = get_flashed_messages(with_categories=True)
    created = db.session.scalar(select(VideoCategory).where(VideoCategory.name == "Ambient"))
    assert response.status_code == 302
    assert response.location == f"/categories/{created.id}/edit"
    assert messages == [("success", "Category Ambient created.")]


def test_a_refused_form_is_shown_again_with_400_and_writes_nothing(app, editor):
    before = _audit_rows()

    def create_then_refuse():
        categories.create_category({"name": "Doomed"}, actor=editor)
        raise RuleError("Taken.", "slug")

    with app.test_request_context(method="POST", data={"name": "Doomed"}):
        form = _category_form()
        page, status = form_page(
            "categories/create.html", form, create_then_refuse, saved=str, then="/categories"
        )
        assert get_flashed_messages() == []
    assert status == 400
    assert form.slug.errors == ["Taken."]
    assert "Taken." in page
    assert _audit_rows() == before


def test_a_form_shown_runs_nothing_and_an_edit_of_nothing_says_so(app, app_ctx):
    with app.test_request_context(method="GET"):
        _page, status = form_page(
            "categories/create.html", _category_form(), lambda: pytest.fail("ran"), then="/"
        )
    assert status == 200
    with app.test_request_context(method="POST", data={"name": "Same"}):
        response = form_page("categories/create.html", _category_form(), dict, then="/back")
        messages = get_flashed_messages(with_categories=True)
    assert response.location == "/back"
    assert messages == [("info", "Nothing changed, so nothing was saved.")]


@pytest.fixture
def category(editor):
    made = categories.create_category({"name": "Lyrics"}, actor=editor)
    db.session.commit()
    return made


def test_a_confirmation_while_in_use_answers_409_and_runs_nothing(app, category, csrf_off):
    with app.test_request_context(method="POST"):
        page, status = confirm_page(
            "categories/delete.html", lambda: pytest.fail("ran"), saved=str, then="/",
            in_use=lambda: 3, context=lambda: {"category": category},
        )  # fmt: skip
    assert status == 409
    assert "3 videos still have it" in page


def test_a_confirmation_with_nothing_to_do_says_so(app, category, csrf_off):
    with app.test_request_context(method="POST"):
        response = confirm_page(
            "categories/delete.html", lambda: False, saved=lambda _: "Done.", then="/back",
            unchanged="Nothing to do.", context=lambda: {"category": category},
        )  # fmt: skip
        messages = get_flashed_messages(with_categories=True)
    assert response.location == "/back"
    assert messages == [("info", "Nothing to do.")]


@pytest.fixture
def csrf_off(app):
    """ConfirmForm is the CSRF token alone: these calls stand in for a POST that carries it."""
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True
