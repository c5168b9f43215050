"""The read side of the Changes page: the audit log, filtered, newest first, keyset-paged."""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, tuple_

from catalog.extensions import db
from catalog.models import MetadataSync, User
from catalog.models.audit import SOURCES
from catalog.pagination import decode_cursor, encode_cursor

PAGE_SIZE = 50
# The kinds of thing the audit log records changes of, for the filter menu.
ENTITY_TYPES = (
    "video", "channel", "category", "custom_field", "field_schema", "user", "role",
    "queue_entry",
)  # fmt: skip


@dataclass(frozen=True)
class AuditFilters:
    user: int | None = None
    source: str = ""
    field: str = ""
    video: str = ""
    entity: str = ""
    start: date | None = None
    end: date | None = None
    after: str = ""
    before: str = ""

    def args(self) -> dict[str, Any]:
        values = {
            "user": self.user, "source": self.source, "field": self.field, "video": self.video,
            "entity": self.entity, "from": self.start, "to": self.end,
        }  # fmt: skip
        return {key: value for key, value in values.items() if value not in (None, "")}

    def page(self, **cursor: str) -> dict[str, Any]:
        return {**replace(self, after="", before="").args(), **cursor}


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_filters(args) -> AuditFilters:
    try:
        user = int(args["user"]) if args.get("user") else None
    except ValueError:
        user = None
    return AuditFilters(
        user=user,
        source=args.get("source") if args.get("source") in SOURCES else "",
        field=(args.get("field") or "").strip()[:100],
        video=(args.get("video") or "").strip()[:20],
        entity=(args.get("entity") or "").strip()[:30],
        start=_date(args.get("from")),
        end=_date(args.get("to")),
        after=args.get("after", ""),
        before=args.get("before", ""),
    )


def conditions(filters: AuditFilters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.user:
        found.append(MetadataSync.user_id == filters.user)
    if filters.source:
        found.append(MetadataSync.source == filters.source)
    if filters.field:
        found.append(MetadataSync.changes.has_key(filters.field))
    if filters.video:
        found += [MetadataSync.entity_type == "video", MetadataSync.entity_key == filters.video]
    if filters.entity:
        found.append(MetadataSync.entity_type == filters.entity)
    # Days are whole UTC days, the end day included.
    if filters.start:
        found.append(MetadataSync.sync_time >= datetime.combine(filters.start, time(), UTC))
    if filters.end:
        end = datetime.combine(filters.end + timedelta(days=1), time(), UTC)
        found.append(MetadataSync.sync_time < end)
    return found


@dataclass
class AuditPage:
    rows: list[MetadataSync]
    newer: str | None
    older: str | None


def audit_page(filters: AuditFilters, size: int = PAGE_SIZE) -> AuditPage:
    """Newest first by (sync_time, id); `after` walks to older rows, `before` to newer."""
    token = filters.before or filters.after
    cursor = decode_cursor(token) if token else None
    if cursor and not isinstance(cursor[0], datetime):
        cursor = None
    backwards = bool(filters.before) and cursor is not None
    position = tuple_(MetadataSync.sync_time, MetadataSync.id)
    statement = select(MetadataSync).where(*conditions(filters))
    if cursor:
        bound = tuple_(*cursor)
        statement = statement.where(position > bound if backwards else position < bound)
    if backwards:
        statement = statement.order_by(MetadataSync.sync_time, MetadataSync.id)
    else:
        statement = statement.order_by(MetadataSync.sync_time.desc(), MetadataSync.id.desc())
    rows = list(db.session.scalars(statement.limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    has_newer = more if backwards else cursor is not None
    has_older = cursor is not None if backwards else more
    newer = encode_cursor(rows[0].sync_time, rows[0].id) if rows and has_newer else None
    older = encode_cursor(rows[-1].sync_time, rows[-1].id) if rows and has_older else None
    return AuditPage(rows, newer, older)


def user_choices() -> list[tuple[int, str]]:
    return [
        (u.id, u.email)
        for u in db.session.execute(select(User.id, User.email).order_by(User.email))
    ]
