from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from catalog import audit
from catalog.channels import bp, queries, rows, service
from catalog.channels.countries import BY_NAME, COUNTRIES
from catalog.channels.forms import ChannelForm
from catalog.models import Channel
from catalog.permissions import Permission, require, signed_in_user
from catalog.web.actions import commit_or_explain
from catalog.web.forms import ConfirmForm
from catalog.web.loaders import load_or_404
from catalog.web.pages import confirm_page, form_page
from catalog.web.text import plural

LIST_COLUMNS = (
    ("name", "Name"), ("subscribers", "Subscribers"), ("views", "Views"),
    ("videos", "Videos in the catalog"),
)  # fmt: skip
USAGE_LABELS = {"videos": ("video", "videos"), "schemas": ("custom-field schema", "schemas")}


def _get_channel(channel_id: str, *, lock: bool = False) -> Channel:
    return load_or_404(select(Channel).where(Channel.channel_id == channel_id), lock=lock)


@bp.get("/channels")
@require(Permission.CATALOG_READ)
def index():
    state = queries.parse_state(request.args)
    return render_template(
        "channels/index.html", state=state, page=queries.list_page(state),
        countries=COUNTRIES, countries_by_name=BY_NAME, columns=LIST_COLUMNS,
        page_sizes=queries.PAGE_SIZES, channel_rows=rows.channel_rows,
    )  # fmt: skip


@bp.get("/channels/<channel_id>")
@require(Permission.CATALOG_READ)
def detail(channel_id: str):
    channel = _get_channel(channel_id)
    return render_template(
        "channels/detail.html", channel=channel, country=COUNTRIES.get(channel.country or ""),
        videos=queries.recent_videos(channel), schemas=queries.schemas(channel),
        history=audit.history("channel", channel.id, limit=queries.HISTORY_LIMIT),
        history_limit=queries.HISTORY_LIMIT,
        form=ConfirmForm(),
    )  # fmt: skip


@bp.route("/channels/new", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def create():
    form = ChannelForm()
    return form_page(
        "channels/create.html", form,
        lambda: service.create_channel(form.values(), actor=signed_in_user()),
        saved=lambda channel: f"Channel {channel.name} created.",
        then=lambda channel: url_for("channels.detail", channel_id=channel.channel_id),
    )  # fmt: skip


@bp.route("/channels/<channel_id>/edit", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def edit(channel_id: str):
    channel = _get_channel(channel_id, lock=request.method == "POST")
    form = ChannelForm(obj=channel if request.method == "GET" else None)
    del form.channel_id  # a channel's identity is not edited
    return form_page(
        "channels/edit.html", form,
        lambda: service.update_channel(channel, form.values(), actor=signed_in_user()),
        then=url_for("channels.detail", channel_id=channel.channel_id),
        context=lambda: {"channel": channel},
    )  # fmt: skip


def _set_hidden(channel_id: str, hidden: bool):
    channel = _get_channel(channel_id, lock=True)
    if not ConfirmForm().validate_on_submit():  # the CSRF token, checked once more
        abort(400)
    back = redirect(url_for("channels.detail", channel_id=channel.channel_id))
    outcome = commit_or_explain(lambda: service.set_hidden(channel, hidden, actor=signed_in_user()))
    if not outcome:
        return back  # refused: the flash says why
    if not outcome.value:
        flash(f"{channel.name} was already {'hidden' if hidden else 'visible'}.", "info")
    elif hidden:
        flash(
            f"{channel.name} is hidden: it and its videos are out of the default lists; "
            "the Hidden filters still find them.",
            "success",
        )
    else:
        flash(f"{channel.name} and its videos are back in the default lists.", "success")
    return back


@bp.post("/channels/<channel_id>/hide")
@require(Permission.CATALOG_EDIT)
def hide(channel_id: str):
    return _set_hidden(channel_id, True)


@bp.post("/channels/<channel_id>/unhide")
@require(Permission.CATALOG_EDIT)
def unhide(channel_id: str):
    return _set_hidden(channel_id, False)


@bp.route("/channels/<channel_id>/delete", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def delete(channel_id: str):
    channel = _get_channel(channel_id, lock=request.method == "POST")
    return confirm_page(
        "channels/delete.html",
        lambda: service.delete_channel(channel, actor=signed_in_user()),
        saved=lambda _: f"Channel {channel.name} deleted. Its history stays on the Changes page.",
        then=url_for("channels.index"),
        in_use=lambda: _uses(channel),
        context=lambda: {"channel": channel},
        refused=(service.ChannelInUse,), show=False,
    )  # fmt: skip


def _uses(channel: Channel) -> list[str]:
    """What still uses `channel`, one phrase a kind: "3 videos", "1 custom-field schema"."""
    in_use = service.usage(channel)
    return [plural(count, *USAGE_LABELS.get(kind, (kind, kind))) for kind, count in in_use.items()]
