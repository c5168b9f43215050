"""Enqueueing syncs: one job per 50 videos, in the caller's transaction, from the list page."""

import re

import pytest
from sqlalchemy import func, select, text

from catalog.extensions import db
from catalog.models import ProcessingQueue, Video
from catalog.youtube import service
from tests.factories import ChannelFactory, UserFactory, VideoFactory
from tests.helpers import csrf_token


def queued(session=None) -> list[ProcessingQueue]:
    session = session or db.session
    return session.scalars(
        select(ProcessingQueue)
        .where(ProcessingQueue.task_type == "metadata_sync")
        .order_by(ProcessingQueue.id)
    ).all()


def engine_jobs(session, job_ids) -> list:
    return session.execute(
        text("SELECT task_name, args, status FROM procrastinate_jobs WHERE id = ANY(:ids)"),
        {"ids": list(job_ids)},
    ).all()


@pytest.fixture
def editor(app_ctx):
    return UserFactory(roles=["editor"])


def test_one_job_per_50_videos_in_key_order(editor, fake_api):
    channel = ChannelFactory()
    videos = VideoFactory.create_batch(120, channel=channel)
    keys = sorted(video.id for video in videos)

    enqueued = service.enqueue_sync(
        select(Video.id).where(Video.channel_id == channel.id), actor=editor
    )

    assert enqueued == service.Enqueued(jobs=3, videos=120)
    entries = queued()
    assert [entry.payload["video_ids"] for entry in entries] == [
        keys[:50], keys[50:100], keys[100:]
    ]  # fmt: skip
    assert {(e.status, e.created_by, e.video_id) for e in entries} == {("pending", editor.id, None)}
    jobs = engine_jobs(db.session, [entry.job_id for entry in entries])
    assert sorted(job.args["entry_id"] for job in jobs) == [entry.id for entry in entries]
    assert {(job.task_name, job.status) for job in jobs} == {("metadata_sync", "todo")}
    assert fake_api.requests == []  # enqueueing calls nothing


def test_a_rolled_back_request_enqueues_nothing(editor):
    videos = VideoFactory.create_batch(3)
    savepoint = db.session.begin_nested()
    enqueued = service.enqueue_sync([video.id for video in videos], actor=editor)
    job_ids = [entry.job_id for entry in queued()]
    assert enqueued.jobs == 1
    assert len(engine_jobs(db.session, job_ids)) == 1
    savepoint.rollback()
    assert queued() == []
    assert engine_jobs(db.session, job_ids) == []


def test_keys_of_videos_that_do_not_exist_are_dropped(editor):
    video = VideoFactory()
    enqueued = service.enqueue_sync([video.id, video.id, 0, -5], actor=editor)
    assert enqueued == service.Enqueued(jobs=1, videos=1)
    [entry] = queued()
    assert entry.payload == {"video_ids": [video.id]}
    assert entry.video_id == video.id  # a one-video job names its video


def test_the_rights_task_types_enqueue_the_same_way(editor):
    video = VideoFactory()
    for task_type in ("ownership_update", "asset_enrichment"):
        service.enqueue_sync([video.id], actor=editor, task_type=task_type)
    types = db.session.scalars(
        select(ProcessingQueue.task_type).where(ProcessingQueue.video_id == video.id)
    ).all()
    assert sorted(types) == ["asset_enrichment", "ownership_update"]
    with pytest.raises(ValueError, match="not a YouTube task type"):
        service.enqueue_sync([video.id], actor=editor, task_type="report_import")


def test_more_than_a_days_quota_is_refused_whole(app, editor, monkeypatch):
    monkeypatch.setitem(app.config, "YOUTUBE_DAILY_QUOTA", 2)
    videos = VideoFactory.create_batch(101)
    with pytest.raises(service.SelectionTooLarge, match="101 videos would take 3 API calls"):
        service.enqueue_sync([video.id for video in videos], actor=editor)
    assert queued() == []


# -- from the list page ---------------------------------------------------------------------


@pytest.fixture
def keyed_editor_client(app, editor_client, monkeypatch):
    """An editor's client, on an app with a YouTube Data API key (the sync is offered only
    then)."""
    monkeypatch.setitem(app.config, "YOUTUBE_API_KEY", "test-key")
    return editor_client


def test_without_an_api_key_the_sync_is_not_offered_nor_accepted(
    app, client, db_session, sign_in_as, monkeypatch
):
    monkeypatch.setitem(app.config, "YOUTUBE_API_KEY", "")
    sign_in_as("editor")
    video = VideoFactory()
    html = client.get("/videos").get_data(as_text=True)
    assert 'data-testid="sync-selected"' not in html
    assert 'data-testid="sync-all"' not in html
    offered = re.search(r'<span[^>]*data-testid="sync-unavailable".*?</span>', html, re.S).group(0)
    assert re.search(r"<button[^>]*disabled", offered)
    assert "no YouTube Data API key is configured" in html

    token = csrf_token(client.get("/videos"))
    response = client.post(
        "/videos/sync", data={"csrf_token": token, "ids": [str(video.id)]}, follow_redirects=True
    )
    assert service.SYNC_UNAVAILABLE in response.get_data(as_text=True)
    assert queued(db_session) == []


