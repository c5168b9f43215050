"""Watching, for every signed-in role: the library page, a row's further cards, the watch
page with its player (the progress beacons it sends go to catalog.library.api), reactions,
and the files."""

from flask import abort, make_response, redirect, render_template, request, url_for
from sqlalchemy import select

from catalog.library import beacons, bp, progress, queries, reactions, serving
from catalog.library.watch_forms import ReactionForm
from catalog.models import Video, VideoCategory
from catalog.permissions import Permission, require, signed_in_user
from catalog.web.actions import commit_or_explain
from catalog.web.headers import policy_with_media_from
from catalog.web.loaders import load_or_404

SEARCH_MAX = 100  # characters of a search that are used


@bp.get("/library")
@require(Permission.CATALOG_READ)
def index():
    q = request.args.get("q", "").strip()[:SEARCH_MAX]
    if q:
        return render_template("library/index.html", q=q, results=queries.search(q))
    rows = queries.category_rows()
    watching = queries.continue_watching(signed_in_user().id)
    return render_template(
        "library/index.html", q="", hero=queries.hero(), rows=rows, watching=watching
    )


@bp.get("/library/rows/category/<id:category>")
@require(Permission.CATALOG_READ)
def more_category(category: int):
    found = load_or_404(select(VideoCategory).where(VideoCategory.id == category))
    row = queries.category_more(found, request.args.get("after", ""))
    if row is None:
        abort(400)
    return render_template("library/_cards.html", row=row)


@bp.get("/library/rows/continue")
@require(Permission.CATALOG_READ)
def more_continue():
    row = queries.continue_watching(signed_in_user().id, request.args.get("after", ""))
    if row is None:
        abort(400)
    return render_template("library/_cards.html", row=row)


def _watchable(video_id: str) -> Video:
    """A published video whose file is stored here (not an outside URL), else 404."""
    video = queries.watchable(video_id)
    if video is None or not serving.is_key(video.video_url):
        abort(404)
    return video


@bp.get("/library/<video_id>")
@require(Permission.CATALOG_READ)
def watch(video_id: str):
    video = _watchable(video_id)
    user = signed_in_user()
    started = progress.progress_of(user.id, video.id)
    response = make_response(
        render_template(
            "library/watch.html", video=video,
            resume=progress.resume_offer(started, video.duration_seconds),
            tallies=reactions.tallies(user.id, video.id),
            captions=serving.key_of(video, "captions") is not None,
            media_type=serving.media_type(video.video_url),
            # The player's beacons go to the API with this instead of the session.
            beacon_token=beacons.issue(user.id, user.fs_uniquifier, video.id),
        )
    )  # fmt: skip
    if origin := serving.media_origin(video):
        # The player's file comes from the bucket (a presigned URL): the page may load it.
        response.headers["Content-Security-Policy"] = policy_with_media_from(origin)
    return response


@bp.get("/library/<video_id>/<any(video, thumbnail, captions):kind>")
@require(Permission.CATALOG_READ)
def media(video_id: str, kind: str):
    return serving.serve(_watchable(video_id), kind)


@bp.post("/library/<video_id>/reaction")
@require(Permission.CATALOG_READ)
def react(video_id: str):
    """Set, replace or remove the person's reaction; htmx swaps the tallies in place,
    a plain form post (no JavaScript) goes back to the watch page."""
    video = _watchable(video_id)
    form = ReactionForm()
    user = signed_in_user()
    if not form.validate_on_submit():
        abort(400)
    commit_or_explain(lambda: reactions.toggle(user.id, video, form.reaction.data), form=form)
    if not request.headers.get("HX-Request"):
        return redirect(url_for("library.watch", video_id=video.video_id))
    return render_template(
        "library/_reactions.html", video=video, tallies=reactions.tallies(user.id, video.id),
    )  # fmt: skip
