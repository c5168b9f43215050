"""Helpers of the custom field tests: an admin, the values of a field, audit rows.
(Values on videos: tests/factories/fields.py.)"""

import pytest
from sqlalchemy import select

from catalog.models import MetadataSync, VideoFieldValue
from tests.factories import UserFactory


@pytest.fixture
def admin(app_ctx):
    """An admin for calling the services directly."""
    return UserFactory(roles=["admin"])


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
