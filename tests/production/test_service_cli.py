"""`flask catalog tasks claim|start|heartbeat|done|fail|upload`: a pipeline worker's calls
from the shell, printing JSON, through the same service (audited with source "cli")."""

import json

from sqlalchemy import select

from catalog.models import MetadataSync, Task
from tests import factories
from tests.production.claim_data import make_task, make_worker


def tasks(app, *args: str):
    result = app.test_cli_runner().invoke(args=["catalog", "tasks", *args])
    return result, json.loads(result.output.strip().splitlines()[-1]) if result.output else None


def test_a_worker_runs_a_stage_from_the_shell(app, db_session):
    channel = factories.ChannelFactory()
    worker = make_worker("shell-worker")
    queued = make_task(channel, "queued", title="From the shell")

    result, answer = tasks(app, "claim", "--stage", "assets", "--worker", "shell-worker")
    assert result.exit_code == 0, result.output
    assert answer["task"]["id"] == queued.id
    assert answer["task"]["status"] == "claimed"
    assert answer["task"]["lease_expires_at"]
    task_id = str(queued.id)
    for args in (("start", task_id), ("heartbeat", task_id)):
        result, answer = tasks(app, *args, "--worker", "shell-worker")
        assert result.exit_code == 0, result.output
    assert answer["task"]["status"] == "generating_assets"
    result, answer = tasks(
        app, "done", task_id, "--worker", "shell-worker", "--url", "https://files.example/a.zip"
    )
    assert result.exit_code == 0, result.output
    assert (answer["task"]["status"], answer["task"]["asset_url"]) == (
        "assets_ready",
        "https://files.example/a.zip",
    )
    db_session.expire_all()
    rows = db_session.scalars(
        select(MetadataSync).where(
            MetadataSync.entity_type == "task", MetadataSync.entity_id == queued.id
        )
    ).all()
    assert {(row.source, row.user_email) for row in rows} == {("cli", f"worker:{worker.name}")}


def test_nothing_to_claim_prints_null(app, db_session):
    make_worker("idle")
    result, answer = tasks(app, "claim", "--stage", "video", "--worker", "idle")
    assert result.exit_code == 0, result.output
    assert answer == {"task": None}


def test_a_failure_and_an_upload(app, db_session):
    channel = factories.ChannelFactory()
    make_worker("uploader")
    failing = make_task(channel, "approved")
    tasks(app, "claim", "--stage", "upload", "--worker", "uploader")
    result, answer = tasks(
        app, "fail", str(failing.id), "--worker", "uploader", "--message", "quota exceeded"
    )
    assert result.exit_code == 0, result.output
    assert answer["task"]["status"] == "upload_error"
    assert "upload: quota exceeded" in answer["task"]["error_log"]

    uploading = make_task(channel, "approved")
    tasks(app, "claim", "--stage", "upload", "--worker", "uploader")
    result, answer = tasks(
        app, "upload", str(uploading.id), "--worker", "uploader",
        "--url", "https://youtu.be/AAAAAAAAAAA",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert answer["task"]["status"] == "published"
    db_session.expire_all()
    assert db_session.get(Task, uploading.id).video_id is not None


def test_a_call_that_does_not_fit_the_state_exits_3_with_the_state(app, db_session):
    channel = factories.ChannelFactory()
    make_worker("late")
    draft = make_task(channel, "draft")
    result, answer = tasks(app, "start", str(draft.id), "--worker", "late")
    assert result.exit_code == 3
    assert answer["status"] == "draft"
    assert db_session.get(Task, draft.id).status == "draft"


def test_bad_input_exits_1_with_a_reason_and_changes_nothing(app, db_session):
    channel = factories.ChannelFactory()
    make_worker("careless")
    task = make_task(channel, "queued")
    tasks(app, "claim", "--stage", "assets", "--worker", "careless")
    tasks(app, "start", str(task.id), "--worker", "careless")
    result, answer = tasks(app, "done", str(task.id), "--worker", "careless", "--url", "not a url")
    assert result.exit_code == 1
    assert answer["field"] == "asset_url"
    result, answer = tasks(app, "claim", "--stage", "assets", "--worker", "nobody")
    assert result.exit_code == 1
    assert "no pipeline worker named nobody" in answer["error"]
    db_session.expire_all()
    assert db_session.get(Task, task.id).status == "generating_assets"
