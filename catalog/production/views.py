"""Production pages: drafts made and edited in Catalog, a task's page, and the Notion sync.

The board here is the smallest one that holds the drafts' buttons (counts by phase, the
newest tasks); the full board replaces it."""

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from catalog.extensions import db
from catalog.models import MetadataSync
from catalog.models.task import PHASES, Task
from catalog.permissions import Permission, require, signed_in_user
from catalog.production import bp, drafts, notion, sync
from catalog.production.forms import DraftForm, channel_choices
from catalog.web.actions import commit_or_explain
from catalog.web.forms import ConfirmForm
from catalog.web.loaders import load_or_404

NEWEST = 50
TIMELINE_LIMIT = 200


def _task(task_id: int, *, lock: bool = False) -> Task:
    statement = select(Task).where(Task.id == task_id).options(joinedload(Task.channel))
    return load_or_404(statement, lock=lock)


@bp.get("/production")
@require(Permission.CATALOG_READ)
def board():
    counts = dict(db.session.execute(select(Task.status, func.count()).group_by(Task.status)).all())
    phases = [
        (phase, sum(counts.get(s, 0) for s in statuses)) for phase, statuses in PHASES.items()
    ]
    newest = db.session.scalars(
        select(Task).options(joinedload(Task.channel)).order_by(Task.id.desc()).limit(NEWEST)
    ).all()
    return render_template(
        "production/board.html", phases=phases, tasks=newest, form=ConfirmForm(),
        notion_configured=notion.configured(), waiting=sync.waiting_sync(),
    )  # fmt: skip


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
    return render_template(
        "production/task.html", task=found, timeline=timeline, timeline_limit=TIMELINE_LIMIT,
        notion_configured=notion.configured(),
    )  # fmt: skip
