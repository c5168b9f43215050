"""Production pages: drafts made and edited in Catalog, and the Notion sync. The board is in
board_views.py, a task's page and its steps in task_views.py."""

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from catalog.models.task import Task
from catalog.permissions import Permission, require, signed_in_user
from catalog.production import bp, drafts, sync
from catalog.production.forms import DraftForm, channel_choices
from catalog.web.actions import commit_or_explain
from catalog.web.forms import ConfirmForm
from catalog.web.loaders import load_or_404


def _task(task_id: int, *, lock: bool = False) -> Task:
    statement = select(Task).where(Task.id == task_id).options(joinedload(Task.channel))
    return load_or_404(statement, lock=lock)


@bp.post("/production/sync")
@require(Permission.CATALOG_EDIT)
def sync_notion():
    if not ConfirmForm().validate_on_submit():  # the CSRF token, checked once more
        abort(400)
    outcome = commit_or_explain(lambda: sync.request_sync(actor=signed_in_user()))
    if outcome:
        entry, new = outcome.value
        if new:
            flash(
                f"Sync with Notion queued (#{entry.id}); its result shows on the Queue page.",
                "success",
            )
        else:
            flash(f"A sync with Notion is already waiting or running (#{entry.id}).", "info")
    return redirect(url_for("production.board"), 303)


@bp.route("/production/tasks/new", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def create_draft():
    form = DraftForm()
    form.channel_id.choices = channel_choices()
    if form.validate_on_submit():
        outcome = commit_or_explain(
            lambda: drafts.create_draft(form.values(), actor=signed_in_user()), form=form
        )
        if outcome:
            flash(f"Draft “{outcome.value.title}” created.", "success")
            return redirect(url_for("production.task", task_id=outcome.value.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("production/draft_form.html", form=form, task=None), status


@bp.route("/production/tasks/<id:task_id>/edit", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def edit_draft(task_id: int):
    posted = request.method == "POST"
    task = _task(task_id, lock=posted)
    form = DraftForm(obj=None if posted else task)
    form.channel_id.choices = channel_choices()
    for name in set(drafts.FIELDS) - drafts.changeable(task):
        delattr(form, name)  # what may no longer change is shown on the task's page
    if form.validate_on_submit():
        outcome = commit_or_explain(
            lambda: drafts.update_draft(task, form.values(), actor=signed_in_user()), form=form
        )
        if outcome:
            if outcome.value:
                flash(
                    f"Saved {len(outcome.value)} change{'s' if len(outcome.value) != 1 else ''}.",
                    "success",
                )
            else:
                flash("Nothing changed, so nothing was saved.", "info")
            return redirect(url_for("production.task", task_id=task.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("production/draft_form.html", form=form, task=task), status
