"""Saving, updating, sharing and deleting views of a list; the user's list settings (the
column choice, the default view, the colour mode). Every form here is posted from the
list page, which it returns to (post/redirect/get); a refusal is flashed there."""

from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_security import auth_required
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from catalog.changes.queries import parse_filters
from catalog.models import SavedView
from catalog.permissions import Permission, can, require, signed_in_user
from catalog.production.queries import BoardFilter
from catalog.saved_views import bp, chips, lists, service
from catalog.saved_views.forms import (
    SHARE_CHOICES,
    ColourModeForm,
    DefaultViewForm,
    EditViewForm,
    SaveStateForm,
    SaveViewForm,
)
from catalog.videos import menus
from catalog.videos.queries import parse_state
from catalog.web.actions import commit_or_explain
from catalog.web.forms import INT_MAX, ConfirmForm
from catalog.web.loaders import load_or_404

# Each list: the permission that reads it and the endpoint that shows it.
LISTS = {
    "videos": (Permission.CATALOG_READ, "videos.index"),
    "audit": (Permission.AUDIT_READ, "changes.index"),
    "production": (Permission.CATALOG_READ, "production.board"),
}
KIND = "<any(videos, audit, production):list_kind>"


def _readable(kind: str) -> str:
    if kind not in LISTS or not can(LISTS[kind][0]):
        abort(403)
    return LISTS[kind][1]


def _state(kind: str, query: str) -> dict:
    """The list state a view keeps, from the list's URL arguments, normalized by the list's
    own parser (what it does not read is dropped)."""
    args = MultiDict(
        (k, v) for k, v in MultiDict(_parse_qs(query)).items(multi=True) if k != "view"
    )
    user = signed_in_user()
    columns = (user.list_columns or {}).get(kind)
    order = (user.list_columns or {}).get(service.order_key(kind))
    if kind == "videos":
        _, _, fields = menus.filter_choices()
        state = parse_state(args, {f.id: f for f in fields})
        channel_name, categories, _ = menus.filter_choices(state.channel)
        labels = chips.labels(chips.video_chips(state, channel_name, categories, fields))
        return lists.stored_state(state.view_args(), columns, labels, order)
    if kind == "production":
        return lists.stored_state(BoardFilter.from_args(args).args(), columns, {})
    return lists.stored_state(parse_filters(args).args(), columns, {})


def _parse_qs(query: str) -> list[tuple[str, str]]:
    return parse_qsl((query or "").lstrip("?"), keep_blank_values=False)


def _view(view_id: int) -> SavedView:
    view = load_or_404(select(SavedView).where(SavedView.id == view_id))
    _readable(view.kind)
    if not service.sees(view, signed_in_user()):
        abort(404)  # another person's view: as if it did not exist
    return view


def _back(kind: str, view: SavedView | None = None):
    endpoint = LISTS[kind][1]
    return redirect(url_for(endpoint, view=view.id if view else "none"))


@bp.get(f"/views/{KIND}")
@require(Permission.CATALOG_READ)
def menu(list_kind: str):
    """The views of a list, loaded into its menu when the menu is first opened."""
    endpoint = _readable(list_kind)
    user = signed_in_user()
    views = service.visible_views(user, list_kind)
    return render_template(
        "saved_views/_menu.html", views=views, kind=list_kind, endpoint=endpoint,
        default=(user.default_views or {}).get(list_kind), user=user,
        current=request.args.get("current", type=int),
    )  # fmt: skip


@bp.get(f"/views/{KIND}/new")
@require(Permission.CATALOG_READ)
def save_form(list_kind: str):
    """The "Save as view…" form, loaded into the list's panel when first opened; `query`:
    the list's arguments it saves."""
    _readable(list_kind)
    return render_template(
        "saved_views/_save_form.html", kind=list_kind, query=request.args.get("query", "")
    )


@bp.post(f"/views/{KIND}")
@require(Permission.CATALOG_READ)
def create(list_kind: str):
    _readable(list_kind)
    form = SaveViewForm()
    if not form.validate_on_submit():
        flash("The view was not saved: " + _errors(form), "warning")
        return redirect(f"{url_for(LISTS[list_kind][1])}?{_query(form.query.data)}")
    user = signed_in_user()
    outcome = commit_or_explain(
        lambda: service.create(
            user, list_kind, form.name.data, _state(list_kind, form.query.data),
            shared_with=form.shared_with.data, actor=user,
        ),
        flash_prefix="The view was not saved: ",
    )  # fmt: skip
    if outcome:
        flash(f"Saved the view “{outcome.value.name}”.", "success")
        return _back(list_kind, outcome.value)
    return redirect(f"{url_for(LISTS[list_kind][1])}?{_query(form.query.data)}")


