from flask import render_template, request

from catalog.changes import bp, queries
from catalog.models.audit import SOURCES
from catalog.permissions import Permission, require


@bp.get("/audit")
@require(Permission.AUDIT_READ)
def index():
    filters = queries.parse_filters(request.args)
    page = queries.audit_page(filters)
    return render_template(
        "changes/index.html", filters=filters, page=page, users=queries.user_choices(),
        sources=SOURCES, entities=queries.ENTITY_TYPES,
    )  # fmt: skip
