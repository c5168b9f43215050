"""The read side of the Changes page: the audit log, filtered, newest first, keyset-paged.

Every query takes the audit table to read as a model, MetadataSync (the live log) or
MetadataSyncArchive (old months moved aside): the two have the same columns, so the same
filters, grouping, paging and export run against either."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, select, tuple_
from sqlalchemy.sql.elements import Grouping

from catalog.changes.diffs import as_json
from catalog.extensions import db
from catalog.models import MetadataSync, MetadataSyncArchive, User
from catalog.models.audit import EVENT, SOURCES
from catalog.web import menus, timezones
from catalog.web.pagination import decode_cursor, encode_cursor

PAGE_SIZE = 50
# The changes of a batch shown in place when its line is expanded.
BATCH_PREVIEW = 50
# Rows per statement when the log is exported: memory stays flat whatever the export's size.
EXPORT_CHUNK = 2000
# The kinds of thing the audit log records changes of, for the filter menu.
ENTITY_TYPES = (
    "video", "channel", "category", "custom_field", "field_schema", "user", "role",
    "queue_entry", "audit_log", "view",
)  # fmt: skip
AuditModel = type[MetadataSync] | type[MetadataSyncArchive]
# Which table a page reads: the live log, or the months moved to the archive.
SCOPES: dict[str, AuditModel] = {"live": MetadataSync, "archive": MetadataSyncArchive}
# The partial indexes' own predicate, in parentheses: as a bare text clause, ANDed with the
# filters, its OR would bind looser than the ANDs around it.
EVENT_ROWS = Grouping(EVENT)


@dataclass(frozen=True)
class AuditFilters:
    user: int | None = None
    source: str = ""
    field: str = ""
    video: str = ""
    entity: str = ""
    start: date | None = None
    end: date | None = None
    batch: uuid.UUID | None = None
    scope: str = "live"
    after: str = ""
    before: str = ""
    # The zone whose days `start` and `end` are: the reader's, fixed when the filters are read
    # (an export streams after the request's user has gone).
    zone: str = "UTC"

    @property
    def model(self) -> AuditModel:
        return SCOPES[self.scope]

    @property
    def grouped(self) -> bool:
        """A batch shows as one line unless the filters pick out single changes."""
        return not (self.video or self.entity or self.field or self.batch)

    def filter_args(self) -> dict[str, Any]:
        """The filters (not the scope, not the page), as URL arguments."""
        values = {
            "user": self.user, "source": self.source, "field": self.field, "video": self.video,
            "entity": self.entity, "from": self.start, "to": self.end, "batch": self.batch,
        }  # fmt: skip
        return {key: value for key, value in values.items() if value not in (None, "")}

    def args(self) -> dict[str, Any]:
        """The filters and the scope, as URL arguments (the live log is the default)."""
        scope = {"scope": self.scope} if self.scope != "live" else {}
        return {**self.filter_args(), **scope}

    def recorded(self) -> dict[str, Any]:
        """The filters as an audit row keeps them: JSON values only."""
        return {
            key: value if isinstance(value, int | str) else str(value)
            for key, value in self.filter_args().items()
        }

    def page(self, **cursor: str) -> dict[str, Any]:
        return {**replace(self, after="", before="").args(), **cursor}


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
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
        batch=_uuid((args.get("batch") or "").strip()),
        scope=args.get("scope") if args.get("scope") in SCOPES else "live",
        after=args.get("after", ""),
        before=args.get("before", ""),
        zone=timezones.current_name(),
    )


def conditions(filters: AuditFilters, model: AuditModel | None = None) -> list[ColumnElement]:
    """The WHERE clauses of the filters, on `model` (default: the filters' scope)."""
    model = model or filters.model
    found: list[ColumnElement] = []
    if filters.user:
        found.append(model.user_id == filters.user)
    if filters.source:
        found.append(model.source == filters.source)
    if filters.field:
        found.append(model.changes.has_key(filters.field))
    if filters.video:
        found += [model.entity_type == "video", model.entity_key == filters.video]
    if filters.entity:
        found.append(model.entity_type == filters.entity)
    if filters.batch:
        found.append(model.batch_id == filters.batch)
    start, end = _days(filters)
    if start:
        found.append(model.sync_time >= start)
    if end:
        found.append(model.sync_time < end)
    return found


def _days(filters: AuditFilters) -> tuple[datetime | None, datetime | None]:
    """The date filter as instants [start, end): whole days of the reader's time zone, the
    end day included."""
    zone = timezones.zone(filters.zone)
    start = datetime.combine(filters.start, time(), zone) if filters.start else None
    end = datetime.combine(filters.end + timedelta(days=1), time(), zone) if filters.end else None
    return start, end


def batch_time(batch_id: uuid.UUID, model: AuditModel) -> datetime | None:
    """When a batch was written (None: no such batch): one row, read by the batch index.

    Every row of one action carries its transaction's instant (MetadataSync.sync_time), so
    a batch's rows all share this time. The id is bounded and ordered by rather than
    compared for equality: for a batch that is a large share of the table (a big report
    import) the planner would otherwise expect a sequential scan to meet one of its rows
    at once, while they all lie together, possibly far into the table."""
    statement = (
        select(model.sync_time)
        .where(model.batch_id >= batch_id, model.batch_id <= batch_id)
        .order_by(model.batch_id)
        .limit(1)
    )
    return db.session.scalar(statement)


def _batch_pin(at: datetime | None, model: AuditModel) -> ColumnElement:
    """A batch's rows are at the batch's instant `at`: with that, the (sync_time, id) index
    reads just the batch, in order, however old it is and however many rows it has (by
    batch id alone the planner may walk the time index from the newest row until it meets
    the batch). A range of one instant, not an equality: with `sync_time = t` the planner
    takes the time as settled and may walk the primary key in id order instead, through
    every row before the batch. No instant (no such batch): no rows."""
    return and_(model.sync_time >= at, model.sync_time <= at) if at else false()


def _where(filters: AuditFilters, model: AuditModel) -> tuple[list[ColumnElement], datetime | None]:
    """conditions(), a batch filter pinned to its batch's instant (one look-up), and that
    instant."""
    found = conditions(filters, model)
    if not filters.batch:
        return found, None
    at = batch_time(filters.batch, model)
    return [*found, _batch_pin(at, model)], at


def _cursor_bounds(
    filters: AuditFilters, when: datetime, backwards: bool, at: datetime | None
) -> bool:
    """Whether a cursor at `when` bounds the rows more tightly than the time filters (the
    dates, a batch's instant) do; when it does not, it is left out of the statement.
    PostgreSQL cannot tell which of a row comparison and a plain bound on its first column
    is the tighter: it may start the index scan at the cursor and walk every entry up to
    the filter's bound (seconds at ten million rows, for a cursor beyond a batch's time)."""
    start, end = _days(filters)
    if backwards:  # the rows after the cursor, from the filters' lower bounds on
        return not ((start and when < start) or (at and when < at))
    return not ((end and when >= end) or (at and when > at))


def _newest_first(statement: Select, model: AuditModel) -> Select:
    return statement.order_by(model.sync_time.desc(), model.id.desc())


@dataclass
class AuditPage:
    rows: list[MetadataSync | MetadataSyncArchive]
    newer: str | None
    older: str | None
    grouped: bool = False


@dataclass(frozen=True)
class PageQuery:
    statement: Select
    cursor: tuple | None
    backwards: bool


def page_query(filters: AuditFilters, size: int | None = None) -> PageQuery:
    """The one statement of a Changes page (see audit_page): size + 1 rows, to know whether
    there are more."""
    model = filters.model
    token = filters.before or filters.after
    cursor = decode_cursor(token) if token else None
    if cursor and not isinstance(cursor[0], datetime):
        cursor = None
    if cursor and cursor[0].tzinfo is None:  # not one of ours, but read as UTC like ours
        cursor = (cursor[0].replace(tzinfo=UTC), cursor[1])
    backwards = bool(filters.before) and cursor is not None
    position = tuple_(model.sync_time, model.id)
    where, at = _where(filters, model)
    statement = select(model).where(*where)
    if filters.grouped:
        statement = statement.where(EVENT_ROWS)
    if cursor and _cursor_bounds(filters, cursor[0], backwards, at):
        bound = tuple_(*cursor)
        statement = statement.where(position > bound if backwards else position < bound)
    if backwards:
        statement = statement.order_by(model.sync_time, model.id)
    else:
        statement = _newest_first(statement, model)
    return PageQuery(statement.limit((size or PAGE_SIZE) + 1), cursor, backwards)


def audit_page(filters: AuditFilters, size: int | None = None) -> AuditPage:
    """Newest first by (sync_time, id); `after` walks to older rows, `before` to newer.

    Grouped (see AuditFilters.grouped), only the rows that stand for an event are read: a
    change outside any batch, or the first row of a batch, which carries the batch's size.
    The predicate is the very one of the partial indexes (EVENT), so the planner walks them;
    the cursor is the (sync_time, id) of the shown rows either way."""
    size = size or PAGE_SIZE
    query = page_query(filters, size)
    cursor, backwards = query.cursor, query.backwards
    rows = list(db.session.scalars(query.statement))
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    has_newer = more if backwards else cursor is not None
    has_older = cursor is not None if backwards else more
    newer = encode_cursor(rows[0].sync_time, rows[0].id) if rows and has_newer else None
    older = encode_cursor(rows[-1].sync_time, rows[-1].id) if rows and has_older else None
    return AuditPage(rows, newer, older, filters.grouped)


@dataclass
class BatchPreview:
    rows: list[MetadataSync | MetadataSyncArchive]
    size: int  # how many rows the batch wrote, as its first row says


def batch_preview(
    batch_id: uuid.UUID, model: AuditModel = MetadataSync, limit: int | None = None
) -> BatchPreview | None:
    """The first `limit` changes of a batch, in the order they were written; None if no
    such batch. The size comes from the batch's first row: no rows are counted."""
    rows = list(
        db.session.scalars(
            select(model)
            .where(model.batch_id == batch_id, _batch_pin(batch_time(batch_id, model), model))
            .order_by(model.sync_time, model.id)
            .limit(limit or BATCH_PREVIEW)
        )
    )
    if not rows:
        return None
    size = next((row.batch_size for row in rows if row.batch_size is not None), None)
    return BatchPreview(rows, size if size is not None else len(rows))


EXPORT_HEADER = [
    "id", "time (UTC)", "user email", "source", "action", "entity type", "entity key",
    "video title", "batch id", "report id", "reverts id", "field", "old value", "new value",
]  # fmt: skip


def export_rows(filters: AuditFilters, chunk: int | None = None) -> Iterator[Any]:
    """Every row the filters match (each change of a batch, not one per batch), newest
    first, read `chunk` rows per statement by keyset: a constant amount of memory."""
    model = filters.model
    columns = (
        model.id, model.sync_time, model.user_email, model.source, model.action,
        model.entity_type, model.entity_key, model.video_title, model.batch_id,
        model.report_id, model.reverts_id, model.changes,
    )  # fmt: skip
    base = _newest_first(select(*columns).where(*_where(filters, model)[0]), model)
    position = tuple_(model.sync_time, model.id)
    chunk = chunk or EXPORT_CHUNK
    last = None
    while True:
        statement = base if last is None else base.where(position < tuple_(*last))
        rows = db.session.execute(statement.limit(chunk)).all()
        yield from rows
        if len(rows) < chunk:
            return
        last = (rows[-1].sync_time, rows[-1].id)


def export_lines(filters: AuditFilters) -> Iterator[list[Any]]:
    """The CSV lines of the export (EXPORT_HEADER): one per changed field of each row, a row
    without changes still one; mappings (an export's filters) as JSON."""
    for row in export_rows(filters):
        start = [
            row.id, row.sync_time.astimezone(UTC).isoformat(), row.user_email, row.source,
            row.action, row.entity_type, row.entity_key, row.video_title, row.batch_id,
            row.report_id, row.reverts_id,
        ]  # fmt: skip
        changes = row.changes or {}
        if not changes:
            yield [*start, None, None, None]
        for name in sorted(changes):
            pair = changes[name]
            old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            yield [*start, name, _cell_value(old), _cell_value(new)]


def _cell_value(value: Any) -> Any:
    return as_json(value) if isinstance(value, dict) else value


# More people than this, and the log's person filter is an email typed in, not a menu (a
# menu of ten thousand people is most of a megabyte on every page).
USER_MENU_LIMIT = 200


def user_choices() -> list[tuple[int, str]] | None:
    """The people the log can be filtered by, or None when there are more than
    USER_MENU_LIMIT: this process's copy while current (see catalog/web/menus.py)."""
    return menus.cached("users", _users)


def _users() -> list[tuple[int, str]] | None:
    rows = db.session.execute(
        select(User.id, User.email).order_by(User.email).limit(USER_MENU_LIMIT + 1)
    ).all()
    return None if len(rows) > USER_MENU_LIMIT else [tuple(row) for row in rows]


def user_id_by_email(email: str) -> int | None:
    return db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))


def email_of(user_id: int | None) -> str:
    return (user_id and db.session.scalar(select(User.email).where(User.id == user_id))) or ""
