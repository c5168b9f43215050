"""Pages that look back and undo: a video as it was at a time, reverting one change, putting a
video back to a time, bringing a deleted video back, undoing a whole batch. Each undo is a
preview (GET) and a confirmation (POST); the rules are in catalog.revert.service (one
video) and catalog.revert.batch (a batch)."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from catalog.accounts.views import local_path
from catalog.extensions import db
from catalog.models import Channel, MetadataSync, Video, VideoCategory
from catalog.permissions import Permission, require, signed_in_user
from catalog.revert import batch, bp, forms, states
from catalog.revert import service as revert
from catalog.videos.forms import FORM_GROUPS, LABELS
from catalog.videos.service import VersionConflict
from catalog.web import timezones
from catalog.web.actions import commit_or_explain
from catalog.web.loaders import load_or_404
from catalog.web.text import plural

LOOKED_AGAIN = "The video changed since you opened this page; here is what would happen now."


def _time(value: str | None) -> datetime | None:
    """An ISO 8601 time or a datetime-local value, in UTC; a time without an offset is the
    reader's wall-clock time (their time zone, as the pages show times)."""
    value = (value or "").strip()
    for text in (value, value.replace(" ", "+")):  # a "+hh:mm" that arrived unencoded
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            continue
        return timezones.to_utc(at)
    return None


def _names(*values: dict) -> dict[str, dict[int, str]]:
    """Names of the channels and categories that `values` (states, or {field: value} dicts)
    point to, to show them by name rather than by row id."""
    names: dict[str, dict[int, str]] = {}
    for key, model in (("channel_id", Channel), ("category_id", VideoCategory)):
        ids = {found[key] for found in values if isinstance(found.get(key), int)}
        names[key] = {}
        if ids:
            rows = db.session.execute(select(model.id, model.name).where(model.id.in_(ids)))
            names[key] = {row.id: row.name for row in rows}
    return names


def _attempt(undo, *, per_video: bool = True) -> tuple[Any, str | None]:
    """Run `undo` through commit_or_explain: (its result, None), or, refused, (None, the
    reason for people), which the page shows beside the preview. A video that moved on
    since the preview (`per_video`) gets the preview again, with a word saying why."""
    looked_again = {VersionConflict: LOOKED_AGAIN, revert.Changed: LOOKED_AGAIN}
    outcome = commit_or_explain(
        undo, refused=(VersionConflict,), reworded=looked_again if per_video else None,
        show=False,
    )  # fmt: skip
    return outcome.value, None if outcome else str(outcome.error)


def _row(audit_id: int) -> MetadataSync:
    """The audit row of a video change, else 404. Undo pages undo videos only, and they are
    open to people who may not read the audit log: a row of anything else (an account, a
    role, an export of the log) is neither shown nor confirmed to exist, since ids are
    sequential and could be walked."""
    return load_or_404(
        select(MetadataSync).where(MetadataSync.id == audit_id, MetadataSync.entity_type == "video")
    )


def _after_undo(video_key: str):
    """Back to the video, or, when the undo deleted it, to how it was just before."""
    if db.session.scalar(select(Video.id).where(Video.video_id == video_key)):
        return redirect(url_for("videos.detail", video_id=video_key))
    deletion = states.history(video_key)[-1]
    return redirect(url_for("revert.as_of", video_id=video_key, at=_just_before(deletion)))


def _just_before(row: MetadataSync) -> str:
    return (row.sync_time - timedelta(microseconds=1)).isoformat()


@bp.get("/videos/<video_id>/as-of")
@require(Permission.CATALOG_READ)
def as_of(video_id: str):
    """The video as it was at `at`, and the changes made since."""
    rows = states.history(video_id)
    video = db.session.scalars(select(Video).where(Video.video_id == video_id)).first()
    if not rows and video is None:
        return render_template("revert/as_of.html", video_id=video_id, unknown=True), 404
    at = _time(request.args.get("at"))
    deletion = rows[-1] if video is None and rows and rows[-1].action == "delete" else None
    context = {
        "video_id": video_id, "video": video, "deletion": deletion, "at": at,
        "groups": FORM_GROUPS, "labels": LABELS,
    }  # fmt: skip
    if deletion is not None:
        # The moment before the deletion: what "restore this video" would bring back.
        context["before_deletion"] = _just_before(deletion)
    if at is None:
        return render_template("revert/as_of.html", bad_time=True, **context), 400
    state = states.state_at(video_id, at, rows)
    since = [row for row in reversed(rows) if row.sync_time > at]
    custom = sorted((k, v) for k, v in (state or {}).items() if states.is_custom(k))
    return render_template(
        "revert/as_of.html", state=state, custom=custom, since=since,
        names=_names(state or {}), **context,
    )  # fmt: skip


