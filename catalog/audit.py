"""Writing audit rows. It only adds rows to the current transaction: a change and its audit
row are committed or rolled back together, by whoever owns the transaction."""

import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, String, text

from catalog.extensions import db
from catalog.models import MetadataSync, User, Video


def jsonable(value: Any) -> Any:
    """A value as it is kept in `changes`: JSON types only, dates as ISO 8601."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    return value


def video_row(
    video: Video | Row,
    *,
    action: str,
    changes: dict[str, list],
    source: str,
    actor: User | None,
    batch_id: uuid.UUID | None = None,
    reverts_id: int | None = None,
    restored_to: datetime | None = None,
) -> dict:
    """The column values of one video's audit row (from a Video or a returned Row). A revert
    names what it undid: the audit row (`reverts_id`) or the time it restored (`restored_to`)."""
    return {
        "entity_type": "video",
        "entity_id": video.id,
        "entity_key": video.video_id,
        "video_title": video.title,
        "channel_display_name": video.channel_display_name,
        "action": action,
        "source": source,
        "changes": {field: jsonable(pair) for field, pair in changes.items()},
        "user_id": actor.id if actor else None,
        "user_email": actor.email if actor else None,
        "batch_id": batch_id,
        "reverts_id": reverts_id,
        "restored_to": restored_to,
    }


def entity_row(
    entity_type: str,
    entity_id: int,
    entity_key: str | None,
    *,
    action: str,
    changes: dict[str, list],
    source: str,
    actor: User | None,
) -> dict:
    """The column values of an audit row for anything other than a video (a user, a role…)."""
    return {
        "entity_type": entity_type,
        "entity_id": entity_id,
        # The key is a snapshot for reading (an email can be longer than the column).
        "entity_key": entity_key[:100] if entity_key else None,
        "action": action,
        "source": source,
        "changes": {field: jsonable(pair) for field, pair in changes.items()},
        "user_id": actor.id if actor else None,
        "user_email": actor.email if actor else None,
    }


def record(row: dict) -> MetadataSync:
    """Add one audit row to the session."""
    entry = MetadataSync(**row)
    db.session.add(entry)
    return entry


# Rows per INSERT statement of record_many.
ROWS_PER_STATEMENT = 10_000


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    return jsonable(value)


def record_many(rows: list[dict]) -> None:
    """Insert many audit rows (each with the same keys), inside the current transaction, in
    their order. The first row of a batch carries the batch's size: the collapsed log shows
    the batch by it."""
    if not rows:
        return
    if rows[0].get("batch_id"):
        rows = [{**row, "batch_size": None} for row in rows]
        rows[0]["batch_size"] = len(rows)
    # The rows travel as one JSON document per statement, not as an executemany (which
    # sends one INSERT per row): every statement moves the audit chain's head (migration
    # 0010), an UPDATE of one row, and each UPDATE of a row the transaction has updated
    # already walks all its earlier versions, so a statement per row made 100,000 rows take
    # minutes. Building a multi-row VALUES statement costs more than the insert itself.
    names = list(rows[0])
    dialect = db.session.get_bind().dialect

    def sql_type(name: str) -> str:
        # Strings as text: the INSERT's own assignment to a varchar(n) then refuses a value
        # that is too long, as an INSERT of the row itself would.
        column_type = MetadataSync.__table__.c[name].type
        return "text" if isinstance(column_type, String) else column_type.compile(dialect=dialect)

    typed = ", ".join(f"{name} {sql_type(name)}" for name in names)
    columns = ", ".join(names)
    statement = text(f"""
INSERT INTO metadata_syncs ({columns})
SELECT {columns}
FROM ROWS FROM (jsonb_to_recordset(CAST(:rows AS jsonb)) AS ({typed})) WITH ORDINALITY AS x
ORDER BY x.ordinality
""")
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        payload = [{name: _plain(row[name]) for name in names} for row in chunk]
        db.session.execute(statement, {"rows": json.dumps(payload)})
