"""Workers over real HTTP: a fake worker in a subprocess (tests/production/fake_worker.py)
takes a task from queued to published through every stage of a live server, with a failure
and a retry, while an editor approves at the gates; and `flask catalog tasks demo-worker`
moves tasks along against the same server."""

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from catalog import create_app
from catalog.extensions import db
from catalog.models import (
    Channel,
    MetadataSync,
    PipelineWorker,
    PipelineWorkerUse,
    Role,
    Task,
    User,
)
from catalog.models.task import STAGES
from catalog.production import service, workers
from catalog.web import db_retry
from tests.conftest import app_config, migrated_database
from tests.production.claim_data import page_id

FAKE_WORKER = Path(__file__).with_name("fake_worker.py")


@pytest.fixture(scope="module")
def live_app(postgres) -> Flask:
    return create_app(app_config(migrated_database(postgres, "catalog_pipeline_live")))


@pytest.fixture(scope="module")
def live_server(live_app):
    """The app behind a real WSGI server in a thread, on committed data."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def committed(app: Flask, work):
    """Run `work` in its own committed transaction on the live server's database."""
    with app.app_context():
        try:
            return db_retry.run_in_transaction(work)
        finally:
            db.session.remove()


def make_people_and_work(app: Flask, name: str, titles: list[str], stages=STAGES):
    """An editor, a channel, queued tasks (queued by the editor) and a worker with a token."""

    def work():
        role = db.session.scalars(select(Role).where(Role.name == "editor")).one()
        editor = User(email=f"editor-{name}@example.com", active=True, fs_uniquifier=page_id(),
                      roles=[role])  # fmt: skip
        channel = Channel(channel_id=f"UC{page_id()[:22]}", name=f"Channel {name}",
                          production_capacity=10)  # fmt: skip
        db.session.add_all([editor, channel])
        db.session.flush()
        ids = []
        for title in titles:
            task = Task(channel_id=channel.id, notion_page_id=page_id(), title=title)
            db.session.add(task)
            db.session.flush()
            service.queue(task, actor=editor)
            ids.append(task.id)
        _worker, token = workers.create_worker(name, list(stages), actor=None, source="cli")
        return editor.id, ids, token

    return committed(app, work)


def person_acts(app: Flask, task_id: int, editor_id: int) -> str:
    """What the editor does when the worker waits: approve at a gate, retry an error."""

    def work():
        task = db.session.get(Task, task_id)
        editor = db.session.get(User, editor_id)
        if task.status in service.ERRORS:
            service.retry(task, actor=editor)
        else:
            service.approve(task, actor=editor)
        return task.status

    return committed(app, work)


def test_a_fake_worker_takes_a_task_from_queued_to_published(live_app, live_server):
    editor_id, [task_id], token = make_people_and_work(live_app, "fake-renderer", ["Night train"])
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, str(FAKE_WORKER), live_server, token],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
    )  # fmt: skip
    decisions, events = [], []
    try:
        for line in worker.stdout:
            event = json.loads(line)
            events.append(event)
            if event["event"] == "idle":
                assert len(decisions) < 10, "the worker keeps waiting"
                decisions.append(person_acts(live_app, task_id, editor_id))
                worker.stdin.write("go\n")
            if event["event"] in ("published", "unexpected"):
                break
        worker.stdin.close()
        assert worker.wait(timeout=30) == 0, events[-3:]
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    final = events[-1]
    assert final["event"] == "published", events[-3:]
    assert decisions == [
        "assets_approved", "generating_video", "video_approved", "audio_approved",
        "final_review", "approved",
    ]  # fmt: skip

    def read():
        task = db.session.get(Task, task_id)
        rows = db.session.scalars(
            select(MetadataSync)
            .where(MetadataSync.entity_type == "task", MetadataSync.entity_id == task_id)
            .order_by(MetadataSync.id)
        ).all()
        worker_ids = select(PipelineWorker.id).where(PipelineWorker.name == "fake-renderer")
        calls = db.session.scalars(
            select(PipelineWorkerUse.status)
            .where(PipelineWorkerUse.worker_id.in_(worker_ids))
            .order_by(PipelineWorkerUse.id)
        ).all()
        return task, rows, calls

    with live_app.app_context():
        task, rows, calls = read()
        assert task.status == "published"
        assert task.youtube_url == "https://www.youtube.com/watch?v=Fak3W0rker1"
        assert task.video_id is not None
        for field in service.RESULT_FIELDS:
            assert getattr(task, field) == f"https://files.example.com/{task_id}/{field}", field
        assert "fake-renderer: video: renderer crashed: out of GPU memory" in task.error_log
        assert final["task"]["status"] == "published"
        timeline = [
            (row.changes["status"][1], row.user_email, row.source)
            for row in rows
            if "status" in row.changes
        ]
        db.session.remove()
    worker_actor = ("worker:fake-renderer", "api")
    editor = ("editor-fake-renderer@example.com", "web")
    expected = [
        ("queued", editor), ("claimed", worker_actor), ("generating_assets", worker_actor),
        ("assets_ready", worker_actor), ("assets_approved", editor),
        ("generating_composites", worker_actor), ("composites_ready", worker_actor),
        ("generating_video", worker_actor), ("video_error", worker_actor),
        ("generating_video", editor), ("video_ready", worker_actor), ("video_approved", editor),
        ("generating_audio", worker_actor), ("audio_ready", worker_actor),
        ("audio_approved", editor), ("generating_sfx", worker_actor),
        ("sfx_ready", worker_actor), ("assembling", worker_actor),
        ("assembly_ready", worker_actor), ("final_review", editor), ("approved", editor),
        ("uploading", worker_actor), ("published", worker_actor),
    ]  # fmt: skip
    assert timeline == [(status, *actor) for status, actor in expected]
    # Every call the worker made is in its log, refusals (the 409) and idle claims too.
    assert len(calls) == final["calls"]
    assert calls.count(409) == 1
    assert calls.count(204) == len(decisions)


