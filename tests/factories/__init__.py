"""Test data, one module per area. Everything is re-exported here so a test imports what it
needs from `tests.factories` without knowing which area's module holds it (and the tests
written before the split, or beside it on other branches, keep working unchanged)."""

from tests.factories.accounts import UserFactory, committed_user
from tests.factories.base import state, use_session
from tests.factories.categories import CategoryFactory
from tests.factories.channels import ChannelFactory
from tests.factories.fields import CustomFieldFactory, FieldSchemaFactory, add_value
from tests.factories.videos import VideoFactory, youtube_id

__all__ = [
    "CategoryFactory", "ChannelFactory", "CustomFieldFactory", "FieldSchemaFactory",
    "UserFactory", "VideoFactory", "add_value", "committed_user", "state", "use_session",
    "youtube_id",
]  # fmt: skip
