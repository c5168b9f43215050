"""Helpers of the undo tests: videos made through the service (so they have a history), the
audit rows and state of a video. (Rows dated in the past: tests/factories/audit.py.)"""

from datetime import timedelta

import pytest

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


def now_state(video_key: str) -> dict | None:
    db.session.expire_all()
    return states.current(video_key)
