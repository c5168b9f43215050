"""Writes of the Changes page: an export of the audit log is itself an audited event."""

from catalog import audit
from catalog.changes.queries import AuditFilters
from catalog.models import MetadataSync, User


def record_export(
    filters: AuditFilters, *, actor: User | None, source: str = "web"
) -> MetadataSync:
    """Add the audit row saying who exported which part of the log (the filters and the
    scope); the caller commits it, before the first byte of the export goes out."""
    row = audit.entity_row(
        "audit_log", 0, None, action="export",
        changes={"filter": [None, filters.recorded()], "scope": [None, filters.scope]},
        source=source, actor=actor,
    )  # fmt: skip
    return audit.record(row)
