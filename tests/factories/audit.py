"""Audit rows written through the app's own helpers (catalog/audit.py), for tests that need a
history: dated in the past, single or as one batch.

Every test runs in one transaction, whose audit rows all carry its start time: a test of "as
it was at a time" writes the earlier history itself, with rows dated in the past (the table
takes inserts; it refuses changes)."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask

from catalog import audit
from catalog.extensions import db
from catalog.models import MetadataSync, User, Video


def past_row(video, action: str, changes: dict, ago: timedelta) -> MetadataSync:
    """An audit row of `video` dated `ago` before now (a Video, or anything with its id,
    video_id, title and channel_display_name), in the app context the test holds."""
    row = audit.video_row(video, action=action, changes=changes, source="web", actor=None)
    entry = audit.record({**row, "sync_time": datetime.now(UTC) - ago})
    db.session.flush()
    return entry


# HTTP tests must not hold an app context while they request pages (tests/conftest.py), so
# the writes below run in a short app context of their own and commit (a savepoint of the
# test's transaction, rolled back with it).


def in_app(app: Flask, work: Callable):
    """Run `work` in an app context of its own and commit, as a request would."""
    with app.app_context():
        result = work()
        db.session.commit()
        return result


def video_change(
    video: Video, changes: dict, *, actor: User | None = None, at: datetime | None = None,
    source: str = "web", action: str = "update", batch_id: uuid.UUID | None = None,
) -> dict:  # fmt: skip
    """The audit row of one change of `video`, at `at` when given (else the commit's time)."""
    row = audit.video_row(
        video, action=action, changes=changes, source=source, actor=actor, batch_id=batch_id
    )
    return {**row, "sync_time": at} if at else row


def record(app: Flask, *rows: dict) -> list[int]:
    """Write single audit rows (audit.record); returns their ids."""

    def work():
        entries = [audit.record(row) for row in rows]
        db.session.flush()
        return [entry.id for entry in entries]

    return in_app(app, work)


def record_batch(app: Flask, rows: list[dict]) -> uuid.UUID:
    """Write the rows of one batch (audit.record_many: the first carries the size)."""
    batch_id = uuid.uuid4()
    in_app(app, lambda: audit.record_many([{**row, "batch_id": batch_id} for row in rows]))
    return batch_id
