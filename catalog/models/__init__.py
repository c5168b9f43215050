"""The models, one module per aggregate; importing this package registers them all."""

from catalog.models.audit import MetadataSync
from catalog.models.channel import Channel
from catalog.models.login_attempt import LoginAttempt
from catalog.models.user import Role, User, roles_users
from catalog.models.video import Video, VideoCategory, VideoMetadata

__all__ = [
    "Channel",
    "LoginAttempt",
    "MetadataSync",
    "Role",
    "User",
    "Video",
    "VideoCategory",
    "VideoMetadata",
    "roles_users",
]
