from dataclasses import replace
from datetime import UTC, datetime, timedelta

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import Conflict

from catalog import audit
from catalog.extensions import db
from catalog.fields.queries import all_fields, applicable_fields
from catalog.library import figures, uploads
from catalog.models import Channel, Video, VideoCategory
from catalog.models.video import MONETIZATION_FIELDS
from catalog.permissions import Permission, can, require, signed_in_user
from catalog.saved_views import lists as saved_lists
from catalog.saved_views import service as saved_service
from catalog.videos import bp, bulk_edit, columns, custom_values, menus, queries, rows, service
from catalog.videos.export import export_rows
from catalog.videos.forms import (
    FORM_GROUPS,
    BulkEditForm,
    VideoForm,
    field_labels,
    form_value,
    with_custom_fields,
)
from catalog.web import csv as csvexport
from catalog.web import timezones
from catalog.web.actions import commit_or_explain
from catalog.web.forms import ConfirmForm, options
from catalog.web.loaders import load_or_404
from catalog.web.text import plural
from catalog.youtube import service as youtube

HISTORY_LIMIT = 100


# A custom field's definition that changed under a save is answered by definition_changed
# (409, below), not on the form: no field of the form is wrong.
CHANGED_UNDER_US = (custom_values.InvalidValue,)


def _get_video(video_id: str, *, lock: bool = False) -> Video:
    return load_or_404(select(Video).where(Video.video_id == video_id), lock=lock)


def _set_choices(form: VideoForm | BulkEditForm, video: Video | None = None) -> None:
    """Fill the channel and category menus; inactive categories only where already in use."""
    if "channel_id" in form:
        channels = db.session.execute(select(Channel.id, Channel.name).order_by(Channel.name))
        form.channel_id.choices = options([("", "No channel"), *((c.id, c.name) for c in channels)])
    categories = db.session.scalars(
        select(VideoCategory).order_by(VideoCategory.sort_order, VideoCategory.name)
    )
    current = video.category_id if video else None
    form.category_id.choices = options(
        [
            ("", "No category"),
            *((c.id, c.name) for c in categories if c.is_active or c.id == current),
        ]
    )


def _custom_values_valid(form) -> bool:
    """Custom values are checked against their fields once more (options or a rating's
    maximum may have changed since the form was rendered); errors land on the inputs."""
    form.custom_values()
    return not any(form[f"cf_{field.id}"].errors for field in form.custom_fields)


def _version(form: VideoForm) -> int | None:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return None


@bp.get("/")
@require(Permission.CATALOG_READ)
def home():
    return redirect(url_for("videos.index"))


@bp.get("/videos")
@require(Permission.CATALOG_READ)
def index():
    # A saved view's state under the URL's own arguments (catalog/saved_views/lists.py).
    opened = saved_lists.open_list("videos", request.args, signed_in_user())
    channel_name, categories, fields = menus.filter_choices(opened.args.get("channel", type=int))
    by_id = {field.id: field for field in fields}
    state = queries.parse_state(opened.args, by_id)
    state = saved_lists.check_videos(opened, state, by_id, channel_name, categories)
    state = replace(state, kept_view=opened.kept())  # sorting and paging keep the view
    card_fields = [field for field in fields if field.on_card]
    page = queries.list_page(state, by_id, tuple(field.id for field in card_fields))
    # The columns in the order the view keeps, else the user's: rendered in it, no script.
    order = opened.view.order if opened.view else None
    if order is None:
        order = (signed_in_user().list_columns or {}).get(saved_service.order_key("videos"))
    return render_template(
        "videos/index.html", state=state, page=page, channel_name=channel_name,
        categories=categories, fields=fields, card_fields=card_fields,
        columns=columns.ordered(order, card_fields),
        page_sizes=queries.PAGE_SIZES, monetization_fields=MONETIZATION_FIELDS, opened=opened,
        video_rows=rows.video_rows,
    )  # fmt: skip


@bp.get("/videos/shortcuts")
@require(Permission.CATALOG_READ)
def shortcuts():
    """The list's keyboard shortcuts, a dialog static/js/keyboard.js loads when "?" is
    pressed (the list does not carry it: few visits use it)."""
    return render_template("videos/shortcuts.html")


