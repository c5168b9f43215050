"""The production state machine as data: every allowed status change, with who may make it.

This table is read by the service (catalog.production.service) and enforced again by the
database: migration 0015 holds the same pairs in `task_transitions`, and a trigger on `tasks`
refuses any status change that is not one of them, whoever writes it. A test compares the
two, so they cannot drift.

Who takes a step:
- a user holding a Permission (CATALOG_EDIT): queue a draft, approve or send back at a
  review gate, retry an error, cancel back to draft;
- WORKER: a pipeline worker (API token or `flask catalog tasks ...`) claims, starts,
  reports a stage done, failed or uploaded;
- SYSTEM: the lease expiry, when a worker stopped sending heartbeats.

Decisions the reference leaves open, made here:
- Stages without a review gate (composites, sfx) go straight on: the next stage's worker
  claims `composites_ready` and `sfx_ready` as it claims an approved stage.
- Errors are shared by stages (composites fail as `asset_error`, sfx as `audio_error`,
  assembly as `video_error`); the task remembers where it failed (`failed_from`, set by the
  trigger on entering an error) and a retry goes back to exactly that state: the table
  allows each error every generating state that can lead to it, and the trigger also
  requires the target to be the task's `failed_from`.
- A retried task is in its generating state with no worker holding it: the stage's next
  claim picks it up (claim.py), before new work.
- "Back to the queue" after a lease expiry: the intake (claimed, generating_assets) goes
  back to `queued`, keeping its place (created_at) in the FIFO; a later stage goes back to
  the state its stage is claimed from (generating_video -> composites_ready, ...), where the
  next worker of that stage claims it. An upload is the exception: a worker that died
  while uploading may have published the video already, so its task goes to
  `upload_error` for a person to check before retrying.
- Cancel (back to draft) is allowed only where no worker holds the task (queued, the
  review gates, the states waiting for the next stage's worker, approved, the errors):
  never under a working worker's feet, and never once published.
"""

from typing import Final

from catalog.models.task import TASK_STATUSES
from catalog.permissions import Permission

WORKER: Final = "worker"
SYSTEM: Final = "system"
USER: Final = Permission.CATALOG_EDIT

# The stages a worker claims, each: the state it is claimed from, the state it works in,
# what it reports when done, and the error state it fails into. The intake (assets) is
# claimed from `queued` into `claimed` and started from there.
STAGE_FLOW: Final[dict[str, dict[str, str]]] = {
    "assets": {"from": "queued", "working": "generating_assets", "done": "assets_ready",
               "error": "asset_error", "result": "asset_url"},
    "composites": {"from": "assets_approved", "working": "generating_composites",
                   "done": "composites_ready", "error": "asset_error",
                   "result": "composite_url"},
    "video": {"from": "composites_ready", "working": "generating_video",
              "done": "video_ready", "error": "video_error", "result": "video_url"},
    "audio": {"from": "video_approved", "working": "generating_audio",
              "done": "audio_ready", "error": "audio_error", "result": "audio_url"},
    "sfx": {"from": "audio_approved", "working": "generating_sfx", "done": "sfx_ready",
            "error": "audio_error", "result": "sfx_url"},
    "assembly": {"from": "sfx_ready", "working": "assembling", "done": "assembly_ready",
                 "error": "video_error", "result": "final_url"},
    "upload": {"from": "approved", "working": "uploading", "done": "published",
               "error": "upload_error", "result": "youtube_url"},
}  # fmt: skip

# The review gates: a ready state, the state its approval leads to, and the state sending
# it back returns to (its generating state).
GATES: Final[dict[str, tuple[str, str]]] = {
    "assets_ready": ("assets_approved", "generating_assets"),
    "video_ready": ("video_approved", "generating_video"),
    "audio_ready": ("audio_approved", "generating_audio"),
    "assembly_ready": ("final_review", "assembling"),
    "final_review": ("approved", "assembling"),
}

ERRORS: Final = ("asset_error", "video_error", "audio_error", "upload_error")
# States in which a worker holds the task (claimed_by, a lease).
HELD: Final = ("claimed", *(flow["working"] for flow in STAGE_FLOW.values()))
# What a task counts as towards its channel's production capacity: started and not yet
# published, errors excepted (they wait for a person, not for the pipeline).
IN_PRODUCTION: Final = tuple(
    s for s in TASK_STATUSES[TASK_STATUSES.index("claimed") : TASK_STATUSES.index("published")]
)
CANCELLABLE: Final = (
    "queued", "assets_ready", "assets_approved", "composites_ready", "video_ready",
    "video_approved", "audio_ready", "audio_approved", "sfx_ready", "assembly_ready",
    "final_review", "approved", *ERRORS,
)  # fmt: skip


def _build() -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {("draft", "queued"): USER, ("queued", "claimed"): WORKER}
    table[("claimed", "generating_assets")] = WORKER
    for name, flow in STAGE_FLOW.items():
        if name != "assets":  # later stages are claimed straight into their working state
            table[(flow["from"], flow["working"])] = WORKER
        table[(flow["working"], flow["done"])] = WORKER
        table[(flow["working"], flow["error"])] = WORKER
        table[(flow["error"], flow["working"])] = USER  # retry (to `failed_from` only)
    for ready, (approved, back) in GATES.items():
        table[(ready, approved)] = USER
        table[(ready, back)] = USER
    # Lease expiry: back to the queue (see the module's docstring).
    table[("claimed", "queued")] = SYSTEM
    table[("generating_assets", "queued")] = SYSTEM
    for name, flow in STAGE_FLOW.items():
        if name not in ("assets", "upload"):
            table[(flow["working"], flow["from"])] = SYSTEM
    for status in CANCELLABLE:
        table[(status, "draft")] = USER
    return table


# (from, to) -> who may take it: a Permission (a user holding it), WORKER or SYSTEM.
TRANSITIONS: Final[dict[tuple[str, str], str]] = _build()

# Where the lease expiry sends a held task. Uploading -> upload_error is a worker's step
# (a failed upload) that the expiry takes too, for the reason above.
EXPIRY: Final[dict[str, str]] = {
    "claimed": "queued",
    "generating_assets": "queued",
    **{
        flow["working"]: flow["from"]
        for name, flow in STAGE_FLOW.items()
        if name not in ("assets", "upload")
    },
    "uploading": "upload_error",
}


def who(old: str, new: str) -> str | None:
    """Who may change a task from `old` to `new` (None: nobody)."""
    return TRANSITIONS.get((old, new))


def allowed_from(status: str) -> dict[str, str]:
    """The states a task in `status` may move to, each with who may move it."""
    return {new: actor for (old, new), actor in TRANSITIONS.items() if old == status}


def may(actor_kind: str, old: str, new: str) -> bool:
    """Whether `actor_kind` (a Permission's value, WORKER or SYSTEM) may take old -> new.
    SYSTEM also takes the expiry's steps that a worker could take (uploading -> error)."""
    declared = who(old, new)
    if declared is None:
        return False
    if actor_kind == SYSTEM and EXPIRY.get(old) == new:
        return True
    return declared == actor_kind


def stage_of(status: str) -> str | None:
    """The stage whose working state `status` is (None: not a working state)."""
    for name, flow in STAGE_FLOW.items():
        if flow["working"] == status:
            return name
    return "assets" if status == "claimed" else None
