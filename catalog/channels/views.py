from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from catalog import audit
from catalog.channels import bp, queries, service
from catalog.channels.countries import COUNTRIES
from catalog.channels.forms import ChannelForm
from catalog.models import Channel
from catalog.permissions import Permission, require, signed_in_user
from catalog.web.actions import commit_or_explain, flash_saved, form_status, save_form
from catalog.web.forms import ConfirmForm
from catalog.web.loaders import load_or_404
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
        countries=COUNTRIES, columns=LIST_COLUMNS, page_sizes=queries.PAGE_SIZES,
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
    outcome = save_form(
        form,
        lambda: service.create_channel(form.values(), actor=signed_in_user()),
        default_field="name",
    )
    if channel := outcome.value:
        flash(f"Channel {channel.name} created.", "success")
        return redirect(url_for("channels.detail", channel_id=channel.channel_id))
    status = form_status(form)
    return render_template("channels/create.html", form=form), status


@bp.route("/channels/<channel_id>/edit", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def edit(channel_id: str):
    channel = _get_channel(channel_id, lock=request.method == "POST")
    form = ChannelForm(obj=channel if request.method == "GET" else None)
    del form.channel_id  # a channel's identity is not edited
    outcome = save_form(
        form,
        lambda: service.update_channel(channel, form.values(), actor=signed_in_user()),
        default_field="name",
    )
    if outcome:
        flash_saved(len(outcome.value))
        return redirect(url_for("channels.detail", channel_id=channel.channel_id))
    status = form_status(form)
    return render_template("channels/edit.html", form=form, channel=channel), status


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
    form = ConfirmForm()
    in_use = service.usage(channel)
    if not in_use and form.validate_on_submit():
        outcome = commit_or_explain(
            lambda: service.delete_channel(channel, actor=signed_in_user()),
            refused=(service.ChannelInUse,), show=False,
        )  # fmt: skip
        if not outcome:  # something started using it since the check
            in_use = service.usage(channel)
        else:
            flash(
                f"Channel {channel.name} deleted. Its history stays on the Changes page.", "success"
            )
            return redirect(url_for("channels.index"))
    uses = [plural(count, *USAGE_LABELS.get(kind, (kind, kind))) for kind, count in in_use.items()]
    status = 409 if in_use and request.method == "POST" else 200
    return render_template("channels/delete.html", channel=channel, form=form, uses=uses), status
