"""The demo library: a newcomer's /library with something to watch. Six short clips made
with ffmpeg (different test patterns and tones, so the cards differ), their thumbnails (the
frame at 10 %, as an upload's probe cuts it) and one captions file, stored like uploads;
three videos of each active category get a clip (clips are shared), are published, and the
first categories get a hero each. The demo viewer and editor have started a few videos and
finished one, and reacted to some.

The files' fields go through the videos service's set_files (audited, source `cli`, as the
upload probe sets them); published and the hero flag through update_video (audited, the
one-hero rule checked). Progress and reactions are personal activity: direct upserts, no
audit row. Nothing is done when some video already has a file, so a second run adds
nothing. Does not commit: the caller owns the transaction."""

import math
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import select

from catalog.extensions import db, security
from catalog.library import probe, progress, reactions
from catalog.models import Video, VideoCategory
from catalog.reports.storage import StorageError, get_storage
from catalog.videos import files
from catalog.videos.service import update_video

SECONDS = 4
SIZE = "320x180"
# (lavfi video source, tone in Hz): each clip looks and sounds different.
CLIPS = (
    ("testsrc2", 440), ("smptehdbars", 523), ("mandelbrot", 330),
    ("rgbtestsrc", 660), ("life=mold=10:ratio=0.2:death_color=#203040", 392),
    ("cellauto=rule=110", 262),
)  # fmt: skip
TARGET = 24  # videos given a file, spread over the active categories
HEROES = 3  # the first categories (in sort_order) that get a hero
CAPTIONS = """WEBVTT

00:00:00.000 --> 00:00:02.000
A demo clip of Catalog's library.

00:00:02.000 --> 00:00:04.000
Made with ffmpeg: a test pattern and a tone.
"""
# Who watched what, by index into the library's videos (in the order they were chosen):
# positions in seconds; the last one of each list is finished.
WATCHING = {
    "viewer@example.com": ((1, 1.6), (4, 2.4), (7, SECONDS)),
    "editor@example.com": ((2, 1.2), (5, 2.8), (10, 2.0), (4, SECONDS)),
}
REACTIONS = {
    "viewer@example.com": ((0, "love"), (7, "like"), (3, "wow")),
    "editor@example.com": ((0, "like"), (4, "haha")),
    "admin@example.com": ((0, "like"),),
}


class Unavailable(Exception):
    """The demo clips cannot be made here; the message says why and what to do."""


def load_demo_library() -> int:
    """Give demo videos files, heroes, and the demo accounts some progress; return how many
    videos were given a file (0 when some video already had one: nothing was done). Raises
    Unavailable (having written nothing) when ffmpeg is missing or fails."""
    if db.session.scalar(select(Video.id).where(Video.video_url.is_not(None)).limit(1)):
        return 0
    chosen = _choose()
    if not chosen:
        return 0
    if shutil.which("ffmpeg") is None:
        raise Unavailable(
            "ffmpeg is not installed: the library (/library) stays empty. Install it "
            "(sudo apt-get install ffmpeg, or make system-deps) and run `make run` again."
        )
    stored = _store_media()
    videos = []
    for index, (video, hero) in enumerate(chosen):
        clip = stored["clips"][index % len(stored["clips"])]
        values = {"published": True} | ({"is_hero": True} if hero else {})
        update_video(video, values, expected_version=None, actor=None, source="cli")
        files.set_files(
            video,
            {
                "video_url": clip["video"], "duration_seconds": clip["duration"],
                "thumbnail_url": clip["thumbnail"], "caption_url": stored["captions"],
            },
            actor=None, source="cli",
        )  # fmt: skip
        videos.append(video)
    _watch(videos)
    return len(videos)