def _query(query: str | None) -> str:
    return urlencode(_parse_qs(query or ""))


def _errors(form) -> str:
    return " ".join(message for errors in form.errors.values() for message in errors)


@bp.post("/views/<id:view_id>/save")
@require(Permission.CATALOG_READ)
def save(view_id: int):
    """Save the list's current state into the view."""
    view = _view(view_id)
    form = SaveStateForm()
    if not form.validate_on_submit():
        abort(400)
    user = signed_in_user()
    outcome = commit_or_explain(
        lambda: service.save_state(view, _state(view.kind, form.query.data), actor=user),
        flash_prefix="The view was not saved: ",
    )
    if outcome:
        flash(f"Saved the changes to “{view.name}”." if outcome.value else "Nothing changed.",
              "success" if outcome.value else "info")  # fmt: skip
    return _back(view.kind, view)


@bp.post("/views/<id:view_id>/edit")
@require(Permission.CATALOG_READ)
def edit(view_id: int):
    """Rename the view, or share it with a role (or with nobody)."""
    view = _view(view_id)
    form = EditViewForm()
    if not form.validate_on_submit():
        abort(400)
    user = signed_in_user()
    outcome = commit_or_explain(
        lambda: service.edit(
            view, name=form.name.data, shared_with=form.shared_with.data, actor=user
        ),
        flash_prefix="The view was not changed: ",
    )
    if outcome and outcome.value:
        flash(f"Changed the view “{view.name}”.", "success")
    return _back(view.kind, view)


@bp.post("/views/<id:view_id>/delete")
@require(Permission.CATALOG_READ)
def delete(view_id: int):
    view = _view(view_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    kind, name = view.kind, view.name
    user = signed_in_user()
    if commit_or_explain(lambda: service.delete(view, actor=user)):
        flash(f"Deleted the view “{name}”.", "success")
        return _back(kind)
    return _back(kind, view)


@bp.post(f"/views/{KIND}/default")
@require(Permission.CATALOG_READ)
def default(list_kind: str):
    """Open the list with this view from now on (an empty `view`: the plain list)."""
    _readable(list_kind)
    form = DefaultViewForm()
    if not form.validate_on_submit():
        abort(400)
    chosen = form.view.data or ""
    if chosen and not (chosen.isdigit() and int(chosen) <= INT_MAX):
        abort(404)  # no such view (past INTEGER, none can be)
    view = _view(int(chosen)) if chosen else None
    user = signed_in_user()
    if commit_or_explain(lambda: service.set_default(user, list_kind, view)):
        if view:
            flash(f"“{view.name}” now opens when you open this list.", "success")
        else:
            flash("The list now opens without a view.", "success")
    return _back(list_kind, view)


@bp.post(f"/settings/columns/{KIND}")
@auth_required("session")
def columns(list_kind: str):
    """The columns the user hides in a list (static/js/saved-views.js posts each change)."""
    _readable(list_kind)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    hidden = [name for name in request.form.getlist("hidden") if name]
    # The order, when the list sends it (the video list's chooser moves columns).
    order = [name for name in request.form.getlist("order") if name] or None
    user = signed_in_user()
    outcome = commit_or_explain(
        lambda: service.set_columns(user, list_kind, hidden, order), show=False
    )
    return ("", 204) if outcome else ("", 400)


@bp.post("/settings/colour-mode")
@auth_required("session")
def colour_mode():
    """Light, dark or as the system: remembered on the user's row; back to the page."""
    form = ColourModeForm()
    if not form.validate_on_submit():
        abort(400)
    user = signed_in_user()
    commit_or_explain(lambda: service.set_colour_mode(user, form.colour_mode.data))
    # Back to the page the switch was pressed on (the browser names it), if it is this site's.
    back = urlsplit(request.referrer or "")
    if back.netloc == request.host and back.scheme in ("http", "https"):
        return redirect(back.path + (f"?{back.query}" if back.query else ""))
    return redirect(url_for("accounts.settings"))


@bp.app_template_global()
def video_chips(state, channel_name, categories, fields) -> list[chips.Chip]:
    """The video list's active filters as chips (templates/saved_views/_panel.html)."""
    return chips.video_chips(state, channel_name, categories, fields)


@bp.app_template_global()
def saved_views_manages(view: SavedView) -> bool:
    """May the signed-in user save into, rename, share or delete `view`?"""
    return service.manages(view, signed_in_user())


@bp.app_context_processor
def share_choices() -> dict:
    return {"saved_view_share_choices": SHARE_CHOICES}
