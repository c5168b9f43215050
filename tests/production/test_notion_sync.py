"""The notion_sync job against the fake Notion API: drafts upserted by page id through the
audited drafts service, malformed pages skipped and reported whole, a second run that
changes nothing, status write-back retried until it succeeds, and failures made visible."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from catalog import jobs
from catalog.extensions import db
from catalog.jobs import engine
from catalog.jobs.registry import worker_start_hooks
from catalog.jobs.runner import run_attempt
from catalog.models import MetadataSync, ProcessingQueue
from catalog.models.task import Task
from catalog.production import sync
from catalog.production.notion import NotionUnavailable
from catalog.rules import RuleError
from tests.factories import ChannelFactory
from tests.helpers import csrf_token
from tests.production.fake_notion import page


def run() -> dict:
    return sync.notion_sync(None)


def tasks() -> dict[str, Task]:
    return {task.title: task for task in db.session.scalars(select(Task))}


def task_rows() -> list[MetadataSync]:
    return db.session.scalars(
        select(MetadataSync).where(MetadataSync.entity_type == "task").order_by(MetadataSync.id)
    ).all()


def hex_id(notion_page: dict) -> str:
    return notion_page["id"].replace("-", "")


def test_pages_become_drafts_and_a_second_run_changes_nothing(app_ctx, fake_notion):
    home = ChannelFactory()
    fake_notion.pages.extend(
        [page("Canyons", home.channel_id, topic="Rivers", story="Open wide.", priority="High"),
         page("Glaciers", home.channel_id)]
    )  # fmt: skip

    first = run()

    assert (first["pages"], first["created"], first["skipped"]) == (2, 2, 0)
    made = tasks()
    canyons = made["Canyons"]
    assert (canyons.notion_page_id, canyons.channel_id, canyons.topic, canyons.priority) == (
        hex_id(fake_notion.pages[0]), home.id, "Rivers", "high",
    )  # fmt: skip
    assert canyons.story_direction == "Open wide."
    assert made["Glaciers"].priority == "normal"
    rows = task_rows()
    assert [(r.action, r.source, r.user_id, r.user_email) for r in rows] == [
        ("create", "notion", None, None)
    ] * 2
    # The new drafts' status is written to their pages in the same run.
    assert first["pushed"] == 2
    assert {p["properties"]["Catalog status"]["select"]["name"] for p in fake_notion.pages} == {
        "draft"
    }
    assert canyons.notion_status_pushed == "draft"
    updated_at = canyons.updated_at

    fake_notion.requests.clear()
    second = run()

    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 2)
    assert second["pushed"] == 0
    assert task_rows() == rows  # no audit row
    assert [r.method for r in fake_notion.requests] == ["POST"]  # the query, nothing else
    db.session.refresh(canyons)
    assert canyons.updated_at == updated_at


def test_a_drafts_changes_in_notion_are_one_audit_row(app_ctx, fake_notion):
    home = ChannelFactory()
    fake_notion.pages.append(page("Canyons", home.channel_id, topic="Rivers"))
    run()
    properties = fake_notion.pages[0]["properties"]
    properties["Topic"]["rich_text"][0]["plain_text"] = "Deep rivers"
    properties["Priority"]["select"] = {"id": "x", "name": "Low", "color": "blue"}

    result = run()

    assert result["updated"] == 1
    [_create, change] = task_rows()
    assert change.changes == {"topic": ["Rivers", "Deep rivers"], "priority": ["normal", "low"]}
    assert change.source == "notion"


def test_past_draft_only_the_priority_follows_the_page(app_ctx, fake_notion):
    home = ChannelFactory()
    fake_notion.pages.append(page("Canyons", home.channel_id))
    run()
    task = tasks()["Canyons"]
    db.session.execute(update(Task).where(Task.id == task.id).values(status="queued"))
    properties = fake_notion.pages[0]["properties"]
    properties["Name"]["title"][0]["plain_text"] = "Renamed in Notion"
    properties["Priority"]["select"] = {"id": "x", "name": "High", "color": "red"}

    result = run()

    db.session.refresh(task)
    assert (task.title, task.priority) == ("Canyons", "high")
    assert (result["updated"], result["kept"]) == (1, 1)
    assert task_rows()[-1].changes == {"priority": ["normal", "high"]}
    again = run()  # the page still differs in what no longer changes: kept, nothing written
    assert (again["updated"], again["kept"], again["unchanged"]) == (0, 1, 0)
    assert len(task_rows()) == 2


def test_malformed_pages_are_skipped_whole_and_reported_and_the_others_imported(
    app_ctx, fake_notion
):
    home = ChannelFactory()
    bad = {
        "no title": page("", home.channel_id),
        "unknown channel": page("Lost", "UCnobodyHasThisChannel"),
        "no channel": page("Homeless", None),
        "long title": page("T" * 256, home.channel_id),
        "long topic": page("Wordy", home.channel_id, topic="t" * 501),
        "bad priority": page("Eager", home.channel_id, priority="ASAP"),
    }
    not_a_page_id = page("Odd id", home.channel_id)
    not_a_page_id["id"] = "not-a-page-id"
    fake_notion.pages.extend([*bad.values(), not_a_page_id, page("Fine", home.channel_id)])

    result = run()

    assert (result["created"], result["skipped"]) == (1, 7)
    assert list(tasks()) == ["Fine"]
    assert [r.changes["title"][1] for r in task_rows()] == ["Fine"]
    reasons = {entry["page_id"]: " ".join(entry["problems"]) for entry in result["skipped_pages"]}
    assert "needs a title" in reasons[bad["no title"]["id"]]
    assert "'UCnobodyHasThisChannel' is not a channel" in reasons[bad["unknown channel"]["id"]]
    assert "Channel ID is empty" in reasons[bad["no channel"]["id"]]
    assert "at most 255 characters (this is 256)" in reasons[bad["long title"]["id"]]
    assert "at most 500 characters" in reasons[bad["long topic"]["id"]]
    assert "one of high, normal, low" in reasons[bad["bad priority"]["id"]]
    assert "not a Notion page id" in reasons["not-a-page-id"]


def test_status_changes_are_written_back_and_a_failed_push_is_retried_next_run(
    app_ctx, fake_notion
):
    home = ChannelFactory()
    fake_notion.pages.extend([page("Canyons", home.channel_id), page("Glaciers", home.channel_id)])
    run()
    made = tasks()
    for title in made:
        db.session.execute(update(Task).where(Task.title == title).values(status="queued"))
    canyons_page = hex_id(fake_notion.pages[0])
    fake_notion.requests.clear()
    fake_notion.fail_next(500, times=3, path=canyons_page)  # every attempt of that push

    failed = run()

    # Notion failing every retry: the pushes after it wait for the next run too.
    assert (failed["pushed"], failed["push_failed"], failed["push_deferred"]) == (0, 1, 1)
    [failure] = failed["push_failures"]
    assert failure["page_id"] == canyons_page
    assert "gave up after 3 attempts" in failure["error"]
    db.session.refresh(made["Canyons"])
    assert made["Canyons"].notion_status_pushed == "draft"  # not what it failed to write

    fake_notion.requests.clear()
    retried = run()

    assert (retried["pushed"], retried["push_failed"]) == (2, 0)
    push, _glaciers = fake_notion.calls("PATCH")
    assert push.path == f"/v1/pages/{canyons_page}"
    assert push.body == {"properties": {"Catalog status": {"select": {"name": "queued"}}}}
    db.session.refresh(made["Canyons"])
    assert made["Canyons"].notion_status_pushed == "queued"
    assert [r.action for r in task_rows()] == ["create", "create"]  # pushes are not changes


def test_a_page_set_by_hand_in_notion_gets_the_catalog_status_again(app_ctx, fake_notion):
    fake_notion.pages.append(page("Canyons", ChannelFactory().channel_id))
    run()
    fake_notion.pages[0]["properties"]["Catalog status"]["select"]["name"] = "published"
    fake_notion.requests.clear()
    assert run()["pushed"] == 1
    assert fake_notion.pages[0]["properties"]["Catalog status"]["select"]["name"] == "draft"


def test_a_rate_limited_query_is_retried_and_the_run_completes(app_ctx, fake_notion):
    fake_notion.pages.append(page("Canyons", ChannelFactory().channel_id))
    fake_notion.fail_next(429, headers={"Retry-After": "0"})
    assert run()["created"] == 1
    assert len(fake_notion.calls("POST")) == 2


def test_a_database_that_stays_unreachable_fails_the_job_visibly_and_imports_nothing(
    app_ctx, fake_notion
):
    fake_notion.pages.append(page("Canyons", ChannelFactory().channel_id))
    fake_notion.fail_next(503, times=3)
    entry = jobs.enqueue(sync.TASK_TYPE, {})

    with pytest.raises(NotionUnavailable):
        run_attempt(entry.id, job_id=entry.job_id, attempts=0)

    entry = db.session.get(ProcessingQueue, entry.id)
    assert entry.status == "pending"  # the engine tries again after its backoff
    assert entry.error_message.startswith("NotionUnavailable: Notion answered HTTP 503")
    assert "gave up after 3 attempts" in entry.error_message
    assert tasks() == {}


def test_the_jobs_result_is_kept_on_its_entry_for_staff(app_ctx, fake_notion):
    fake_notion.pages.extend([page("Canyons", ChannelFactory().channel_id), page("", "UCx")])
    entry = jobs.enqueue(sync.TASK_TYPE, {})
    run_attempt(entry.id, job_id=entry.job_id, attempts=0)
    entry = db.session.get(ProcessingQueue, entry.id)
    assert entry.status == "completed"
    assert (entry.result["created"], entry.result["skipped"]) == (1, 1)
    assert "needs a title" in " ".join(entry.result["skipped_pages"][0]["problems"])


def test_the_sync_button_queues_one_sync_at_a_time(client, db_session, sign_in_as, fake_notion):
    sign_in_as("editor")
    token = csrf_token(client.get("/production"))
    first = client.post("/production/sync", data={"csrf_token": token}, follow_redirects=True)
    assert "Sync with Notion queued" in first.get_data(as_text=True)
    second = client.post("/production/sync", data={"csrf_token": token}, follow_redirects=True)
    assert "already waiting or running" in second.get_data(as_text=True)
    entries = db_session.scalars(
        select(ProcessingQueue).where(ProcessingQueue.task_type == sync.TASK_TYPE)
    ).all()
    assert len(entries) == 1
    assert entries[0].created_by is not None


def test_without_notion_a_sync_is_refused(app_ctx):
    with pytest.raises(RuleError, match="Notion is not configured"):
        sync.request_sync(actor=None)


def test_the_board_offers_the_sync_only_when_notion_is_configured(
    app, client, db_session, sign_in_as, monkeypatch
):
    sign_in_as("editor")
    assert "Sync with Notion" not in client.get("/production").get_data(as_text=True)
    monkeypatch.setitem(app.config, "NOTION_TOKEN", "secret_x")
    monkeypatch.setitem(app.config, "NOTION_DATABASE_ID", "d" * 32)
    assert "Sync with Notion" in client.get("/production").get_data(as_text=True)


def test_the_shell_command_syncs_now_and_says_what_it_did(app, db_session, fake_notion):
    fake_notion.pages.extend([page("Canyons", ChannelFactory().channel_id), page("", "UCx")])
    result = app.test_cli_runner().invoke(args=["catalog", "tasks", "sync-notion"])
    assert result.exit_code == 0, result.output
    assert "created 1" in result.output
    assert "skipped 1" in result.output
    assert "needs a title" in result.output
    assert db_session.scalars(select(Task.title)).all() == ["Canyons"]


def test_workers_schedule_the_sync_only_when_notion_is_configured(app, fake_notion):
    registry = engine.app.periodic_registry
    key = (sync.TICK_TASK, "")
    assert sync.schedule in worker_start_hooks()
    with app.app_context():
        sync.schedule({**app.config, "NOTION_TOKEN": ""})
        assert key not in registry.periodic_tasks
        try:
            sync.schedule(app.config)
            assert registry.periodic_tasks[key].cron == app.config["NOTION_SYNC_CRON"]
        finally:
            registry.periodic_tasks.pop(key, None)


def test_each_tick_queues_a_sync_unless_one_is_waiting(app, db_session, fake_notion):
    context = SimpleNamespace(additional_context={"flask_app": app})
    first = sync.notion_sync_tick(context, timestamp=0)
    second = sync.notion_sync_tick(context, timestamp=60)
    assert first["queued"] is not None
    assert second == {"queued": None, "waiting": first["queued"]}
    entry = db_session.get(ProcessingQueue, first["queued"])
    assert (entry.task_type, entry.status, entry.created_by) == (sync.TASK_TYPE, "pending", None)
