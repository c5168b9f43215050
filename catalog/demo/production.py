"""Demo production tasks: a living board for a newcomer. Tasks across the demo channels in
every phase, some waiting for review, two in error with their logs.

Each task is made as a draft through the drafts service (audited), then walked along the
shortest path the transition table allows to the state it shows, one audit row per step
(the person's steps as the demo, source `cli`; the workers' as the demo's seed worker), so
its timeline reads like a real one. The database's trigger checks each step, as it checks
every write. Does not commit: the caller owns the transaction."""

import random
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from catalog import audit
from catalog.extensions import db
from catalog.models import Channel, PipelineWorker, Task, Video
from catalog.production import drafts
from catalog.production.service import audit_row
from catalog.production.transitions import ERRORS, HELD, STAGE_FLOW, SYSTEM, TRANSITIONS, WORKER

SEED = 14
SEED_WORKER = "demo-seed-worker"
# How many tasks of each state the demo shows, spread over the channels. Two errors.
PLAN = (
    ("draft", 6), ("queued", 12),
    ("claimed", 1), ("generating_assets", 2), ("generating_video", 2), ("generating_audio", 1),
    ("generating_sfx", 1), ("assembling", 1), ("composites_ready", 1), ("video_approved", 1),
    ("assets_ready", 2), ("video_ready", 2), ("audio_ready", 1), ("assembly_ready", 1),
    ("final_review", 1),
    ("approved", 1), ("uploading", 1),
    ("published", 6),
    ("video_error", 1), ("upload_error", 1),
)  # fmt: skip
ERROR_MESSAGES = {
    "video_error": "video: the render node ran out of GPU memory at frame 1,812 of 2,400",
    "upload_error": "upload: YouTube answered 403 quotaExceeded; nothing was uploaded",
}
TOPICS = (
    "The story behind the song", "Live at the harbour", "A year on the road",
    "Lyrics, line by line", "The making of the album", "Ten years in ten minutes",
    "Rehearsal tapes", "Fans' favourite moments",
)  # fmt: skip
FILES = "https://files.example.com/demo"
LEASE = timedelta(minutes=15)


def path_to(target: str) -> list[str]:
    """The shortest walk from draft to `target` that people and workers take (no lease
    expiry, no cancel, no error on the way): the states after draft, in order."""
    steps = {(old, new) for (old, new), who in TRANSITIONS.items() if who != SYSTEM}
    # Out of an error only a retry leads, and only back where it failed: never a shortcut.
    steps = {(old, new) for old, new in steps if new != "draft" and old not in ERRORS}
    previous: dict[str, str] = {}
    seen, todo = {"draft"}, deque(["draft"])
    while todo:
        state = todo.popleft()
        for old, new in sorted(steps):
            if old == state and new not in seen:
                seen.add(new)
                previous[new] = state
                todo.append(new)
    if target not in seen:
        raise ValueError(f"{target} cannot be reached from draft")
    walk = [target]
    while walk[-1] != "draft":
        walk.append(previous[walk[-1]])
    return walk[::-1][1:]


def _seed_worker() -> PipelineWorker:
    worker = db.session.scalars(
        select(PipelineWorker).where(PipelineWorker.name == SEED_WORKER)
    ).first()
    if worker is None:
        # A worker no token opens (its hash is of nothing anyone holds): it only holds the
        # demo's tasks in production.
        worker = PipelineWorker(
            name=SEED_WORKER, token_hash=uuid.uuid4().hex * 2, stages=list(STAGE_FLOW)
        )
        db.session.add(worker)
        db.session.flush()
    return worker


def _result(status: str, old: str, task: Task) -> dict[str, list]:
    """The result link a worker reports with a stage done."""
    for stage, flow in STAGE_FLOW.items():
        if flow["working"] == old and flow["done"] == status and stage != "upload":
            # Archives for the image stages: the demo's files.example.com does not exist, and
            # a page previewing an image from it would show a broken image and log errors.
            # (Audio and video previews load nothing until played.)
            extension = {"assets": "zip", "composites": "zip", "video": "mp4", "audio": "mp3",
                         "sfx": "wav", "assembly": "mp4"}[stage]  # fmt: skip
            url = f"{FILES}/{task.notion_page_id}/{stage}.{extension}"
            old_url = getattr(task, flow["result"])
            setattr(task, flow["result"], url)
            return {flow["result"]: [old_url, url]}
    return {}


def load_demo_tasks(rng: random.Random | None = None) -> int:
    """Make the demo's tasks unless there are tasks already; how many were made."""
    if db.session.scalar(select(func.count()).select_from(Task)):
        return 0
    rng = rng or random.Random(SEED)
    channels = list(db.session.scalars(select(Channel).order_by(Channel.id)))
    if not channels:
        return 0
    worker = _seed_worker()
    videos = list(db.session.scalars(select(Video).order_by(Video.id).limit(20)))
    now = datetime.now(UTC)
    made = 0
    for status, count in PLAN:
        for _ in range(count):
            channel = channels[made % len(channels)]
            made += 1
            task = drafts.create_draft(
                {
                    "notion_page_id": uuid.UUID(int=rng.getrandbits(128)).hex,
                    "title": f"{rng.choice(TOPICS)}: {channel.name} #{made}",
                    "channel_id": channel.id,
                    "topic": rng.choice(TOPICS),
                    "story_direction": "Warm, unhurried; open on the crowd, end on the band.",
                    "priority": rng.choice(("high", "normal", "normal", "normal", "low")),
                },
                actor=None, source="cli",
            )  # fmt: skip
            _walk(task, status, worker, videos, rng)
            # How long it has been in its state: spread over the last days, so the board's
            # "in its state" and the age filter show something; made some hours before that.
            task.status_changed_at = now - timedelta(minutes=rng.randint(5, 6 * 24 * 60))
            task.created_at = task.status_changed_at - timedelta(hours=1 + made % 36)
    db.session.flush()
    return made


def _walk(task: Task, target: str, worker: PipelineWorker, videos: list, rng) -> None:
    for new in path_to(target):
        old = task.status
        actor = worker if TRANSITIONS[(old, new)] == WORKER else None
        changes: dict[str, list] = {}
        if new in ERROR_MESSAGES:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            log = f"{task.error_log or ''}[{stamp}] {worker.name}: {ERROR_MESSAGES[new]}\n"
            changes["error_log"] = [task.error_log or "", log]
            task.error_log = log
        changes |= _result(new, old, task)
        if new == "published" and videos:
            video = videos[rng.randrange(len(videos))]
            url = f"https://www.youtube.com/watch?v={video.video_id}"
            changes |= {"youtube_url": [None, url], "video_id": [None, video.id]}
            task.youtube_url, task.video_id = url, video.id
        task.status = new
        if new in HELD:
            task.claimed_by, task.claimed_at = worker.id, datetime.now(UTC)
            # A short lease the seed worker never renews: the lease expiry hands these
            # tasks back to the queue, where the demo worker (or any) takes them on.
            task.lease_expires_at = datetime.now(UTC) + LEASE
        else:
            task.claimed_by = task.claimed_at = task.lease_expires_at = None
        db.session.flush()  # the trigger checks the step
        audit.record(audit_row(task, {"status": [old, new], **changes}, actor=actor, source="cli"))