@bp.get("/videos/filters")
@require(Permission.CATALOG_READ)
def filters():
    """The list's less used filters (monetization settings, custom fields), loaded when
    their section is opened; a section with a filter set comes with the list itself."""
    _, _, fields = menus.filter_choices()
    state = queries.parse_state(request.args, {field.id: field for field in fields})
    return render_template(
        "videos/filters.html", state=state, fields=fields,
        monetization_fields=MONETIZATION_FIELDS, section=request.args.get("section", ""),
    )  # fmt: skip


@bp.get("/videos/total")
@require(Permission.CATALOG_READ)
def total():
    """The list's total (exact up to LIST_EXACT_LIMIT), which the list loads after itself
    when its page alone cannot tell."""
    _, _, fields = menus.filter_choices()
    state = queries.parse_state(request.args, {field.id: field for field in fields})
    return render_template(
        "videos/total.html", state=state, fields=fields, total=queries.count_matching(state)
    )


EXPORT_COLUMNS = tuple(
    name for name in service.EDITABLE_FIELDS if name not in ("channel_id", "category_id")
)


@bp.get("/videos/export.csv")
@require(Permission.CATALOG_READ)
def export():
    """The current list, every matching video, as CSV, streamed."""
    _, _, fields = menus.filter_choices()
    state = queries.parse_state(request.args, {field.id: field for field in fields})
    result = export_rows(state, fields)

    def rows():
        for row in result:
            video, custom = row.Video, row.card_values if fields else {}
            yield [
                *(getattr(video, name) for name in EXPORT_COLUMNS),
                video.channel_display_name, row.category_name, video.administered_at,
                video.updated_at,
                *((custom or {}).get(str(field.id)) for field in fields),
            ]  # fmt: skip

    header = [
        *EXPORT_COLUMNS, "channel", "category", "administered_at", "updated_at",
        *(field.name for field in fields),
    ]  # fmt: skip
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(csvexport.stream(header, rows())),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="videos-{stamp}.csv"'},
    )


@bp.get("/videos/channel-options")
@require(Permission.CATALOG_READ)
def channel_options():
    """Suggestions for the list's channel filter: links to the list, its other filters kept."""
    _, _, fields = menus.filter_choices()
    state = queries.parse_state(request.args, {field.id: field for field in fields})
    suggestions = menus.channel_suggestions(request.args.get("channel_q", ""))
    return render_template("videos/channel_options.html", state=state, suggestions=suggestions)


@bp.get("/videos/<video_id>")
@require(Permission.CATALOG_READ)
def detail(video_id: str):
    # Its channel and category come in the same statement: the page names both.
    video = db.session.scalars(
        select(Video)
        .options(joinedload(Video.channel), joinedload(Video.category))
        .where(Video.video_id == video_id)
    ).first()
    if video is None:
        return _deleted(video_id)
    history = audit.history("video", video.id, limit=HISTORY_LIMIT)
    labels = field_labels(timezones.current_name())
    values = custom_values.current_values(video.id)
    custom = [(field, values.get(field.id)) for field, _ in applicable_fields(video.channel_id)]
    upload = uploads.latest(video) if can(Permission.CATALOG_EDIT) else None
    return render_template(
        "videos/detail.html", video=video, history=history, groups=FORM_GROUPS, labels=labels,
        history_limit=HISTORY_LIMIT, custom=custom, figures=figures.for_video(video.id),
        upload=upload, failure=upload and uploads.failed_check(upload),
    )  # fmt: skip


def _deleted(video_id: str):
    """404 for a video that is not in the catalog; for one that was deleted, say when and by
    whom, and lead to how it was (its history stays)."""
    latest = audit.history("video", key=video_id, limit=1)
    deletion = latest[0] if latest else None
    if deletion is None or deletion.action != "delete":
        abort(404)
    before = (deletion.sync_time - timedelta(microseconds=1)).isoformat()
    return render_template("videos/deleted.html", deletion=deletion, before=before), 404


