"""Putting a video file in: the upload form of a catalog video, and the fragment of its page
that follows the probe. Files are streamed to storage (werkzeug spools a large upload to a
temporary file while it arrives, and storage copies it from there in chunks)."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from catalog.library import bp, uploads
from catalog.models import Video
from catalog.permissions import Permission, require, signed_in_user
from catalog.reports.storage import StorageError
from catalog.web.actions import form_status, save_form
from catalog.web.loaders import load_or_404

UPLOAD_ENDPOINT = "library.upload"


class UploadForm(FlaskForm):
    video = FileField("Video file", validators=[FileRequired("Choose a video file.")])
    thumbnail = FileField(
        "Thumbnail (optional)",
        description="A .jpg, .png or .webp image. Without one, a frame at 10 % of the video "
        "is taken.",
    )
    captions = FileField("Captions (optional)", description="A WebVTT file (.vtt).")


def _limit() -> int:
    return int(current_app.config["LIBRARY_MAX_UPLOAD_BYTES"])


def _size(count: int) -> str:
    """ "2.1 GB", "50 MB", "49 kB": a size as people read it."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if count >= scale:
            return f"{count / scale:,.1f}".removesuffix(".0") + f" {unit}"
    return f"{count / 1e3:,.0f} kB"


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, values: dict | None) -> None:
    # URL value preprocessors run before every before_request hook, CSRF's included, and
    # CSRF's reads the form: the upload's own limit must be in place before anyone does.
    if endpoint == UPLOAD_ENDPOINT:
        request.max_content_length = _limit()


def _incoming(field) -> uploads.Incoming | None:
    data = field.data
    if not data or not getattr(data, "filename", None):
        return None
    return uploads.Incoming(data.stream, data.filename)


def _video(video_id: str) -> Video:
    return load_or_404(select(Video).where(Video.video_id == video_id))


@bp.route("/library/<video_id>/upload", methods=["GET", "POST"])
@require(Permission.CATALOG_EDIT)
def upload(video_id: str):
    video = _video(video_id)
    form = UploadForm()
    done = save_form(
        form,
        lambda: uploads.start_upload(
            video,
            _incoming(form.video),
            thumbnail=_incoming(form.thumbnail),
            caption_file=_incoming(form.captions),
            actor=signed_in_user(),
        ),
        default_field="video",
        refused=(StorageError,),
    )
    if done:
        flash("Uploaded. A worker checks the file now; this page shows how it goes.", "success")
        return redirect(url_for("videos.detail", video_id=video.video_id))
    status = form_status(form)
    latest = uploads.latest(video)
    return render_template(
        "library/upload.html", form=form, video=video, upload=latest,
        failure=latest and uploads.failed_check(latest), limit=_size(_limit()),
    ), status  # fmt: skip


@bp.get("/library/<video_id>/upload/status")
@require(Permission.CATALOG_READ)
def upload_status(video_id: str):
    video = _video(video_id)
    latest = uploads.latest(video)
    return render_template(
        "library/upload_status.html", video=video, upload=latest,
        failure=latest and uploads.failed_check(latest),
    )  # fmt: skip


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    error = RequestEntityTooLarge(
        f"The file is larger than the upload limit of {_size(_limit())} "
        "(LIBRARY_MAX_UPLOAD_BYTES). Nothing was stored: encode the video smaller, or ask an "
        "admin to raise the limit."
    )
    return render_template("errors/error.html", error=error), 413
