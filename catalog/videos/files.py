"""The library's file fields of a video: the uploaded file (its storage key), its probed
duration, who uploaded it, and the thumbnail and captions on its metadata. Part of the
videos service: the same audit row as any change of a video, in the same transaction.

Apart from service.py because nothing edits these fields in a form: only a probed upload
sets them (catalog.library.probe), and a person never types a storage key."""

from datetime import UTC, datetime
from typing import Any

from catalog import audit
from catalog.extensions import db
from catalog.models import User, Video, VideoMetadata

VIDEO_FIELDS = ("video_url", "duration_seconds", "uploaded_by")
METADATA_FIELDS = ("thumbnail_url", "caption_url")


def set_files(
    video: Video, values: dict[str, Any], *, actor: User | None, source: str = "upload"
) -> dict[str, list]:
    """Set the library's file fields in `values` that differ; return {field: [old, new]}.
    A change of nothing writes nothing. Read `video` under a row lock (a concurrent save of
    the form would otherwise be refused for its stale version)."""
    unknown = set(values) - {*VIDEO_FIELDS, *METADATA_FIELDS}
    if unknown:
        raise ValueError(f"Not a file field of a video: {', '.join(sorted(unknown))}")
    changes: dict[str, list] = {}
    for field in VIDEO_FIELDS:
        if field in values and getattr(video, field) != values[field]:
            changes[field] = [getattr(video, field), values[field]]
            setattr(video, field, values[field])
    extra = video.extra
    for field in METADATA_FIELDS:
        old = getattr(extra, field) if extra is not None else None
        if field in values and old != values[field]:
            if extra is None:
                extra = video.extra = VideoMetadata()
            changes[field] = [old, values[field]]
            setattr(extra, field, values[field])
    if not changes:
        return changes
    if not set(changes) & set(VIDEO_FIELDS):
        video.updated_at = datetime.now(UTC)  # a new version, as every change of a video has
    db.session.flush()
    audit.record(
        audit.video_row(video, action="update", changes=changes, source=source, actor=actor)
    )
    db.session.flush()
    return changes
