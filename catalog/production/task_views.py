"""A task's page and the people's steps on it: queue, approve, send back, retry, change the
priority, cancel. Each step is a POST with CSRF through the production service; approving or
sending back opens the next task waiting for review."""

from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import MetadataSync
from catalog.models.task import Task
from catalog.permissions import Permission, can, require, signed_in_user
from catalog.production import bp, notion, queries, review_queue, service, transitions
from catalog.production.board_forms import PriorityForm, SendBackForm
from catalog.production.views import _task
from catalog.web.actions import commit_or_explain
from catalog.web.forms import ConfirmForm

TIMELINE_LIMIT = 200
# A result's preview, by the file's extension. Only https links are previewed: the page's
# CSP allows images and media from https: (catalog/web/headers.py), and an http file on an
# https page would be blocked as mixed content anyway.
PREVIEWS = {
    "image": (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif"),
    "audio": (".mp3", ".wav", ".ogg", ".oga", ".m4a", ".aac", ".flac", ".opus"),
    "video": (".mp4", ".webm", ".m4v", ".mov", ".ogv"),
}
RESULTS = (
    ("asset_url", "Assets"), ("composite_url", "Composites"), ("video_url", "Video"),
    ("audio_url", "Narration audio"), ("sfx_url", "Sound effects"), ("final_url", "Final file"),
    ("youtube_url", "YouTube"),
)  # fmt: skip


@dataclass(frozen=True)
class Result:
    label: str
    url: str
    preview: str | None  # "image", "audio", "video" or None


def preview_kind(url: str) -> str | None:
    """What a result link can be previewed as (None: a link only)."""
    parts = urlsplit(url or "")
    if parts.scheme != "https" or not parts.netloc:
        return None
    suffix = PurePosixPath(parts.path).suffix.lower()
    return next((kind for kind, ends in PREVIEWS.items() if suffix in ends), None)


def results(task: Task) -> list[Result]:
    return [
        Result(label, getattr(task, field), preview_kind(getattr(task, field)))
        for field, label in RESULTS
        if getattr(task, field)
    ]


def allowed_actions(task: Task) -> set[str]:
    """The steps the signed-in user may take on `task` in its state (the buttons shown)."""
    if not can(Permission.CATALOG_EDIT):
        return set()
    status = task.status
    found = set()
    if transitions.who(status, "queued") == transitions.USER:
        found.add("queue")
    if status in transitions.GATES:
        found |= {"approve", "send_back"}
    if status in transitions.ERRORS and task.failed_from:
        found.add("retry")
    if transitions.who(status, "draft") == transitions.USER:
        found.add("cancel")
    if status != "published":
        found.add("priority")
    if status == "draft":
        found.add("edit")
    return found


@bp.get("/production/tasks/<id:task_id>")
@require(Permission.CATALOG_READ)
def task(task_id: int):
    found = _task(task_id)
    timeline = db.session.scalars(
        select(MetadataSync)
        .where(MetadataSync.entity_type == "task", MetadataSync.entity_id == found.id)
        .order_by(MetadataSync.sync_time.desc(), MetadataSync.id.desc())
        .limit(TIMELINE_LIMIT)
    ).all()
    previous, following = review_queue.review_neighbours(found)
    return render_template(
        "production/task.html", task=found, timeline=timeline, timeline_limit=TIMELINE_LIMIT,
        notion_configured=notion.configured(), actions=allowed_actions(found),
        results=results(found), form=ConfirmForm(), send_back_form=SendBackForm(),
        priority_form=PriorityForm(data={"priority": found.priority}),
        previous_review=previous, next_review=following,
        waiting=review_queue.waiting_for_review(), reviewing=found.status in queries.REVIEW,
    )  # fmt: skip


def _step(task_id: int, form, work, done: str, *, next_review: bool = False):
    """Run one step from the task's page: the form (its CSRF token) checked, the service
    call committed or explained, a flash naming the task; then the task again, or the next
    task waiting for review after a decision at a gate."""
    found = _task(task_id)
    if not form.validate_on_submit():
        if form.errors.keys() - {"csrf_token"}:
            for errors in form.errors.values():
                flash(" ".join(errors), "warning")
            return redirect(url_for("production.task", task_id=found.id), 303)
        abort(400)
    outcome = commit_or_explain(lambda: work(found), flash_prefix=f"“{found.title}”: ")
    if not outcome:
        return redirect(url_for("production.task", task_id=found.id), 303)
    flash(f"{done} “{found.title}” (now {found.status.replace('_', ' ')}).", "success")
    if next_review:
        following = review_queue.next_for_review(found)
        if following is None:
            flash("No more tasks are waiting for review.", "info")
            return redirect(url_for("production.board"), 303)
        return redirect(url_for("production.task", task_id=following), 303)
    return redirect(url_for("production.task", task_id=found.id), 303)


@bp.post("/production/tasks/<id:task_id>/queue")
@require(Permission.CATALOG_EDIT)
def queue(task_id: int):
    return _step(
        task_id, ConfirmForm(), lambda t: service.queue(t, actor=signed_in_user()), "Queued"
    )


@bp.post("/production/tasks/<id:task_id>/approve")
@require(Permission.CATALOG_EDIT)
def approve(task_id: int):
    return _step(
        task_id, ConfirmForm(), lambda t: service.approve(t, actor=signed_in_user()),
        "Approved", next_review=True,
    )  # fmt: skip


@bp.post("/production/tasks/<id:task_id>/send-back")
@require(Permission.CATALOG_EDIT)
def send_back(task_id: int):
    form = SendBackForm()
    return _step(
        task_id, form,
        lambda t: service.send_back(t, actor=signed_in_user(), reason=form.reason.data),
        "Sent back", next_review=True,
    )  # fmt: skip


@bp.post("/production/tasks/<id:task_id>/retry")
@require(Permission.CATALOG_EDIT)
def retry(task_id: int):
    return _step(
        task_id, ConfirmForm(), lambda t: service.retry(t, actor=signed_in_user()), "Retried"
    )


@bp.post("/production/tasks/<id:task_id>/priority")
@require(Permission.CATALOG_EDIT)
def priority(task_id: int):
    form = PriorityForm()
    return _step(
        task_id, form,
        lambda t: service.set_priority(t, form.priority.data, actor=signed_in_user()),
        "Priority changed for",
    )  # fmt: skip


@bp.route("/production/tasks/<id:task_id>/cancel", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def cancel(task_id: int):
    """Cancel back to draft: destructive (the stage's progress is dropped), so confirmed on
    a page of its own first."""
    if request.method == "POST":
        return _step(
            task_id, ConfirmForm(), lambda t: service.cancel(t, actor=signed_in_user()),
            "Cancelled",
        )  # fmt: skip
    found = _task(task_id)
    if "cancel" not in allowed_actions(found):
        flash(f"A task that is {found.status.replace('_', ' ')} cannot be cancelled.", "warning")
        return redirect(url_for("production.task", task_id=found.id))
    return render_template("production/cancel.html", task=found, form=ConfirmForm())
