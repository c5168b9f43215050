"""Audit rows for the Changes page tests, written through the app's own audit helpers.

HTTP tests must not hold an app context while they request pages (tests/conftest.py), so
each write here runs in a short app context of its own and commits (a savepoint of the
test's transaction, rolled back with it)."""

import uuid
from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from catalog import audit
from catalog.extensions import db
from catalog.models import MetadataSync, User, Video
from catalog.videos import service
from tests.factories import VideoFactory


def in_app(app, work: Callable):
    """Run `work` in an app context of its own and commit, as a request would."""
    with app.app_context():
        result = work()
        db.session.commit()
        return result


def bulk_edit(app, videos: list[Video], actor: User, **values) -> uuid.UUID:
    """A bulk edit through the videos service; returns its batch id."""
    ids = [video.id for video in videos]

    def work():
        selection = select(Video.id).where(Video.id.in_(ids))
        service.bulk_update(selection, values, actor=actor)
        return db.session.scalars(
            select(MetadataSync.batch_id)
            .where(MetadataSync.entity_id == ids[0], MetadataSync.source == "bulk")
            .order_by(MetadataSync.id.desc())
        ).first()

    return in_app(app, work)


def video_change(
    video: Video, changes: dict, *, actor: User | None = None, at: datetime | None = None,
    source: str = "web", action: str = "update", batch_id: uuid.UUID | None = None,
) -> dict:  # fmt: skip
    """The audit row of one change of `video`, at `at` when given (else the commit's time)."""
    row = audit.video_row(
        video, action=action, changes=changes, source=source, actor=actor, batch_id=batch_id
    )
    return {**row, "sync_time": at} if at else row


def record(app, *rows: dict) -> list[int]:
    """Write single audit rows (audit.record); returns their ids."""

    def work():
        entries = [audit.record(row) for row in rows]
        db.session.flush()
        return [entry.id for entry in entries]

    return in_app(app, work)


def record_batch(app, rows: list[dict]) -> uuid.UUID:
    """Write the rows of one batch (audit.record_many: the first carries the size)."""
    batch_id = uuid.uuid4()
    in_app(app, lambda: audit.record_many([{**row, "batch_id": batch_id} for row in rows]))
    return batch_id


@pytest.fixture
def videos(db_session):
    """Five videos with recognisable keys."""
    made = [VideoFactory(video_id=f"vidAudit{n:03d}", title=f"Track {n}") for n in range(5)]
    db_session.flush()
    return made


@pytest.fixture
def people(db_session):
    from tests.factories import UserFactory

    return SimpleNamespace(
        editor=UserFactory(roles=["editor"]), other=UserFactory(roles=["editor"])
    )
