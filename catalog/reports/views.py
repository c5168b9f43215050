from flask import abort, current_app, flash, make_response, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from catalog.models import Report
from catalog.permissions import Permission, can, require, signed_in_user
from catalog.reports import bp, queries, service
from catalog.reports.forms import PickForm, UploadForm
from catalog.reports.storage import StorageError, get_storage
from catalog.web.actions import commit_or_explain
from catalog.web.forms import ConfirmForm
from catalog.web.loaders import load_or_404

LIST_LIMIT = 100
ERRORS_SHOWN = 200
# States the page follows by itself (htmx polls the progress fragment).
FOLLOWED = ("checking", "queued", "processing")


def _get_report(report_id: int, *, lock: bool = False) -> Report:
    return load_or_404(select(Report).where(Report.id == report_id), lock=lock)


def _pick_form() -> tuple[PickForm | None, str | None]:
    """The bucket picker when S3 is configured and the user may import: (form, problem)."""
    storage = get_storage()
    if not storage.picking or not can(Permission.CATALOG_EDIT):
        return None, None
    form = PickForm()
    try:
        available = storage.available()
    except StorageError as exc:
        return form, str(exc)
    form.key.choices = [
        (item.key, f"{item.key} ({item.size / 1e6:,.1f} MB, {item.modified:%Y-%m-%d %H:%M})")
        for item in available
    ]
    return form, None


def _index(upload: UploadForm, status: int = 200):
    pick, pick_problem = _pick_form()
    rows = queries.recent(LIST_LIMIT)
    latest = queries.latest_jobs([report.id for report, _ in rows])
    states = {report.id: service.state(report, latest.get(report.id)) for report, _ in rows}
    idle = {report.id: bool(service.nothing_to_import(report)) for report, _ in rows}
    return render_template(
        "reports/index.html", rows=rows, upload=upload, pick=pick, pick_problem=pick_problem,
        states=states, idle=idle, limit=LIST_LIMIT,
    ), status  # fmt: skip


@bp.get("/reports")
@require(Permission.CATALOG_READ)
def index():
    return _index(UploadForm())


def _checked(report: Report) -> Report:
    """A new report, checked now or queued for checking, in the transaction that adds it."""
    service.request_preview(report, actor=signed_in_user())
    return report


def _after_creating(report: Report):
    if report.status == "error":
        flash("The file cannot be imported; the reason is below.", "danger")
    return redirect(url_for("reports.detail", report_id=report.id))


@bp.post("/reports")
@require(Permission.CATALOG_EDIT)
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return _index(form, 400)
    upload = form.file.data
    outcome = commit_or_explain(
        lambda: _checked(
            service.create_report(upload.stream, upload.filename, actor=signed_in_user())
        ),
        refused=(StorageError,), show=False,
        attempts=1,  # the upload's stream is read once: a second run would store nothing
    )  # fmt: skip
    if not outcome:
        form.file.errors.append(f"The file could not be stored: {outcome.error}")
        return _index(form, 503)
    return _after_creating(outcome.value)


@bp.post("/reports/pick")
@require(Permission.CATALOG_EDIT)
def pick():
    form, problem = _pick_form()
    if form is None:
        abort(404)  # no bucket configured
    if problem or not form.validate_on_submit():
        flash(problem or "Choose a report from the bucket.", "danger")
        return redirect(url_for("reports.index"))
    outcome = commit_or_explain(
        lambda: _checked(service.create_from_storage(form.key.data, actor=signed_in_user())),
        refused=(StorageError,), show=False,
    )  # fmt: skip
    if not outcome:
        flash(str(outcome.error), "danger")
        return redirect(url_for("reports.index"))
    return _after_creating(outcome.value)


def _view_state(report: Report) -> dict:
    job = queries.latest_job(report)
    return {
        "report": report, "job": job, "state": service.state(report, job),
        "error": service.error_message(report, job), "followed": FOLLOWED,
        "nothing_to_import": service.nothing_to_import(report),
    }  # fmt: skip


@bp.get("/reports/<id:report_id>")
@require(Permission.CATALOG_READ)
def detail(report_id: int):
    report = _get_report(report_id)
    uploader = queries.uploader(report)
    duplicate = (report.preview or {}).get("duplicate_of")
    return render_template(
        "reports/detail.html", **_view_state(report), uploader=uploader, form=ConfirmForm(),
        errors=(report.row_errors or [])[:ERRORS_SHOWN], duplicate=duplicate,
        warnings=(report.preview or {}).get("warnings", [])[:ERRORS_SHOWN],
    )  # fmt: skip


@bp.get("/reports/<id:report_id>/progress")
@require(Permission.CATALOG_READ)
def progress(report_id: int):
    """The progress fragment the report page polls; once the report needs nothing more
    from the worker, the page reloads itself to show the outcome."""
    context = _view_state(_get_report(report_id))
    response = make_response(render_template("reports/progress.html", **context))
    if context["state"] not in FOLLOWED:
        response.headers["HX-Refresh"] = "true"
    return response


@bp.post("/reports/<id:report_id>/confirm")
@require(Permission.CATALOG_EDIT)
def confirm(report_id: int):
    report = _get_report(report_id, lock=True)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if commit_or_explain(lambda: service.confirm_report(report, actor=signed_in_user())):
        flash("The import is queued; this page follows it.", "success")
    return redirect(url_for("reports.detail", report_id=report_id))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    error = RequestEntityTooLarge(
        f"The file is larger than the upload limit of {limit / 1e6:,.0f} MB. Compress it "
        "(.csv.gz), or have it put in the S3 bucket, or import it on the command line "
        "(flask catalog import-report)."
    )
    return render_template("errors/error.html", error=error), 413
