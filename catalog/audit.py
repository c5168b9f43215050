"""Writing audit rows. It only adds rows to the current transaction: a change and its audit
row are committed or rolled back together, by whoever owns the transaction.

The first audit row of a transaction waits for, then holds, the audit hash chain until the
transaction ends (migration 0010): write audit rows after the rows they describe are
written (and so locked), as the services do, to keep that hold short and free of deadlocks.
Task rows are the exception (migration 0023): a transaction that starts with them takes the
chain only inside its COMMIT, where they get their places (`chain_seq` and the hashes are
None until then), so the pipeline's claims do not queue for the chain across round trips."""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, insert, select

from catalog.extensions import db
from catalog.models import MetadataSync, User, Video
from catalog.models.audit import MetadataSyncArchive

AuditRow = MetadataSync | MetadataSyncArchive
# Snapshots for reading, cut to their columns: an entity's key, a channel's name.
KEY_MAX = MetadataSync.__table__.c.entity_key.type.length
DISPLAY_NAME_MAX = MetadataSync.__table__.c.channel_display_name.type.length


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
    channel_name: str | None = None,
) -> dict:
    """The column values of an audit row for anything other than a video (a user, a role…).
    `channel_name`: a channel's name at the time, so that its history reads well after a
    rename or a delete."""
    row = {
        "entity_type": entity_type,
        "entity_id": entity_id,
        # The key is a snapshot for reading (an email can be longer than the column).
        "entity_key": entity_key[:KEY_MAX] if entity_key else None,
        "action": action,
        "source": source,
        "changes": {field: jsonable(pair) for field, pair in changes.items()},
        "user_id": actor.id if actor else None,
        "user_email": actor.email if actor else None,
    }
    if channel_name:
        row["channel_display_name"] = channel_name[:DISPLAY_NAME_MAX]
    return row


def record(row: dict) -> MetadataSync:
    """Add one audit row to the session."""
    entry = MetadataSync(**row)
    db.session.add(entry)
    return entry


@dataclass(frozen=True)
class Entity:
    """How a kind of entity other than a video is named in its audit rows: its
    entity_type, its key (a snapshot for reading: a slug, an email…) and, for a channel,
    its name at the time. Each service declares its kinds once and records through them."""

    entity_type: str
    key: Callable[[Any], str | None]
    channel_name: Callable[[Any], str | None] | None = None

    def record(
        self, entity: Any, action: str, changes: dict[str, list], *, actor: User | None,
        source: str,
    ) -> MetadataSync:  # fmt: skip
        """Add the audit row of `action` on `entity` (which has an `id`) to the session."""
        name = self.channel_name(entity) if self.channel_name else None
        return record(
            entity_row(
                self.entity_type, entity.id, self.key(entity),
                action=action, changes=changes, source=source, actor=actor, channel_name=name,
            )
        )  # fmt: skip

    def write(
        self, entity: Any, action: str, changes: dict[str, list], *, actor: User | None,
        source: str,
    ) -> None:  # fmt: skip
        """A service's last step: write the change to `entity`, then add its audit row and
        write that too (flushes, never a commit), in the order the module's docstring asks."""
        db.session.flush()
        self.record(entity, action, changes, actor=actor, source=source)
        db.session.flush()


def record_many(rows: list[dict]) -> None:
    """Insert many audit rows, inside the current transaction, in their order. The first row
    of a batch carries the batch's size: the collapsed log shows the batch by it."""
    if not rows:
        return
    if rows[0].get("batch_id"):
        rows = [{**row, "batch_size": None} for row in rows]
        rows[0]["batch_size"] = len(rows)
    db.session.execute(insert(MetadataSync), rows)


# -- reading ---------------------------------------------------------------------------------


def history(
    entity_type: str,
    entity_id: int | None = None,
    *,
    key: str | None = None,
    limit: int | None = None,
    archived: bool = False,
) -> list[AuditRow]:
    """The audit rows of one entity, by its id or by its key (a video's YouTube id names
    its rows across a deletion and a re-creation, which give it a new id).

    Newest first, at most `limit` of them: what an entity's page shows. With `archived`,
    every row, those moved to the archive (old months) too, in commit order: what replaying
    an entity's states needs.
    """
    if entity_id is None and key is None:
        raise ValueError("history() needs the entity's id or its key")

    def conditions(model: type) -> list:
        found = [model.entity_type == entity_type]
        if entity_id is not None:
            found.append(model.entity_id == entity_id)
        if key is not None:
            found.append(model.entity_key == key)
        return found

    if archived:
        return in_commit_order(conditions)[:limit]
    statement = (
        select(MetadataSync)
        .where(*conditions(MetadataSync))
        .order_by(MetadataSync.sync_time.desc(), MetadataSync.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(statement))


def in_commit_order(conditions: Callable[[type], Iterable]) -> list[AuditRow]:
    """Rows of the live table and of the archive meeting `conditions(model)`, in commit
    order: the hash chain runs on across both tables."""
    found: list[AuditRow] = []
    for model in (MetadataSyncArchive, MetadataSync):
        found += db.session.scalars(select(model).where(*conditions(model))).all()
    # This transaction's own task rows have no place yet: they will follow every other.
    return sorted(found, key=lambda row: (row.chain_seq is None, row.chain_seq or 0, row.id))
