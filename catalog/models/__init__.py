"""The models, one module per aggregate; importing this package registers them all."""

from catalog.models.audit import AuditChainHead, MetadataSync, MetadataSyncArchive
from catalog.models.channel import Channel, ChannelStats
from catalog.models.fields import (
    CustomField,
    FieldSchema,
    SchemaField,
    VideoFieldValue,
    schema_channels,
)
from catalog.models.library import VideoProgress, VideoReaction
from catalog.models.login_attempt import LoginAttempt
from catalog.models.menus import MenuVersion
from catalog.models.queue import ProcessingQueue
from catalog.models.report import Report
from catalog.models.saved_view import SavedView
from catalog.models.task import PipelineWorker, Task
from catalog.models.upload import VideoUpload
from catalog.models.user import Role, User, roles_users
from catalog.models.video import Video, VideoCategory, VideoMetadata
from catalog.models.worker_use import PipelineWorkerUse

__all__ = [
    "AuditChainHead",
    "Channel",
    "ChannelStats",
    "CustomField",
    "FieldSchema",
    "LoginAttempt",
    "MenuVersion",
    "MetadataSync",
    "MetadataSyncArchive",
    "PipelineWorker",
    "PipelineWorkerUse",
    "ProcessingQueue",
    "Report",
    "Role",
    "SavedView",
    "SchemaField",
    "Task",
    "User",
    "Video",
    "VideoCategory",
    "VideoFieldValue",
    "VideoMetadata",
    "VideoProgress",
    "VideoReaction",
    "VideoUpload",
    "roles_users",
    "schema_channels",
]
