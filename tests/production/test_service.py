"""The production service: people's steps, a worker's whole pipeline, refusals that change
nothing, the audit rows, the lease expiry and the bulk actions."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import MetadataSync, Task, Video
from catalog.production import bulk, service
from catalog.production.service import TaskStateError
from catalog.rules import RuleError
from tests import factories
from tests.production.claim_data import make_task, make_worker


def _rows(task) -> list[MetadataSync]:
    return db.session.scalars(
        select(MetadataSync)
        .where(MetadataSync.entity_type == "task", MetadataSync.entity_id == task.id)
        .order_by(MetadataSync.id)
    ).all()


def _audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(MetadataSync))


@pytest.fixture
def editor(app_ctx):
    return factories.UserFactory(roles=["editor"])


@pytest.fixture
def channel(app_ctx):
    return factories.ChannelFactory(production_capacity=10)


def test_a_worker_takes_a_task_from_queued_to_published(app_ctx, editor, channel):
    worker = make_worker("renderer")
    draft = make_task(channel, "draft", title="The river song")
    service.queue(draft, actor=editor)

    claimed = service.claim("assets", worker=worker)  # the task's row, as a worker is told it
    assert (claimed.id, claimed.status, claimed.claimed_by) == (draft.id, "claimed", worker.id)
    assert claimed.lease_expires_at is not None
    assert (draft.status, draft.claimed_by) == ("claimed", worker.id)  # the loaded copy too
    task = service.start(claimed, worker=worker)
    service.report_done(task, {"asset_url": "https://files.example/a.zip"}, worker=worker)
    assert (task.status, task.claimed_by, task.asset_url) == ("assets_ready", None, task.asset_url)
    service.approve(task, actor=editor)

    steps = [
        ("composites", "composite_url", "composites_ready"),
        ("video", "video_url", "video_ready"),
        ("audio", "audio_url", "audio_ready"),
        ("sfx", "sfx_url", "sfx_ready"),
        ("assembly", "final_url", "assembly_ready"),
    ]
    for stage, field, ready in steps:
        claimed = service.claim(stage, worker=worker)
        assert claimed.id == task.id, stage
        service.report_done(task, {field: f"https://files.example/{field}"}, worker=worker)
        assert task.status == ready
        if ready in ("video_ready", "audio_ready", "assembly_ready"):
            service.approve(task, actor=editor)
    assert task.status == "final_review"
    service.approve(task, actor=editor)
    assert service.claim("upload", worker=worker).id == task.id
    service.report_upload(task, "https://youtu.be/dQw4w9WgXcQ", worker=worker)

    assert task.status == "published"
    assert task.youtube_url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    video = db.session.get(Video, task.video_id)
    assert (video.video_id, video.title, video.channel_id) == (
        "dQw4w9WgXcQ",
        "The river song",
        channel.id,
    )
    assert task.final_url == "https://files.example/final_url"
    rows = _rows(task)
    statuses = [row.changes["status"] for row in rows if "status" in row.changes]
    assert statuses[0] == ["draft", "queued"]
    assert statuses[-1] == ["uploading", "published"]
    worker_rows = [row for row in rows if row.user_email == "worker:renderer"]
    assert worker_rows
    assert all(row.user_id is None and row.source == "api" for row in worker_rows)
    assert rows[0].user_id == editor.id


def test_an_existing_catalog_video_is_linked_not_created(app_ctx, channel):
    video = factories.VideoFactory(channel=channel)
    worker = make_worker()
    task = make_task(channel, "approved")
    service.claim("upload", worker=worker)
    before = db.session.scalar(select(func.count()).select_from(Video))
    service.report_upload(task, f"https://www.youtube.com/watch?v={video.video_id}&t=3",
                          worker=worker)  # fmt: skip
    assert task.video_id == video.id
    assert db.session.scalar(select(func.count()).select_from(Video)) == before


@pytest.mark.parametrize(
    ("url", "video_id"),
    [
        ("https://www.youtube.com/watch?v=abcdefghijk", "abcdefghijk"),
        ("https://youtu.be/abcdefghi-_", "abcdefghi-_"),
        ("https://m.youtube.com/shorts/ABCDEFGHIJK", "ABCDEFGHIJK"),
        ("http://youtube.com/embed/0123456789a", "0123456789a"),
    ],
)
def test_the_video_id_is_read_from_youtube_urls(url, video_id):
    assert service.youtube_video_id(url) == video_id


@pytest.mark.parametrize(
    "url",
    ["", "abcdefghijk", "https://example.com/watch?v=abcdefghijk",
     "https://www.youtube.com/watch?v=short", "https://youtu.be/abcdefghijkl",
     "javascript:alert(1)", "https://www.youtube.com/channel/UCabcdefghijk"],
)  # fmt: skip
def test_other_urls_are_refused(url):
    with pytest.raises(RuleError):
        service.youtube_video_id(url)


def test_a_failure_is_logged_and_a_retry_returns_to_where_it_failed(app_ctx, editor, channel):
    worker = make_worker()
    task = make_task(channel, "assets_approved", error_log="")
    service.claim("composites", worker=worker)
    service.report_failure(task, "the image service timed out", worker=worker)
    assert task.status == "asset_error"  # composites share the assets' error state
    assert task.failed_from == "generating_composites"
    assert "composites: the image service timed out" in task.error_log
    first_log = task.error_log

    service.retry(task, actor=editor)
    assert (task.status, task.claimed_by) == ("generating_composites", None)
    # Retried work is claimed before new work, and keeps its state.
    make_task(channel, "assets_approved")
    assert service.claim("composites", worker=worker).id == task.id
    assert task.status == "generating_composites"
    service.report_failure(task, "again", worker=worker)
    assert task.error_log.startswith(first_log)
    assert task.error_log.count("\n") == 2


def test_a_call_that_does_not_fit_the_state_says_the_state(app_ctx, editor, channel):
    worker = make_worker()
    task = make_task(channel, "draft")
    before = _audit_count()
    for call in (
        lambda: service.approve(task, actor=editor),
        lambda: service.retry(task, actor=editor),
        lambda: service.start(task, worker=worker),
        lambda: service.report_done(task, {"asset_url": "https://x.example/a"}, worker=worker),
        lambda: service.heartbeat(task, worker=worker),
    ):
        with pytest.raises(TaskStateError) as refused:
            call()
        assert refused.value.status == "draft"
    assert _audit_count() == before
    assert task.status == "draft"


def test_a_worker_reports_only_on_tasks_it_holds(app_ctx, channel):
    holder, other = make_worker(), make_worker()
    task = make_task(channel, "queued")
    service.claim("assets", worker=holder)
    with pytest.raises(TaskStateError) as refused:
        service.start(task, worker=other)
    assert refused.value.status == "claimed"


def test_workers_keep_to_their_stages_and_revoked_ones_are_refused(app_ctx, channel):
    make_task(channel, "queued")
    voice = make_worker(stages=["audio"])
    with pytest.raises(RuleError, match="may not work on the assets stage"):
        service.claim("assets", worker=voice)
    revoked = make_worker()
    revoked.revoked_at = datetime.now(UTC)
    with pytest.raises(RuleError, match="revoked"):
        service.claim("assets", worker=revoked)


def test_people_without_the_permission_are_refused(app_ctx, channel):
    viewer = factories.UserFactory(roles=["viewer"])
    task = make_task(channel, "draft")
    before = _audit_count()
    with pytest.raises(RuleError):
        service.queue(task, actor=viewer)
    with pytest.raises(RuleError):
        service.set_priority(task, "high", actor=viewer)
    with pytest.raises(RuleError):
        service.edit(task, {"title": "x"}, actor=viewer)
    assert (task.status, task.priority, _audit_count()) == ("draft", "normal", before)


def test_send_back_priority_edit_and_cancel_are_audited(app_ctx, editor, channel):
    task = make_task(channel, "video_ready")
    service.send_back(task, actor=editor, reason="the cuts are too fast")
    assert task.status == "generating_video"
    assert "sent back: the cuts are too fast" in task.error_log
    service.set_priority(task, "high", actor=editor)
    old_title = task.title
    service.edit(task, {"title": " A new title ", "topic": ""}, actor=editor)
    assert task.title == "A new title"
    with pytest.raises(TaskStateError):  # the channel is fixed once production started
        service.edit(task, {"channel_id": factories.ChannelFactory().id}, actor=editor)
    with pytest.raises(TaskStateError):  # no cancelling while it is being generated
        service.cancel(task, actor=editor)
    changes = [row.changes for row in _rows(task)]
    assert changes[0]["status"] == ["video_ready", "generating_video"]
    assert changes[1] == {"priority": ["normal", "high"]}
    assert changes[2] == {"title": [old_title, "A new title"]}  # the empty topic stays None


def test_a_lease_expires_back_to_the_queue_audited(app_ctx, channel):
    worker = make_worker("sleepy")
    queued, composing = make_task(channel, "queued"), make_task(channel, "assets_approved")
    uploading = make_task(channel, "approved")
    for stage in ("assets", "composites", "upload"):
        service.claim(stage, worker=worker)
    past = datetime.now(UTC) - timedelta(seconds=1)
    for task in (queued, composing, uploading):
        task.lease_expires_at = past
    db.session.flush()

    assert service.expire_leases() == 3
    statuses = {t.id: db.session.get(Task, t.id).status for t in (queued, composing, uploading)}
    assert statuses == {
        queued.id: "queued",
        composing.id: "assets_approved",
        uploading.id: "upload_error",  # it may be on YouTube already: a person checks
    }
    assert "lease expired while uploading" in db.session.get(Task, uploading.id).error_log
    row = _rows(queued)[-1]
    assert row.changes == {
        "status": ["claimed", "queued"],
        "claimed_by": ["sleepy", None],
        "reason": [None, "lease expired"],
    }
    assert row.user_id is None
    assert service.expire_leases() == 0


def test_a_heartbeat_extends_the_lease(app_ctx, channel):
    worker = make_worker()
    task = make_task(channel, "queued")
    service.claim("assets", worker=worker)
    task.lease_expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.flush()
    service.heartbeat(task, worker=worker)
    assert task.lease_expires_at > datetime.now(UTC)
    assert service.expire_leases() == 0


def test_bulk_actions_count_first_and_write_one_batch(app_ctx, editor, channel):
    drafts = [make_task(channel, "draft") for _ in range(3)]
    make_task(channel, "published")
    selection = select(Task.id).where(Task.channel_id == channel.id)
    assert bulk.count("queue", selection) == 3
    with pytest.raises(RuleError, match="has changed"):
        bulk.apply("queue", selection, expected=2, actor=editor)
    assert all(t.status == "draft" for t in drafts)

    result = bulk.apply("queue", selection, expected=3, actor=editor)
    assert result.count == 3
    rows = db.session.scalars(
        select(MetadataSync).where(MetadataSync.batch_id == result.batch_id)
    ).all()
    assert sorted(r.entity_id for r in rows) == sorted(t.id for t in drafts)
    assert {r.source for r in rows} == {"bulk"}

    assert bulk.count("priority", selection, priority="low") == 3  # published is left alone
    assert bulk.apply("priority", selection, expected=3, actor=editor, priority="low").count == 3
    assert {t.priority for t in drafts} == {"low"}


def test_bulk_retry_sends_each_error_back_to_its_own_state(app_ctx, editor, channel):
    first = make_task(channel, "generating_assets")
    second = make_task(channel, "generating_composites")
    for task in (first, second):
        task.status = "asset_error"
    db.session.flush()
    db.session.expire_all()
    selection = select(Task.id).where(Task.channel_id == channel.id)
    assert bulk.apply("retry", selection, expected=2, actor=editor).count == 2
    assert (first.status, second.status) == ("generating_assets", "generating_composites")


def test_workers_schedule_the_lease_expiry():
    from catalog.jobs import engine
    from catalog.production import leases

    leases.schedule("* * * * * */30")
    assert (leases.EXPIRY_TASK, "") in engine.app.periodic_registry.periodic_tasks
