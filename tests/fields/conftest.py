"""Helpers of the custom field tests: admins, values on videos, audit rows, form posts."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from catalog.models import MetadataSync, VideoFieldValue
from tests.conftest import csrf_token
from tests.factories import UserFactory, state


@pytest.fixture
def admin_user(app_ctx):
    """An admin for calling the services directly."""
    return UserFactory(roles=["admin"])


@pytest.fixture
def admin(sign_in):
    """An admin signed in on `client`."""
    return sign_in("admin")


def add_value(video, field, value) -> VideoFieldValue:
    """A value of `field` on `video`, in the typed column its type uses."""
    column = field.value_column
    if column == "value_numeric":
        value = Decimal(value)
    row = VideoFieldValue(video_id=video.id, field_id=field.id, **{column: value})
    state.session.add(row)
    state.session.flush()
    return row


def values_of(session, field_id: int) -> list:
    session.expire_all()
    rows = session.scalars(
        select(VideoFieldValue)
        .where(VideoFieldValue.field_id == field_id)
        .order_by(VideoFieldValue.video_id)
    )
    return [row.value for row in rows]


def audit_rows(session, entity_type: str, entity_id: int | None = None) -> list[MetadataSync]:
    statement = select(MetadataSync).where(MetadataSync.entity_type == entity_type)
    if entity_id is not None:
        statement = statement.where(MetadataSync.entity_id == entity_id)
    return list(session.scalars(statement.order_by(MetadataSync.id)))


def post(client, url: str, data: dict | None = None):
    """POST a form as a browser would, with the CSRF token of the page at `url`."""
    token = csrf_token(client, url)
    return client.post(url, data={"csrf_token": token, **(data or {})})