def _choose() -> list[tuple[Video, bool]]:
    """(video, make it the hero) for TARGET videos over the active categories: each
    category's most viewed public ones, under a row lock (set_files asks for it). In a hero
    category its present hero comes first (it keeps the place); elsewhere heroes are left
    out, so only HEROES categories show one."""
    categories = db.session.scalars(
        select(VideoCategory)
        .where(VideoCategory.is_active)
        .order_by(VideoCategory.sort_order, VideoCategory.id)
    ).all()
    if not categories:
        return []
    per = math.ceil(TARGET / len(categories))
    chosen: list[tuple[Video, bool]] = []
    for position, category in enumerate(categories):
        hero_place = position < HEROES
        shown = (Video.privacy_status == "public") & Video.hidden.is_(False)
        # A present hero is taken whatever it shows: making another one would be refused.
        query = select(Video).where(
            Video.category_id == category.id, shown | Video.is_hero if hero_place else shown
        )
        if not hero_place:
            query = query.where(Video.is_hero.is_(False))
        query = query.order_by(
            Video.is_hero.desc(), Video.views.desc().nulls_last(), Video.id
        ).limit(per)
        found = db.session.scalars(query.with_for_update()).all()
        chosen += [(video, hero_place and i == 0) for i, video in enumerate(found)]
    return chosen[:TARGET]


def _store_media() -> dict:
    """Make the clips, thumbnails and captions in a temporary directory and store them;
    {"clips": [{"video", "thumbnail", "duration"}], "captions": key}."""
    storage = get_storage()
    with tempfile.TemporaryDirectory(prefix="catalog-demo-") as directory:
        folder = Path(directory)
        clips = []
        try:
            for number, (source, tone) in enumerate(CLIPS):
                path = _make_clip(folder / f"clip{number}.mp4", source, tone)
                duration = probe.probe(path, ".mp4").duration_seconds
                picture = folder / f"clip{number}.jpg"
                probe.cut_thumbnail(path, ".mp4", duration, picture)
                clips.append({"video": path, "thumbnail": picture, "duration": duration})
        except (OSError, subprocess.SubprocessError, probe.NotPlayable) as exc:
            raise Unavailable(
                f"The demo clips could not be made with ffmpeg ({exc}): the library stays empty."
            ) from exc
        captions = folder / "captions.vtt"
        captions.write_text(CAPTIONS, encoding="utf-8")
        try:
            for clip in clips:
                clip["video"] = _save(storage, clip["video"])
                clip["thumbnail"] = _save(storage, clip["thumbnail"])
            return {"clips": clips, "captions": _save(storage, captions)}
        except StorageError as exc:
            raise Unavailable(f"The demo clips could not be stored ({exc}).") from exc


def _make_clip(path: Path, source: str, tone: int) -> Path:
    """SECONDS of the lavfi `source` with a sine `tone`: H.264/AAC MP4, moov atom first."""
    command = [
        "ffmpeg", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"{source}:size={SIZE}:rate=25" if "=" in source
        else f"{source}=size={SIZE}:rate=25",
        "-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=44100",
        "-t", str(SECONDS), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", "-f", "mp4", str(path),
    ]  # fmt: skip
    # A fixed program and options; the only variable is a path in our temporary directory.
    subprocess.run(command, check=True, capture_output=True, timeout=120)  # noqa: S603
    return path


def _save(storage, path: Path) -> str:
    with path.open("rb") as source:
        return storage.save(source, path.suffix).key


def _watch(videos: list[Video]) -> None:
    """The demo accounts' progress and reactions (those accounts that exist)."""
    for email, watched in WATCHING.items():
        user = security.datastore.find_user(case_insensitive=True, email=email)
        if user is None:
            continue
        for index, position in watched:
            video = videos[index % len(videos)]
            position = min(position, video.duration_seconds)
            progress.record(user.id, video.video_id, position=position, played=position)
    for email, reacted in REACTIONS.items():
        user = security.datastore.find_user(case_insensitive=True, email=email)
        if user is None:
            continue
        for index, reaction in reacted:
            reactions.toggle(user.id, videos[index % len(videos)], reaction)
