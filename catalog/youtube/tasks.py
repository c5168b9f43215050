"""The YouTube jobs: fetch what the sources say about a batch of videos and apply differences.

Each job's payload is `{"video_ids": [primary keys]}` (at most 50: one call per source). The
changes go through catalog.videos.service.update_video with source "worker" and no actor, so
each video that changed gets one audit row and an unchanged one writes nothing. The job's
transaction belongs to the job engine, which commits it.

- metadata_sync: the YouTube Data API v3 `videos.list` (real).
- ownership_update, asset_enrichment: the rights source, a contract of ours (rights.py).
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from catalog.extensions import db
from catalog.jobs import PermanentError, task
from catalog.models import Channel, ProcessingQueue, Video
from catalog.models.video import PRIVACY_STATUSES
from catalog.videos.service import update_video
from catalog.youtube import rights
from catalog.youtube.client import Client, parse_duration, rights_client, youtube_client

# How many video ids a job's result lists by name (changed, missing); counts are always given.
RESULT_SAMPLE = 50


def video_values(item: dict, channels: dict[str, int]) -> tuple[dict[str, Any], list[str]]:
    """The catalog fields a `videos.list` resource gives, and warnings about what it could not
    use. `channels` maps YouTube channel ids (UC…) to catalog channel keys.

    Fields YouTube's resource does not carry (claims, monetization, is_short, categories of
    our own) are never touched; a part missing from the answer leaves its fields alone.
    """
    values: dict[str, Any] = {}
    warnings: list[str] = []
    snippet = item.get("snippet") or {}
    details = item.get("contentDetails") or {}
    statistics = item.get("statistics") or {}
    status = item.get("status") or {}
    if "title" in snippet:
        values["title"] = str(snippet["title"])[:200]
    if snippet.get("publishedAt"):
        try:
            values["time_published"] = datetime.fromisoformat(snippet["publishedAt"])
        except ValueError:
            warnings.append(f"unreadable publishedAt {snippet['publishedAt']!r}")
    if channel := snippet.get("channelId"):
        if channel in channels:
            values["channel_id"] = channels[channel]
        else:
            warnings.append(f"channel {channel} is not in the catalog")
    if "duration" in details:
        try:
            values["video_length"] = parse_duration(details["duration"])
        except ValueError:
            warnings.append(f"unreadable duration {details['duration']!r}")
    if "viewCount" in statistics:  # a string in the API, as all its counts are
        try:
            values["views"] = int(statistics["viewCount"])
        except (TypeError, ValueError):
            warnings.append(f"unreadable viewCount {statistics['viewCount']!r}")
    if status.get("privacyStatus") in PRIVACY_STATUSES:
        values["privacy_status"] = status["privacyStatus"]
    if "embeddable" in status:
        values["embedding_allowed"] = "Yes" if status["embeddable"] else "No"
    return values, warnings


def _video_keys(entry: ProcessingQueue) -> list[int]:
    keys = (entry.payload or {}).get("video_ids")
    if not isinstance(keys, list) or not all(isinstance(key, int) for key in keys):
        raise PermanentError(f"queue entry {entry.id}: payload needs video_ids, a list of keys")
    return keys


def _run(
    entry: ProcessingQueue,
    fetch: Callable[[Client, list[str]], dict[str, dict]],
    make_client: Callable[[], Client],
    values_for: Callable[[dict], tuple[dict[str, Any], list[str]]],
) -> dict:
    """Fetch first, holding no lock while waiting on the network; then lock the batch's rows
    (in key order, so two jobs never deadlock) and apply each video's differences."""
    keys = _video_keys(entry)
    youtube_ids = list(db.session.scalars(select(Video.video_id).where(Video.id.in_(keys))))
    client = make_client()
    items = fetch(client, youtube_ids)

    videos = db.session.scalars(
        select(Video).where(Video.id.in_(keys)).order_by(Video.id).with_for_update()
    ).all()
    changed: list[str] = []
    missing: list[str] = []
    warnings: dict[str, list[str]] = {}
    unchanged = 0
    for video in videos:
        item = items.get(video.video_id)
        if item is None:
            missing.append(video.video_id)
            continue
        values, problems = values_for(item)
        if problems:
            warnings[video.video_id] = problems
        if update_video(video, values, expected_version=None, actor=None, source="worker"):
            changed.append(video.video_id)
        else:
            unchanged += 1
    return {
        "videos": len(videos),
        "changed": len(changed),
        "unchanged": unchanged,
        "missing": len(missing),
        "api_calls": client.calls,
        "changed_ids": changed[:RESULT_SAMPLE],
        "missing_ids": missing[:RESULT_SAMPLE],
        "warnings": dict(list(warnings.items())[:RESULT_SAMPLE]),
        "gone": len(keys) - len(videos),  # deleted since the job was enqueued
    }


@task("metadata_sync")
def metadata_sync(entry: ProcessingQueue) -> dict:
    """Title, publication time, channel, length, views, privacy and embedding from videos.list."""
    channels: dict[str, int] = {}

    def fetch(client: Client, youtube_ids: list[str]) -> dict[str, dict]:
        items = client.list_videos(youtube_ids)
        wanted = {(item.get("snippet") or {}).get("channelId") for item in items.values()}
        wanted.discard(None)
        if wanted:
            rows = db.session.execute(
                select(Channel.channel_id, Channel.id).where(Channel.channel_id.in_(wanted))
            )
            channels.update(dict(rows.all()))
        return items

    return _run(entry, fetch, youtube_client, lambda item: video_values(item, channels))


@task("ownership_update")
def ownership_update(entry: ProcessingQueue) -> dict:
    """Claim status, claimed by another owner, other owners claiming: from the rights source."""
    return _from_rights(entry, rights.OWNERSHIP_PATH, rights.ownership_values)


@task("asset_enrichment")
def asset_enrichment(entry: ProcessingQueue) -> dict:
    """Asset id, ISRC, UPC, genre, artist and label: from the rights source."""
    return _from_rights(entry, rights.ASSETS_PATH, rights.asset_values)


def _from_rights(
    entry: ProcessingQueue, path: str, values: Callable[[dict], tuple[dict[str, Any], list[str]]]
) -> dict:
    """The entry's videos looked up at `path` of the rights source, each item read by `values`."""
    return _run(entry, lambda client, ids: client.list_by_ids(path, ids), rights_client, values)
