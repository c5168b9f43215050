"""Video categories, for admins: create, rename, reorder, (de)activate, delete when unused."""

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from catalog import audit
from catalog.categories import bp, queries, service
from catalog.categories.forms import CategoryForm
from catalog.library import figures
from catalog.models import VideoCategory
from catalog.permissions import Permission, require, signed_in_user
from catalog.web.actions import commit_or_explain
from catalog.web.forms import ConfirmForm
from catalog.web.loaders import load_or_404
from catalog.web.pages import confirm_page, form_page


def _get_category(category_id: int, *, lock: bool = False) -> VideoCategory:
    return load_or_404(select(VideoCategory).where(VideoCategory.id == category_id), lock=lock)


@bp.get("/categories")
@require(Permission.CATEGORIES_MANAGE)
def index():
    return render_template("categories/index.html", categories=queries.ordered())


@bp.route("/categories/new", methods=["GET", "POST"])
@require(Permission.CATEGORIES_MANAGE)
def create():
    form = CategoryForm()
    return form_page(
        "categories/create.html", form,
        lambda: service.create_category(form.values(), actor=signed_in_user()),
        saved=lambda category: f"Category {category.name} created.",
        then=url_for("categories.index"),
    )  # fmt: skip


@bp.route("/categories/<id:category_id>/edit", methods=["GET", "POST"])
@require(Permission.CATEGORIES_MANAGE)
def edit(category_id: int):
    category = _get_category(category_id, lock=request.method == "POST")
    form = CategoryForm(obj=category if request.method == "GET" else None)
    return form_page(
        "categories/edit.html", form,
        lambda: service.update_category(category, form.values(), actor=signed_in_user()),
        then=url_for("categories.index"),
        context=lambda: {
            "category": category,
            "history": audit.history("category", category.id, limit=queries.HISTORY_LIMIT),
            "history_limit": queries.HISTORY_LIMIT, "figures": figures.for_category(category.id),
        },
    )  # fmt: skip


@bp.post("/categories/<id:category_id>/move")
@require(Permission.CATEGORIES_MANAGE)
def move(category_id: int):
    category = _get_category(category_id)
    direction = request.form.get("direction")
    if not ConfirmForm().validate_on_submit() or direction not in ("up", "down"):
        abort(400)
    if commit_or_explain(
        lambda: service.move_category(category, direction, actor=signed_in_user())
    ).value:
        flash(f"{category.name} moved {direction}.", "success")
    else:
        flash(f"{category.name} is already {'first' if direction == 'up' else 'last'}.", "info")
    return redirect(url_for("categories.index"))


@bp.route("/categories/<id:category_id>/delete", methods=["GET", "POST"])
@require(Permission.CATEGORIES_MANAGE)
def delete(category_id: int):
    category = _get_category(category_id, lock=request.method == "POST")
    return confirm_page(
        "categories/delete.html",
        lambda: service.delete_category(category, actor=signed_in_user()),
        saved=lambda _: f"Category {category.name} deleted. Its history stays.",
        then=url_for("categories.index"),
        in_use=lambda: service.usage(category),  # the number of its videos
        context=lambda: {"category": category},
        refused=(service.CategoryInUse,), show=False,
    )  # fmt: skip