def test_the_list_offers_the_sync_to_editors(db_session, keyed_editor_client):
    channel = ChannelFactory()
    html = keyed_editor_client.get("/videos").get_data(as_text=True)
    assert 'data-testid="sync-selected"' in html
    assert 'data-testid="sync-all"' in html
    assert 'data-testid="sync-channel"' not in html
    html = keyed_editor_client.get(f"/videos?channel={channel.id}").get_data(as_text=True)
    assert 'data-testid="sync-channel"' in html


def test_the_sync_of_ticked_boxes_carries_its_token_on_the_button(db_session, keyed_editor_client):
    """The ticked boxes belong to the bulk edit's GET form; the sync button posts that form
    with the CSRF token as its own value, so only this button sends it, never the GET."""
    html = keyed_editor_client.get("/videos?q=x").get_data(as_text=True)
    button = re.search(r'<button[^>]*data-testid="sync-selected"[^>]*>', html).group(0)
    assert 'form="bulk-form"' in button
    assert 'formmethod="post"' in button
    assert 'formaction="/videos/sync?scope=selected&amp;q=x"' in button
    assert re.search(r'name="csrf_token" value="[^"]+"', button)
    bulk_form = re.search(r'<form id="bulk-form".*?</form>', html, re.S).group(0)
    assert "csrf_token" not in bulk_form


def test_the_list_hides_the_sync_from_viewers(client, db_session, sign_in_as):
    sign_in_as("viewer")
    assert "Enqueue YouTube sync" not in client.get("/videos").get_data(as_text=True)


def test_sync_the_ticked_videos(db_session, keyed_editor_client):
    a, _, c = VideoFactory.create_batch(3)
    token = csrf_token(keyed_editor_client.get("/videos"))
    response = keyed_editor_client.post(
        "/videos/sync?scope=selected&q=song",
        data={"csrf_token": token, "ids": [str(a.id), str(c.id)], "q": "song"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/videos?q=song"
    [entry] = queued(db_session)
    assert entry.payload == {"video_ids": sorted([a.id, c.id])}
    assert entry.created_by == keyed_editor_client.user.id
    html = keyed_editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "YouTube sync enqueued: 1 job for 2 videos" in html


def test_sync_everything_the_list_matches(db_session, keyed_editor_client):
    matching = VideoFactory.create_batch(51, title="Sync target")
    VideoFactory(title="Elsewhere")
    token = csrf_token(keyed_editor_client.get("/videos"))
    response = keyed_editor_client.post(
        "/videos/sync?q=sync+target", data={"csrf_token": token, "scope": "all"}
    )
    assert response.status_code == 302
    entries = queued(db_session)
    assert sorted(key for e in entries for key in e.payload["video_ids"]) == sorted(
        video.id for video in matching
    )
    assert [len(e.payload["video_ids"]) for e in entries] == [50, 1]


def test_sync_a_whole_channel(db_session, keyed_editor_client):
    channel = ChannelFactory()
    mine = [VideoFactory(channel=channel), VideoFactory(channel=channel, hidden=True)]
    VideoFactory()  # another channel's
    token = csrf_token(keyed_editor_client.get("/videos"))
    response = keyed_editor_client.post(
        f"/videos/sync?channel={channel.id}&q=nothing+matches",
        data={"csrf_token": token, "scope": "channel"},
    )
    assert response.status_code == 302
    [entry] = queued(db_session)
    assert entry.payload["video_ids"] == sorted(video.id for video in mine)


def test_nothing_selected_enqueues_nothing(db_session, keyed_editor_client):
    token = csrf_token(keyed_editor_client.get("/videos"))
    response = keyed_editor_client.post(
        "/videos/sync", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Select at least one video to sync" in response.get_data(as_text=True)
    assert queued(db_session) == []


def test_a_selection_beyond_the_quota_is_refused(app, db_session, keyed_editor_client, monkeypatch):
    monkeypatch.setitem(app.config, "YOUTUBE_DAILY_QUOTA", 1)
    VideoFactory.create_batch(51, title="Too many")
    token = csrf_token(keyed_editor_client.get("/videos"))
    response = keyed_editor_client.post(
        "/videos/sync?q=too+many", data={"csrf_token": token, "scope": "all"},
        follow_redirects=True,
    )  # fmt: skip
    assert "51 videos would take 2 API calls" in response.get_data(as_text=True)
    assert queued(db_session) == []


def test_readers_cannot_enqueue_and_a_missing_token_is_refused(client, db_session, sign_in_as):
    video = VideoFactory()
    sign_in_as("viewer")
    token = csrf_token(client.get("/videos"))
    response = client.post("/videos/sync", data={"csrf_token": token, "ids": str(video.id)})
    assert response.status_code == 403
    assert queued(db_session) == []


def test_a_post_without_csrf_token_is_refused(db_session, keyed_editor_client):
    video = VideoFactory()
    response = keyed_editor_client.post("/videos/sync", data={"ids": str(video.id)})
    assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(ProcessingQueue)) == 0
