import uuid
from datetime import UTC, datetime

from flask import (
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from catalog.accounts.views import local_path
from catalog.changes import bp, queries, service
from catalog.models.audit import SOURCES
from catalog.permissions import Permission, can, require, signed_in_user
from catalog.saved_views import lists as saved_lists
from catalog.web import csv as csvexport
from catalog.web.actions import commit_or_explain


@bp.get("/audit")
@require(Permission.AUDIT_READ)
def index():
    if "user_email" in request.args:  # typed where there are too many people for a menu
        return _by_email(request.args.get("user_email", "").strip())
    # An auditor's saved view's state under the URL's own arguments (catalog/saved_views).
    opened = saved_lists.open_list("audit", request.args, signed_in_user())
    filters = saved_lists.check_audit(opened, queries.parse_filters(opened.args))
    page = queries.audit_page(filters)
    users = queries.user_choices()
    return render_template(
        "changes/index.html", filters=filters, page=page, users=users,
        user_email=queries.email_of(filters.user) if users is None else "",
        sources=SOURCES, entities=queries.ENTITY_TYPES, opened=opened,
    )  # fmt: skip


def _by_email(email: str):
    """The log filtered by the person who signs in as `email`, at its lasting URL (user=id)."""
    args = request.args.copy()
    args.pop("user_email")
    args.pop("user", None)
    if email:
        user_id = queries.user_id_by_email(email)
        if user_id is None:
            flash(f"No one signs in as {email}: the log is not filtered by person.", "warning")
        else:
            args["user"] = str(user_id)
    return redirect(url_for("changes.index", **args.to_dict(flat=False)))


@bp.get("/audit/batch/<uuid:batch_id>")
@require(Permission.CATALOG_READ)
def batch(batch_id: uuid.UUID):
    """A batch's first changes: in place on its line of /audit (htmx), or as a page of its
    own, where a bulk edit's "Undo" leads. Readers of the log may open any batch; editors
    the page of a live batch of video changes (what they may undo), and nothing else of the
    log."""
    reader = can(Permission.AUDIT_READ)
    if not reader and not can(Permission.CATALOG_EDIT):
        abort(403)
    scope = request.args.get("scope") if request.args.get("scope") in queries.SCOPES else "live"
    if not reader and scope != "live":
        abort(403)
    preview = queries.batch_preview(batch_id, queries.SCOPES[scope])
    if preview is None:
        abort(404)
    # Every batch is written by one action on one kind of entity, so its rows tell.
    if not reader and any(row.entity_type != "video" for row in preview.rows):
        abort(403)
    fragment = request.headers.get("HX-Request") == "true"
    template = "changes/_batch_changes.html" if fragment else "changes/batch.html"
    # Where its undo comes back to: the list a bulk edit's "Undo…" was pressed on.
    back = request.args.get("next", "")
    page = render_template(
        template, batch_id=batch_id, preview=preview, scope=scope,
        back=back if local_path(back) else None,
    )  # fmt: skip
    response = make_response(page)
    response.vary.add("HX-Request")  # one URL, two bodies: caches must tell them apart
    return response


@bp.get("/audit/export.csv")
@require(Permission.AUDIT_READ)
def export():
    """The log as the page filters it (every change, batches too), as CSV, streamed. The
    export is recorded and committed before anything is sent."""
    filters = queries.parse_filters(request.args)
    if not commit_or_explain(lambda: service.record_export(filters, actor=signed_in_user())):
        abort(409)  # an export that cannot be recorded is not sent
    lines = queries.export_lines(filters)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    name = f"audit-{'archive-' if filters.scope == 'archive' else ''}{stamp}.csv"
    return Response(
        stream_with_context(csvexport.stream(queries.EXPORT_HEADER, lines)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
