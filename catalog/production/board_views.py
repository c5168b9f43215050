"""The production board: columns by phase with their counts and first cards in claim
order, a column's next pages (htmx), the bulk actions on the filtered set, and a channel's
production page."""

from flask import (
    abort,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import select

from catalog import audit
from catalog.models import Channel
from catalog.models.task import STAGES, TASK_PRIORITIES, TASK_STATUSES
from catalog.permissions import Permission, require, signed_in_user
from catalog.production import bp, bulk, capacity, channel_figures, notion, queries, sync
from catalog.production.board_forms import BULK_ACTIONS, BulkForm, CapacityForm
from catalog.saved_views import lists as saved_lists
from catalog.web import menus
from catalog.web.actions import commit_or_explain
from catalog.web.forms import ConfirmForm
from catalog.web.loaders import load_or_404
from catalog.web.text import plural

CHANNEL_HISTORY = 20
# As the video list says it (catalog/saved_views/lists.py, check_videos).
MISSING_CHANNEL = "The channel this link names no longer exists: not filtered by it."


def _words(value: str) -> str:
    return value.replace("_", " ")


def channel_menu() -> tuple[set[int], str]:
    """The ids of every channel and the board's channel filter options as HTML, none
    selected: this process's copy while the channels' menu version is current (see
    catalog/web/menus.py), read and rendered again when a channel was added, renamed or
    deleted. 500 options rendered on each request were a sixth of the board's render, and
    reading them a statement of each request."""
    return menus.cached("channels", _read_channel_menu)


def _read_channel_menu() -> tuple[set[int], str]:
    channels = queries.channel_options()
    render = get_template_attribute("production/_channel_options.html", "options")
    return {channel_id for channel_id, _name in channels}, str(render(channels))


def _selected(options: str, channel: int | None) -> Markup:
    """The kept options with `channel` selected (an id: nothing in it to escape)."""
    if channel is not None:
        plain = f'<option value="{channel}">'
        options = options.replace(plain, f"{plain[:-1]} selected>", 1)
    return Markup(options)  # noqa: S704 - rendered by the template, escaped there


def _filters_context(board: queries.BoardFilter, options: str) -> dict:
    return {
        "board": board, "channel_options": _selected(options, board.channel),
        "priorities": TASK_PRIORITIES,
        "priority_options": [(p, p.capitalize()) for p in TASK_PRIORITIES],
        "stage_options": [(s, s.capitalize()) for s in STAGES],
        "status_options": [(s, _words(s)) for s in TASK_STATUSES],
        "age_options": [(value, label) for value, (label, _delta) in queries.AGES.items()],
    }  # fmt: skip


@bp.get("/production")
@require(Permission.CATALOG_READ)
def board():
    # A saved view's filters under the URL's own arguments (catalog/saved_views/lists.py).
    opened = saved_lists.open_list("production", request.args, signed_in_user())
    # The channel menu says which channels exist: a view or a link naming one deleted since
    # is shown without that filter (and says so), its other filters kept.
    existing, options = channel_menu()

    def normalized(args) -> queries.BoardFilter:
        return queries.BoardFilter.from_args(args).without_missing(existing)

    named = queries.BoardFilter.from_args(opened.args)
    board = normalized(opened.args)
    # A view's own filters that name what is gone are noted by check_args.
    saved_lists.check_args(opened, lambda args: normalized(args).args(), board.args())
    if named.channel != board.channel and (opened.view is None or "channel" in opened.own):
        opened.notes.append(MISSING_CHANNEL)
    configured = notion.configured()
    return render_template(
        "production/board.html", columns=queries.board(board), form=ConfirmForm(),
        notion_configured=configured, waiting=sync.waiting_sync() if configured else None,
        bulk_actions=BULK_ACTIONS, opened=opened, **_filters_context(board, options),
    )  # fmt: skip


@bp.get("/production/column")
@require(Permission.CATALOG_READ)
def column():
    """The next page of one column, after a card's cursor: the cards and the next button."""
    board = queries.BoardFilter.from_args(request.args)
    found = queries.column(board, request.args.get("phase", ""), request.args.get("after"))
    if found is None:
        abort(404)
    return render_template("production/_column_page.html", column=found, board=board)


def _bulk_request() -> tuple[str, str | None]:
    action = request.values.get("action", "")
    # Not "priority": that is the board's filter, which the request carries too.
    priority = request.values.get("new_priority") or None
    if action not in BULK_ACTIONS or (action == "priority" and priority not in TASK_PRIORITIES):
        abort(400, "Choose a bulk action (and, to change the priority, the new priority).")
    return action, priority if action == "priority" else None


@bp.route("/production/bulk", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def bulk_action():
    """The exact count of what the action would change in the filtered set, a confirmation,
    then the action: one audit batch."""
    board = queries.BoardFilter.from_args(request.args)
    action, priority = _bulk_request()
    form = BulkForm()
    if form.validate_on_submit():
        outcome = commit_or_explain(
            lambda: bulk.apply(
                action, board.selection(), expected=form.expected.data, actor=signed_in_user(),
                priority=priority,
            )
        )  # fmt: skip
        if outcome:
            done = outcome.value
            what = {"queue": "queued", "retry": "retried", "priority": f"set to {priority}"}
            flash(f"{plural(done.count, 'task')} {what[action]}.", "success")
            return redirect(url_for("production.board", **board.args()), 303)
    elif request.method == "POST":
        abort(400)
    count = bulk.count(action, board.selection(), priority=priority)
    form.action.data, form.new_priority.data, form.expected.data = action, priority or "", count
    return render_template(
        "production/bulk.html", form=form, board=board, action=action, priority=priority,
        label=BULK_ACTIONS[action], count=count,
    )  # fmt: skip


def _channel(channel_id: str, *, lock: bool = False) -> Channel:
    return load_or_404(select(Channel).where(Channel.channel_id == channel_id), lock=lock)


@bp.get("/production/channels/<channel_id>")
@require(Permission.CATALOG_READ)
def channel(channel_id: str):
    """A channel's production: capacity, in production now, waiting for review, published
    this week, error rate; editors change the capacity here."""
    found = _channel(channel_id)
    return _channel_page(found, CapacityForm(data={"capacity": found.production_capacity}))


@bp.post("/production/channels/<channel_id>/capacity")
@require(Permission.CATALOG_EDIT)
def channel_capacity(channel_id: str):
    found = _channel(channel_id, lock=True)
    form = CapacityForm()
    if not form.validate_on_submit():
        if not form.errors:
            abort(400)
        return _channel_page(found, form, 422)
    outcome = commit_or_explain(
        lambda: capacity.set_capacity(found, form.capacity.data, actor=signed_in_user()),
        form=form,
    )
    if not outcome:
        return _channel_page(found, form, 422)
    if outcome.value:
        flash(f"Capacity of {found.name} set to {found.production_capacity}.", "success")
    else:
        flash("Nothing changed, so nothing was saved.", "info")
    return redirect(url_for("production.channel", channel_id=found.channel_id), 303)


def _channel_page(found: Channel, form: CapacityForm, status: int = 200):
    history = [
        row
        for row in audit.history("channel", found.id, limit=CHANNEL_HISTORY)
        if "production_capacity" in (row.changes or {})
    ]
    return render_template(
        "production/channel.html", channel=found, figures=channel_figures.channel_figures(found),
        form=form, history=history, window_days=channel_figures.ERROR_WINDOW.days,
    ), status  # fmt: skip