@bp.route("/audit/<id:audit_id>/revert", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def revert_change(audit_id: int):
    """Revert one change of a video: preview each field (conflicts to choose), then apply."""
    row = _row(audit_id)
    if row.entity_type == "video" and row.action == "delete":
        return redirect(url_for("revert.restore_video", audit_id=audit_id))
    form = forms.RevertChangeForm()
    message, status = None, 200
    if form.is_submitted() and not form.validate():
        abort(400)
    if form.is_submitted():
        changes, message = _attempt(
            lambda: revert.apply_revert(
                row,
                restore=form.restore.data,
                acknowledged=form.acknowledged(creation=row.action == "create"),
                expected_version=form.version.data,
                actor=signed_in_user(),
            )
        )
        status = 409 if message else 200
        if message is None:
            if row.action == "create":
                flash(f"Video {row.entity_key} deleted: its creation was reverted.", "success")
            elif changes:
                flash(f"Change reverted: {plural(len(changes), 'value')} put back.", "success")
            else:
                flash("Nothing was chosen to put back, so nothing changed.", "info")
            return _after_undo(row.entity_key)
    return _preview(
        "revert/revert_change.html", lambda: revert.plan_revert(row), message, status,
        row=row, form=form,
    )  # fmt: skip


def _preview(template: str, plan_of, message: str | None, status: int, **context):
    """An undo's preview page: the plan `plan_of` makes now (or why there is none: 409), the
    names of the channels and categories it shows, and the refusal of a POST, if any."""
    try:
        plan = plan_of()
    except revert.RevertError as exc:
        plan, message, status = None, str(exc), 409
    return render_template(
        template, plan=plan, message=message, labels=LABELS, names=_names(*_values(plan)),
        **context,
    ), status  # fmt: skip


def _values(plan) -> list[dict]:
    """Every value a plan shows, as {key: value} dicts (to look up names once)."""
    if plan is None:
        return []
    changes = plan.changes
    return [{c.key: c.then for c in changes}, {c.key: c.set_to for c in changes},
            {c.key: c.now for c in changes}]  # fmt: skip


@bp.route("/videos/<video_id>/restore-to", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def restore_to(video_id: str):
    """Put a video back as it was at a time: preview every value that would change, apply."""
    at = _time(request.values.get("at"))
    if at is None:
        abort(400, "Choose the time to restore the video to.")
    video = db.session.scalar(select(Video.id).where(Video.video_id == video_id))
    if video is None and not states.history(video_id):
        abort(404)
    form = forms.RestoreToForm()
    message, status = None, 200
    if form.validate_on_submit():
        count, message = _attempt(
            lambda: revert.restore_to(
                video_id,
                at,
                expected_version=form.version.data,
                actor=signed_in_user(),
            )
        )
        status = 409 if message else 200
        if message is None:
            when = timezones.text(at, seconds=True)
            flash(f"Video restored to {when}: {plural(count, 'value')} put back.", "success")
            return redirect(url_for("videos.detail", video_id=video_id))
    return _preview(
        "revert/restore_to.html", lambda: revert.plan_restore_to(video_id, at), message, status,
        video_id=video_id, at=at, form=form,
    )  # fmt: skip


@bp.route("/audit/<id:audit_id>/restore", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def restore_video(audit_id: int):
    """Bring back a deleted video, with every value its deletion recorded."""
    row = _row(audit_id)
    form = forms.RestoreVideoForm()
    message, status = None, 200
    if form.validate_on_submit():
        video, message = _attempt(
            lambda: revert.restore_deleted(row, actor=signed_in_user()), per_video=False
        )
        status = 409 if message else 200
        if message is None:
            flash(f"Video {video.video_id} restored.", "success")
            return redirect(url_for("videos.detail", video_id=video.video_id))
    return _preview(
        "revert/restore_video.html", lambda: revert.plan_restore_deleted(row), message, status,
        row=row, form=form,
    )  # fmt: skip


def _list_to_return_to() -> str:
    """Where an undone batch leads: the list state the user came from (`next`, a path on
    this site, checked as a sign-in's `next` is), else the video list."""
    target = request.values.get("next", "")
    return target if target and local_path(target) else url_for("videos.index")


@bp.route("/audit/batch/<uuid:batch_id>/undo", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def undo_batch(batch_id: uuid.UUID):
    """Undo a whole batch (a bulk edit, a report import): preview counts and conflicts, then
    undo every video in one transaction."""
    # The page names the batch by its first video row: a report import's batch also holds
    # channel rows, and a batch without a video is nothing this page can undo (404, as above).
    first = load_or_404(
        select(MetadataSync)
        .where(MetadataSync.batch_id == batch_id, MetadataSync.entity_type == "video")
        .order_by(MetadataSync.id)
    )
    form = forms.UndoBatchForm()
    back = _list_to_return_to()
    message, status = None, 200
    overwrite = form.overwrite
    if form.is_submitted() and not form.validate():
        abort(400)
    if form.is_submitted():
        done, message = _attempt(
            lambda: batch.undo_batch(
                batch_id, overwrite=overwrite, seen=form.seen.data, actor=signed_in_user()
            ),
            per_video=False,
        )
        status = 409 if message else 200
        if message is None:
            flash(
                f"Batch undone: {plural(done.videos, 'video')} changed "
                f"({done.fields:,} values put back, {done.deletes:,} deleted, "
                f"{done.recreates:,} brought back).",
                "success",
            )
            return redirect(back)
    try:
        plan = batch.plan_batch(batch_id)
    except revert.RevertError as exc:
        plan, message, status = None, str(exc), 409
    examples = plan.examples if plan else []
    return render_template(
        "revert/undo_batch.html", batch_id=batch_id, first=first, plan=plan, form=form,
        message=message, overwrite=overwrite, labels=LABELS, back=back,
        names=_names(*({e.key: v} for e in examples for v in (e.then, e.set_to, e.now))),
    ), status  # fmt: skip
