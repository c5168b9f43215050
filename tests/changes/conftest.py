"""Helpers of the undo tests: videos made through the service (so they have a history), audit
rows of a video, and rows dated in the past.

Every test runs in one transaction, and a transaction's audit rows all carry its start time.
Tests of "as it was at a time" therefore write the earlier history themselves: rows dated
in the past, inserted as any audit row is (the table takes inserts; it refuses changes)."""

from datetime import UTC, datetime, timedelta

import pytest

from catalog import audit
from catalog.extensions import db
from catalog.models import MetadataSync, Video
from catalog.revert import states
from catalog.videos import service
from tests.factories import UserFactory

HOUR = timedelta(hours=1)


@pytest.fixture
def editor(app_ctx):
    return UserFactory(roles=["editor"])


def create(video_id: str, *, actor=None, custom=None, **values) -> Video:
    return service.create_video({"video_id": video_id, **values}, actor=actor, custom=custom)


def update(video: Video, *, actor=None, custom=None, **values) -> dict:
    return service.update_video(
        video, values, expected_version=video.version, actor=actor, custom=custom
    )


def rows_of(video_key: str) -> list[MetadataSync]:
    return states.history(video_key)


def past_row(video, action: str, changes: dict, ago: timedelta) -> MetadataSync:
    """An audit row of `video` dated `ago` before now (a Video, or anything with its id,
    video_id, title and channel_display_name)."""
    row = audit.video_row(video, action=action, changes=changes, source="web", actor=None)
    entry = audit.record({**row, "sync_time": datetime.now(UTC) - ago})
    db.session.flush()
    return entry


def now_state(video_key: str) -> dict | None:
    db.session.expire_all()
    return states.current(video_key)