def _demo_worker(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["catalog", "tasks", "demo-worker", *args])


def _tasks(app: Flask, ids: list[int]) -> list[tuple[str, str | None, str]]:
    with app.app_context():
        tasks = [db.session.get(Task, task_id) for task_id in ids]
        found = [(task.status, task.asset_url, task.error_log) for task in tasks]
        db.session.remove()
    return found


def test_the_demo_worker_moves_tasks_along(live_app, live_server):
    _editor, ids, token = make_people_and_work(
        live_app, "demo-assets", ["First", "Second", "Third"], stages=["assets"]
    )
    common = ["--url", live_server, "--token", token, "--pace", "0"]

    result = _demo_worker(live_app, *common, "--fail-rate", "0", "--steps", "2")
    assert result.exit_code == 0, result.output
    assert result.output.count("assets done, now assets ready") == 2
    assert "Worked on 2 stages." in result.output
    first, second, third = _tasks(live_app, ids)
    assert [first[0], second[0], third[0]] == ["assets_ready", "assets_ready", "queued"]
    assert first[1] == f"https://files.example.com/demo/{ids[0]}/asset"

    # Every stage fails at a fail rate of 1; then nothing is left and --until-idle stops.
    result = _demo_worker(live_app, *common, "--fail-rate", "1", "--until-idle")
    assert result.exit_code == 0, result.output
    assert "assets failed" in result.output
    assert "Worked on 1 stage." in result.output
    status, _link, error_log = _tasks(live_app, ids)[2]
    assert status == "asset_error"
    assert "demo-assets: assets: demo: " in error_log


def test_the_demo_worker_stops_cleanly_on_ctrl_c(live_app, live_server, monkeypatch):
    _editor, [task_id], token = make_people_and_work(live_app, "demo-stop", ["Interrupted"],
                                                    stages=["assets"])  # fmt: skip

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("catalog.production.demo_worker.time.sleep", interrupted)
    result = _demo_worker(live_app, "--url", live_server, "--token", token, "--pace", "0")
    assert result.exit_code == 0, result.output
    assert "Stopped. A task it held returns to the queue when its lease runs out." in result.output
    assert _tasks(live_app, [task_id])[0][0] == "claimed"  # it stopped after the claim


def test_the_demo_worker_says_what_is_wrong(live_app, live_server):
    result = _demo_worker(live_app, "--url", live_server, "--token", "cpw_wrong", "--pace", "0")
    assert result.exit_code == 1
    assert "Catalog answered 401: Unknown token." in result.output
    result = _demo_worker(live_app, "--url", "http://127.0.0.1:9", "--token", "x", "--pace", "0")
    assert result.exit_code == 1
    assert "Cannot reach Catalog at http://127.0.0.1:9" in result.output


def test_the_demo_worker_finds_the_token_make_run_kept(live_app, live_server, tmp_path,
                                                       monkeypatch):  # fmt: skip
    _editor, [task_id], token = make_people_and_work(live_app, "demo-kept", ["Kept"],
                                                    stages=["assets"])  # fmt: skip
    (tmp_path / "admin-login.txt").write_text(f"worker:demo-worker {token}\n")
    monkeypatch.setattr(live_app, "instance_path", str(tmp_path))
    monkeypatch.delenv("CATALOG_WORKER_TOKEN", raising=False)
    result = _demo_worker(live_app, "--url", live_server, "--pace", "0", "--fail-rate", "0",
                          "--steps", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _tasks(live_app, [task_id])[0][0] == "assets_ready"
