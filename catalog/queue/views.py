from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from catalog.extensions import db
from catalog.models import ProcessingQueue
from catalog.permissions import Permission, require, signed_in_user
from catalog.queue import bp, queries, service
from catalog.web.actions import commit_or_explain

STATUS_STYLES = {
    "pending": "secondary", "processing": "primary", "completed": "success",
    "failed": "danger", "cancelled": "warning",
}  # fmt: skip


@bp.get("/queue")
@require(Permission.CATALOG_READ)
def index():
    filters = queries.parse_filters(request.args)
    return render_template(
        "queue/index.html", filters=filters, page=queries.queue_page(filters, queries.PAGE_SIZE),
        counts=queries.status_counts(filters), task_types=queries.task_types(),
        styles=STATUS_STYLES,
    )  # fmt: skip


def _entry_to_change() -> ProcessingQueue | None:
    """The entry named by the form, row-locked; 404 when there is none, None (with a
    flash) while a running job holds it."""
    if not FlaskForm().validate_on_submit():  # the CSRF token, checked once more
        abort(400)
    try:
        entry_id = int(request.form.get("entry_id", ""))
    except ValueError:
        abort(404)
    entry = queries.entry_for_update(entry_id)
    if entry is None:
        if db.session.get(ProcessingQueue, entry_id) is None:
            abort(404)
        flash(f"Entry #{entry_id} is being worked on right now; try again shortly.", "warning")
    return entry


def _back() -> str:
    """Back to the page the action was posted from (same filters), else the queue."""
    target = request.form.get("next", "")
    if target.startswith("/queue") and not target.startswith("//"):
        return target
    return url_for("queue.index")


def _change(action, done: str):
    """Do `action` to the entry the form names; the flash says what came of it."""
    entry = _entry_to_change()
    if entry is not None:
        label = f"Entry #{entry.id} ({entry.task_type})"
        if commit_or_explain(
            lambda: action(entry, actor=signed_in_user()), flash_prefix=f"{label}: "
        ):
            flash(f"{label} {done}.", "success")
    return redirect(_back(), 303)


@bp.post("/queue/retry")
@require(Permission.CATALOG_EDIT)
def retry():
    return _change(service.retry_entry, "is queued to run again")


@bp.post("/queue/cancel")
@require(Permission.CATALOG_EDIT)
def cancel():
    return _change(service.cancel_entry, "is cancelled")
