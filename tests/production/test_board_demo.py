"""The demo's production tasks (catalog/demo/production.py): every phase of the board has
some, some wait for review, two are in error with their logs, and each task's timeline holds
one audit row per step it took (checked by the database's trigger as it went)."""

from sqlalchemy import func, select

from catalog.demo import production as demo
from catalog.extensions import db
from catalog.models import MetadataSync, Task
from catalog.models.task import PHASES
from catalog.production import queries
from tests import factories


def test_a_living_board_for_a_newcomer(app_ctx):
    for _ in range(3):
        factories.VideoFactory()
    made = demo.load_demo_tasks()
    tasks = db.session.scalars(select(Task)).all()
    assert made == len(tasks) == sum(count for _status, count in demo.PLAN)
    counts = queries.counts(queries.BoardFilter())
    assert all(counts[phase] > 0 for phase in PHASES), counts
    assert counts["Waiting for review"] >= 5
    errors = [t for t in tasks if t.status.endswith("_error")]
    assert len(errors) == 2
    assert all(t.error_log and t.failed_from for t in errors)
    assert len({t.channel_id for t in tasks}) == 3  # spread over every channel
    for task in tasks:
        rows = db.session.scalar(
            select(func.count()).where(
                MetadataSync.entity_type == "task", MetadataSync.entity_id == task.id
            )
        )
        assert rows == 1 + len(demo.path_to(task.status)), task
    published = [t for t in tasks if t.status == "published"]
    assert all(t.video_id and t.youtube_url for t in published)
    held = [t for t in tasks if t.claimed_by is not None]
    assert held
    assert all(t.lease_expires_at for t in held)
    # Its ages are spread over days, and no task is in its state since before it was made.
    assert all(t.created_at < t.status_changed_at for t in tasks)
    assert demo.load_demo_tasks() == 0  # only into an empty board


def test_the_walks_follow_the_table():
    assert demo.path_to("queued") == ["queued"]
    assert demo.path_to("assets_ready") == ["queued", "claimed", "generating_assets",
                                            "assets_ready"]  # fmt: skip
    assert demo.path_to("upload_error")[-2:] == ["uploading", "upload_error"]
    assert demo.path_to("published")[-1] == "published"
