"""Video categories, for admins: create, rename, reorder, (de)activate, delete when unused."""

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from catalog.categories import bp, queries, service
from catalog.categories.forms import CategoryForm, ConfirmForm
from catalog.extensions import db
from catalog.library import figures
from catalog.models import VideoCategory
from catalog.permissions import Permission, require, signed_in_user

INT_MAX = 2**31 - 1


def _get_category(category_id: int, *, lock: bool = False) -> VideoCategory:
    if category_id > INT_MAX:  # past the id column's range PostgreSQL refuses the query itself
        abort(404)
    statement = select(VideoCategory).where(VideoCategory.id == category_id)
    if lock:  # a change reads the row it is about to change under a row lock
        statement = statement.with_for_update()
    return db.session.scalars(statement).first() or abort(404)


def _add_error(form: CategoryForm, exc: service.CategoryError) -> None:
    field = form[exc.field] if exc.field and exc.field in form else form.name
    field.errors = [*field.errors, str(exc)]


@bp.get("/categories")
@require(Permission.CATEGORIES_MANAGE)
def index():
    return render_template("categories/index.html", categories=queries.ordered())


@bp.route("/categories/new", methods=["GET", "POST"])
@require(Permission.CATEGORIES_MANAGE)
def create():
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            category = service.create_category(form.values(), actor=signed_in_user())
        except service.CategoryError as exc:
            _add_error(form, exc)
        else:
            db.session.commit()
            flash(f"Category {category.name} created.", "success")
            return redirect(url_for("categories.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("categories/create.html", form=form), status


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@require(Permission.CATEGORIES_MANAGE)
def edit(category_id: int):
    category = _get_category(category_id, lock=request.method == "POST")
    form = CategoryForm(obj=category if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            changes = service.update_category(category, form.values(), actor=signed_in_user())
        except service.CategoryError as exc:
            _add_error(form, exc)
        else:
            db.session.commit()
            if changes:
                count = len(changes)
                flash(f"Saved {count} change{'s' if count != 1 else ''}.", "success")
            else:
                flash("Nothing changed, so nothing was saved.", "info")
            return redirect(url_for("categories.index"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "categories/edit.html", form=form, category=category,
        history=queries.history(category), history_limit=queries.HISTORY_LIMIT,
        figures=figures.for_category(category.id),
    ), status  # fmt: skip


@bp.post("/categories/<int:category_id>/move")
@require(Permission.CATEGORIES_MANAGE)
def move(category_id: int):
    category = _get_category(category_id)
    direction = request.form.get("direction")
    if not ConfirmForm().validate_on_submit() or direction not in ("up", "down"):
        abort(400)
    if service.move_category(category, direction, actor=signed_in_user()):
        db.session.commit()
        flash(f"{category.name} moved {direction}.", "success")
    else:
        flash(f"{category.name} is already {'first' if direction == 'up' else 'last'}.", "info")
    return redirect(url_for("categories.index"))


@bp.route("/categories/<int:category_id>/delete", methods=["GET", "POST"])
@require(Permission.CATEGORIES_MANAGE)
def delete(category_id: int):
    category = _get_category(category_id, lock=request.method == "POST")
    form = ConfirmForm()
    videos = service.usage(category)
    if not videos and form.validate_on_submit():
        try:
            service.delete_category(category, actor=signed_in_user())
        except service.CategoryInUse as exc:
            videos = exc.videos
        else:
            db.session.commit()
            flash(f"Category {category.name} deleted. Its history stays.", "success")
            return redirect(url_for("categories.index"))
    status = 409 if videos and request.method == "POST" else 200
    return render_template(
        "categories/delete.html", category=category, form=form, videos=videos
    ), status
