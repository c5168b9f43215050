"""The video list's edit in place: a cell's editor (GET, a fragment static/js/inplace.js puts
into the cell) and its save (POST), which is the edit form's save of that one value."""

from datetime import UTC, datetime

from flask import abort, render_template
from sqlalchemy import select

from catalog.models import Video
from catalog.permissions import Permission, require, signed_in_user
from catalog.videos import bp, cells, service
from catalog.web.actions import commit_or_explain
from catalog.web.loaders import load_or_404


def _video(video_id: str, *, lock: bool = False) -> Video:
    return load_or_404(select(Video).where(Video.video_id == video_id), lock=lock)


def _cell(video: Video, column: str) -> cells.Cell:
    try:
        return cells.cell_of(video, column)
    except cells.NotEditable:
        abort(404)


def _editor(cell, video, form, status: int = 200, **context):
    return render_template(
        "videos/cell.html", cell=cell, video=video, form=form, state="edit", **context
    ), status


@bp.get("/videos/<video_id>/cell/<column>")
@require(Permission.CATALOG_EDIT)
def cell(video_id: str, column: str):
    """The editor of one value of the list: its current value, the version it is saved
    against, the choices, the CSRF token."""
    video = _video(video_id)
    cell_ = _cell(video, column)
    return _editor(cell_, video, cells.editor_form(cell_, video, cell_.current(video)))


@bp.post("/videos/<video_id>/cell/<column>")
@require(Permission.CATALOG_EDIT)
def save_cell(video_id: str, column: str):
    """Save one value through the edit form's service call and version check. Answers the
    cell's new content (200), the editor with the error (400), or with what changed meanwhile
    (409: the current value, to take it or to overwrite it deliberately)."""
    video = _video(video_id, lock=True)
    cell_ = _cell(video, column)
    form = cells.editor_form(cell_, video, cell_.current(video))
    if not form.validate_on_submit():
        return _editor(cell_, video, form, 400)
    try:
        expected = int(form.version.data)
    except (TypeError, ValueError):
        abort(400)

    def save():
        values, custom = cells.save_arguments(cell_, form)
        changes = service.update_video(
            video, values, expected_version=expected, actor=signed_in_user(), custom=custom
        )
        # What the cell shows now, read before the commit expires the video.
        return changes, cells.shown(cell_, video, cell_.current(video))

    try:
        outcome = commit_or_explain(save, form=form, default_field="value")
    except service.VersionConflict:  # rolled back: show what is there now
        video = _video(video_id)
        current = cell_.current(video)
        mine = form.value.data
        form = cells.editor_form(cell_, video, current)
        # The editor keeps what they chose, to be saved over the version there is now.
        form.value.data, form.version.data = mine, str(video.version)
        return _editor(
            cell_, video, form, 409, conflict=service.changes_since(video, expected),
            current=cells.shown(cell_, video, current),
        )  # fmt: skip
    if not outcome:
        return _editor(cell_, video, form, 400)
    changes, shown = outcome.value
    # The row's "Last change" cell says so too (the list shows the newest audit row's).
    return render_template(
        "videos/cell.html", cell=cell_, video_id=video_id, state="saved", changed=bool(changes),
        current=shown, changed_at=datetime.now(UTC), changed_by=signed_in_user().email,
    )  # fmt: skip
