"""The library's files: a video's file, thumbnail and captions, for those who may watch it.

Local storage: send_file with conditional=True answers Range requests (206 with
Content-Range, 416 for a range past the end, Accept-Ranges: bytes) and the conditional
headers (ETag/If-None-Match, Last-Modified/If-Modified-Since, If-Range), so the player can
seek. S3: the video is a redirect to a presigned URL, so the browser streams and seeks from
the bucket (S3 answers Range itself) and no web process is tied up; thumbnails and captions,
small files the page needs from its own origin (the CSP, and <track> without CORS), are
passed through.

The content type comes from the key's extension, the convention of uploads (catalog/library).
"""

from pathlib import PurePosixPath
from urllib.parse import urlsplit

from flask import Response, abort, redirect, request, send_file
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from catalog.reports.storage import LocalStorage, S3Storage, Storage, StorageError, get_storage

MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".vtt": "text/vtt",
}
# What each kind of file may be: a thumbnail key ending in .mp4 is not served as a picture.
KINDS = {
    "video": ("video/mp4", "video/webm"),
    "thumbnail": ("image/jpeg", "image/png", "image/webp"),
    "captions": ("text/vtt",),
}
# Keys are new for each upload (a new file, a new key), so a browser may keep what it got;
# private: only signed-in people with the right may read it.
MAX_AGE = 24 * 3600
PRESIGNED_SECONDS = 6 * 3600  # long enough for a long film watched with pauses


def is_key(value: str | None) -> bool:
    """A stored file's key, not an outside URL (YouTube's thumbnails, for instance)."""
    return bool(value) and not value.startswith(("http://", "https://"))


def media_type(key: str) -> str | None:
    return MEDIA_TYPES.get(PurePosixPath(key).suffix.lower())


def key_of(video, kind: str) -> str | None:
    extra = video.extra
    key = {
        "video": video.video_url,
        "thumbnail": extra.thumbnail_url if extra else None,
        "captions": extra.caption_url if extra else None,
    }[kind]
    return key if is_key(key) else None


def serve(video, kind: str) -> Response:
    """The file of `kind` of a watchable video, or 404 when it has none of that kind."""
    key = key_of(video, kind)
    mimetype = media_type(key) if key else None
    if mimetype not in KINDS[kind]:
        abort(404)
    storage = get_storage()
    try:
        if isinstance(storage, LocalStorage):
            response = send_file(
                storage.local_path(key), mimetype=mimetype, conditional=True, etag=True,
                max_age=MAX_AGE,
            )  # fmt: skip
        elif kind == "video" and isinstance(storage, S3Storage):
            response = redirect(
                storage.presigned_url(key, expires=PRESIGNED_SECONDS, content_type=mimetype)
            )
        else:
            response = _pass_through(storage, key, mimetype)
    except StorageError:
        abort(404)
    except RequestedRangeNotSatisfiable as exc:
        # Answered here, not by the error pages, which would drop its Content-Range
        # ("bytes */<size>": what a player needs to ask again).
        return Response(status=416, headers=exc.get_headers())
    response.cache_control.private = True
    response.cache_control.public = False
    return response


def _pass_through(storage: Storage, key: str, mimetype: str) -> Response:
    body = storage.open(key)
    try:
        data = body.read()
    finally:
        body.close()
    response = Response(data, mimetype=mimetype)
    response.cache_control.max_age = MAX_AGE
    response.add_etag()
    return response.make_conditional(request)


def media_origin(video) -> str | None:
    """The origin the player's video comes from when it is not this site (an S3 bucket's),
    for the watch page's Content Security Policy; None for local storage."""
    storage = get_storage()
    key = key_of(video, "video")
    if not key or not isinstance(storage, S3Storage):
        return None
    try:
        url = storage.presigned_url(key, expires=60)
    except StorageError:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