@bp.route("/videos/new", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def create():
    # A new video has no channel yet: the fields of schemas for every video apply.
    fields = [field for field, _ in applicable_fields(None)]
    defaults = {f"cf_{f.id}": form_value(f.default_value) for f in fields}
    form = with_custom_fields(VideoForm, fields)(data=defaults)
    _set_choices(form)
    if form.validate_on_submit() and _custom_values_valid(form):
        outcome = commit_or_explain(
            lambda: service.create_video(
                form.values(), actor=signed_in_user(), custom=form.custom_values()
            ),
            form=form, default_field="video_id", propagate=CHANGED_UNDER_US,
        )  # fmt: skip
        if video := outcome.value:
            flash(f"Video {video.video_id} created.", "success")
            return redirect(url_for("videos.detail", video_id=video.video_id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "videos/create.html", form=form, groups=FORM_GROUPS, custom_fields=fields
    ), status


@bp.route("/videos/<video_id>/edit", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def edit(video_id: str):
    video = _get_video(video_id, lock=request.method == "POST")
    # A save is the whole form as posted: nothing missing is filled in from the database,
    # least of all the version the editor started from.
    fields = [field for field, _ in applicable_fields(video.channel_id)]
    current = custom_values.current_values(video.id)
    form_class = with_custom_fields(VideoForm, fields, current=current)
    if request.method == "GET":
        form = form_class(obj=video, data={f"cf_{k}": form_value(v) for k, v in current.items()})
    else:
        form = form_class()
    del form.video_id  # a video's identity is not edited
    _set_choices(form, video)
    form.offer_stored(video)
    if form.validate_on_submit() and _custom_values_valid(form):
        expected = _version(form)
        if expected is None:
            abort(400)
        try:
            outcome = commit_or_explain(
                lambda: service.update_video(
                    video, form.values(video), expected_version=expected, actor=signed_in_user(),
                    custom=form.custom_values(),
                ),
                form=form, propagate=CHANGED_UNDER_US,
            )  # fmt: skip
        except service.VersionConflict:  # rolled back: show what changed meanwhile
            video = _get_video(video_id)
            conflicts = service.changes_since(video, expected)
            return render_template(
                "videos/edit.html", form=form, video=video, groups=FORM_GROUPS,
                conflicts=conflicts, custom_fields=fields,
            ), 409  # fmt: skip
        if outcome:
            changes = outcome.value
            # What the user changed: a derived value that followed (the channel's name, the
            # time the video became administered) is recorded but was not a change of theirs.
            made = len([name for name in changes if name not in service.DERIVED_FIELDS])
            if changes:
                flash(f"Saved {plural(made, 'change')}.", "success")
            else:
                flash("Nothing changed, so nothing was saved.", "info")
            return redirect(url_for("videos.detail", video_id=video.video_id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "videos/edit.html", form=form, video=video, groups=FORM_GROUPS, custom_fields=fields
    ), status


@bp.route("/videos/<video_id>/delete", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def delete(video_id: str):
    video = _get_video(video_id, lock=request.method == "POST")
    form = ConfirmForm()
    if form.validate_on_submit() and commit_or_explain(
        lambda: service.delete_video(video, actor=signed_in_user())
    ):
        flash(f"Video {video_id} deleted. Its history stays on the Changes page.", "success")
        return redirect(url_for("videos.index"))
    return render_template("videos/delete.html", video=video, form=form)


def _bulk_selection(form: BulkEditForm, state: queries.ListState):
    """The ids to edit: the ticked videos, or every video the list's filters match."""
    if form.scope.data == "all":
        return queries.matching_ids(state), None
    try:
        ids = [int(i) for i in (form.ids.data or "").split(",") if i]
    except ValueError:
        abort(400)
    return select(Video.id).where(Video.id.in_(ids)), len(ids)


@bp.route("/videos/bulk", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def bulk():
    """Bulk edit in three steps: choose the fields (GET), preview exactly what would change
    (POST), confirm (POST with the preview's fingerprint), which applies what was previewed
    or, if that changed meanwhile, says so and previews again."""
    _, _, choices = menus.filter_choices()
    state = queries.parse_state(request.args, {field.id: field for field in choices})
    fields = all_fields()
    form = with_custom_fields(BulkEditForm, fields, settable=True)()
    _set_choices(form)
    if request.method == "GET":
        form.scope.data = request.args.get("scope", "")
        form.ids.data = ",".join(request.args.getlist("ids"))
    selection, selected = _bulk_selection(form, state)
    total = None
    if selected is None:
        total = queries.count_matching(state)
        selected = total.count
    if not selected:
        flash("Select at least one video to edit.", "warning")
        return redirect(url_for("videos.index", **state.view_args()))
    preview, message = None, None
    if form.validate_on_submit() and _custom_values_valid(form):
        values, custom = form.chosen_values(), form.custom_values()
        confirmed = request.form.get("confirm")
        if not values and not custom:
            flash("Tick at least one field to set.", "warning")
        elif confirmed:
            try:
                # A deadlock or serialization failure runs the whole edit again.
                outcome = commit_or_explain(
                    lambda: bulk_edit.apply_bulk(
                        selection, values, actor=signed_in_user(), custom=custom,
                        expected=confirmed,
                    ),
                    propagate=CHANGED_UNDER_US, show=False,
                )  # fmt: skip
            except bulk_edit.BulkSetChanged as exc:  # rolled back: the page previews again
                preview = exc.preview
                message = (
                    "Nothing was saved: what this edit would change is no longer what the "
                    "preview showed (videos changed, or the chosen values differ). Here is "
                    f"what it would do now: {plural(preview.count, 'video')} would change."
                )
            else:
                if outcome:
                    _flash_bulk_done(outcome.value, url_for("videos.index", **state.view_args()))
                    return redirect(url_for("videos.index", **state.view_args()))
                # A rule of the service refused it (one hero per category): shown on the page.
                message = f"Nothing was saved: {outcome.error}"
        else:
            preview = bulk_edit.preview_bulk(selection, values, custom=custom)
    return render_template(
        "videos/bulk.html", form=form, state=state, selected=selected, total=total,
        bulk_fields=service.BULK_FIELDS, custom_fields=fields, preview=preview,
        message=message, labels=_bulk_labels(form),
        categories={choice.value: choice.label for choice in form.category_id.choices},
    ), 409 if message else 200  # fmt: skip


def _bulk_labels(form) -> dict[str, str]:
    """What the preview calls each field and custom value."""
    labels = {name: form[name].label.text for name in service.BULK_FIELDS}
    return labels | {field.audit_key: field.name for field in form.custom_fields}


def _flash_bulk_done(done: bulk_edit.BulkResult, back: str) -> None:
    """The bulk edit's result, with a link to undo it that comes back to `back` (the list
    as it was) when done."""
    if not done.count:
        flash("Nothing changed: every video already had these values.", "info")
        return
    undo = url_for("changes.batch", batch_id=done.batch_id, next=back)
    # Markup: the message carries a link; its only inserted values are a number and our URL.
    flash(
        Markup('Bulk edit saved: {} changed. <a href="{}" data-testid="undo-bulk">Undo…</a>')
        .format(plural(done.count, "video"), undo),
        "success",
    )  # fmt: skip


@bp.post("/videos/sync")
@require(Permission.CATALOG_EDIT)
def sync():
    """Enqueue a YouTube metadata sync of the ticked videos (scope "selected"), of every video
    the list's filters match ("all"), or of the whole channel the list is filtered by
    ("channel"): one job per 50 videos, committed with nothing else."""
    _, _, choices = menus.filter_choices()
    state = queries.parse_state(request.args, {field.id: field for field in choices})
    back = redirect(url_for("videos.index", **state.view_args()))
    if not youtube.sync_available():
        flash(f"{youtube.SYNC_UNAVAILABLE} Nothing was enqueued.", "warning")
        return back
    scope = request.values.get("scope", "selected")
    if scope == "all":
        selection = queries.matching_ids(state)
    elif scope == "channel" and state.channel:
        selection = select(Video.id).where(Video.channel_id == state.channel)
    else:
        try:
            selection = [int(i) for i in request.form.getlist("ids")]
        except ValueError:
            abort(400)
    outcome = commit_or_explain(
        lambda: youtube.enqueue_sync(selection, actor=signed_in_user()),
        refused=(youtube.SelectionTooLarge,),
    )
    if not outcome:
        return back
    enqueued = outcome.value
    if not enqueued.jobs:  # nothing was selected, so nothing was written
        flash("Select at least one video to sync from YouTube.", "warning")
        return back
    used, quota = youtube.calls_used_today(), current_app.config["YOUTUBE_DAILY_QUOTA"]
    flash(
        f"YouTube sync enqueued: {plural(enqueued.jobs, 'job')} for "
        f"{plural(enqueued.videos, 'video')}, one API call a job (today so far: {used:,} of "
        f"{quota:,} calls used).",
        "success",
    )
    return back


@bp.errorhandler(custom_values.InvalidValue)
def definition_changed(error: custom_values.InvalidValue):
    """A field's definition changed between the form and the save; nothing was written
    (commit_or_explain rolled the save back before passing the refusal on)."""
    error = Conflict(
        f"A custom field changed while you were editing ({error}). Nothing was saved; "
        "please open the form again."
    )
    return render_template("errors/error.html", error=error), 409
