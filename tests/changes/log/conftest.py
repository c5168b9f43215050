"""Data for the Changes page tests: videos, people and bulk edits (the audit rows themselves
come from tests/factories/audit.py)."""

import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import MetadataSync, User, Video
from catalog.videos.bulk_edit import bulk_update
from tests.factories import VideoFactory
from tests.factories.audit import in_app


def bulk_edit(app, videos: list[Video], actor: User, **values) -> uuid.UUID:
    """A bulk edit through the videos service; returns its batch id."""
    ids = [video.id for video in videos]

    def work():
        selection = select(Video.id).where(Video.id.in_(ids))
        bulk_update(selection, values, actor=actor)
        return db.session.scalars(
            select(MetadataSync.batch_id)
            .where(MetadataSync.entity_id == ids[0], MetadataSync.source == "bulk")
            .order_by(MetadataSync.id.desc())
        ).first()

    return in_app(app, work)


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
