"""A task's page: its fields, results with previews, error log and timeline; exactly the
actions its state allows for the signed-in user; the review flow (a decision opens the next
task waiting for review); refusals that change nothing; a channel's production page."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from catalog.models import Channel, MetadataSync, Task
from catalog.models.task import TASK_STATUSES
from catalog.production import channel_figures, review_queue, transitions
from catalog.production.task_views import preview_kind
from tests import factories
from tests.helpers import csrf_token
from tests.production.claim_data import make_task, make_worker

ACTION = re.compile(r'data-action="([a-z_]+)"')


def _actions(html: str) -> set[str]:
    return set(ACTION.findall(html))


def _expected(status: str) -> set[str]:
    found = set()
    if status == "draft":
        found |= {"queue", "edit"}
    if status in transitions.GATES:
        found |= {"approve", "send_back"}
    if status in transitions.ERRORS:
        found.add("retry")
    if status in transitions.CANCELLABLE:
        found.add("cancel")
    if status != "published":
        found.add("priority")
    return found


def _audit_count(session) -> int:
    return session.scalar(select(func.count()).select_from(MetadataSync))


@pytest.fixture
def channel(db_session):
    return factories.ChannelFactory(name="River Songs", production_capacity=10)


@pytest.mark.parametrize("status", TASK_STATUSES)
def test_an_editor_sees_exactly_the_actions_the_state_allows(
    client, db_session, sign_in_as, channel, status
):
    sign_in_as("editor")
    failed_from = "generating_video" if status in transitions.ERRORS else None
    task = make_task(channel, status, failed_from=failed_from)
    html = client.get(f"/production/tasks/{task.id}").get_data(as_text=True)
    assert _actions(html) == _expected(status)


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_readers_see_the_task_and_no_action(client, db_session, sign_in_as, channel, role):
    sign_in_as(role)
    task = make_task(channel, "video_ready", video_url="https://files.example/v.mp4")
    response = client.get(f"/production/tasks/{task.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _actions(html) == set()
    assert "https://files.example/v.mp4" in html


def test_results_are_previewed_only_for_https_media(client, db_session, sign_in_as, channel):
    sign_in_as("viewer")
    task = make_task(
        channel, "audio_ready", asset_url="https://files.example/a/frame.PNG",
        video_url="https://files.example/v.webm", audio_url="https://files.example/n.mp3",
        composite_url="http://files.example/c.png", final_url="https://files.example/all.zip",
        error_log="[2026-12-01T10:00:00+00:00] renderer: audio: voice service timed out\n",
    )  # fmt: skip
    html = client.get(f"/production/tasks/{task.id}").get_data(as_text=True)
    assert (
        '<img class="img-fluid rounded border mt-1" data-preview '
        'src="https://files.example/a/frame.PNG"' in html
    )
    assert 'src="https://files.example/v.webm"' in html
    assert (
        '<audio class="mt-1 w-100" data-preview controls preload="none" '
        'src="https://files.example/n.mp3"' in html
    )
    assert 'src="http://files.example/c.png"' not in html  # a link only
    assert 'href="http://files.example/c.png"' in html
    assert "voice service timed out" in html
    assert preview_kind("javascript:alert(1)//x.png") is None
    assert preview_kind("https://files.example/x.zip") is None
    csp = client.get(f"/production/tasks/{task.id}").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https:" in csp
    assert "media-src 'self' https:" in csp


def test_the_timeline_shows_who_when_and_from_to(client, db_session, sign_in_as, channel):
    editor = sign_in_as("editor")
    task = make_task(channel, "draft", title="The river song")
    token = csrf_token(client.get(f"/production/tasks/{task.id}"))
    assert (
        client.post(f"/production/tasks/{task.id}/queue", data={"csrf_token": token}).status_code
        == 303
    )
    html = client.get(f"/production/tasks/{task.id}").get_data(as_text=True)
    timeline = html[html.index('data-testid="task-timeline"') :]
    assert editor.email in timeline
    assert "draft" in timeline
    assert "queued" in timeline
    assert "Queued “The river song”" in html


def test_approving_opens_the_next_task_waiting_for_review(client, db_session, sign_in_as, channel):
    editor = sign_in_as("editor")
    first = make_task(channel, "video_ready", title="First", age=1)
    second = make_task(channel, "assets_ready", title="Second", age=2)
    third = make_task(channel, "final_review", title="Third", age=3)
    token = csrf_token(client.get(f"/production/tasks/{first.id}"))

    response = client.post(f"/production/tasks/{first.id}/approve", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/production/tasks/{second.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Approved “First” (now video approved)." in page

    response = client.post(
        f"/production/tasks/{second.id}/send-back",
        data={"csrf_token": token, "reason": "The colours are off"},
    )
    assert response.headers["Location"] == f"/production/tasks/{third.id}"
    assert "Sent back “Second”" in client.get(response.headers["Location"]).get_data(as_text=True)

    response = client.post(f"/production/tasks/{third.id}/approve", data={"csrf_token": token})
    assert response.headers["Location"] == "/production"
    assert "No more tasks are waiting for review." in client.get("/production").get_data(
        as_text=True
    )
    db_session.expire_all()
    assert (first.status, second.status, third.status) == (
        "video_approved", "generating_assets", "approved",
    )  # fmt: skip
    assert "sent back: The colours are off" in second.error_log
    rows = db_session.scalars(
        select(MetadataSync).where(MetadataSync.entity_type == "task",
                                   MetadataSync.entity_id == first.id)
    ).all()  # fmt: skip
    assert [(r.changes["status"], r.user_id, r.source) for r in rows] == [
        (["video_ready", "video_approved"], editor.id, "web")
    ]


def test_the_review_neighbours_follow_claim_order(app, client, db_session, sign_in_as, channel):
    sign_in_as("viewer")
    low = make_task(channel, "video_ready", priority="low", age=1)
    high = make_task(channel, "audio_ready", priority="high", age=9)
    normal = make_task(channel, "assets_ready", age=5)
    make_task(channel, "queued", priority="high", age=0)  # not waiting for review
    with app.app_context():
        assert review_queue.review_neighbours(normal) == (high.id, low.id)
    html = client.get(f"/production/tasks/{normal.id}").get_data(as_text=True)
    assert f'href="/production/tasks/{low.id}" data-shortcut="j"' in html
    assert f'href="/production/tasks/{high.id}" data-shortcut="k"' in html
    assert 'data-testid="shortcuts"' in html


def test_a_decision_on_a_task_no_longer_at_its_gate_changes_nothing(
    client, db_session, sign_in_as, channel
):
    sign_in_as("editor")
    task = make_task(channel, "generating_video")
    before = _audit_count(db_session)
    token = csrf_token(client.get(f"/production/tasks/{task.id}"))
    response = client.post(f"/production/tasks/{task.id}/approve", data={"csrf_token": token})
    assert response.headers["Location"] == f"/production/tasks/{task.id}"
    assert "awaits no review" in client.get(response.headers["Location"]).get_data(as_text=True)
    db_session.expire_all()
    assert task.status == "generating_video"
    assert _audit_count(db_session) == before


def test_a_post_without_its_csrf_token_is_refused(client, db_session, sign_in_as, channel):
    sign_in_as("editor")
    task = make_task(channel, "video_ready")
    assert client.post(f"/production/tasks/{task.id}/approve").status_code == 400
    db_session.expire_all()
    assert task.status == "video_ready"


def test_retry_priority_and_queue(client, db_session, sign_in_as, channel):
    sign_in_as("editor")
    failed = make_task(channel, "audio_error", failed_from="generating_sfx")
    draft = make_task(channel, "draft")
    token = csrf_token(client.get(f"/production/tasks/{failed.id}"))
    client.post(f"/production/tasks/{failed.id}/retry", data={"csrf_token": token})
    client.post(f"/production/tasks/{draft.id}/priority",
                data={"csrf_token": token, "priority": "high"})  # fmt: skip
    client.post(f"/production/tasks/{draft.id}/queue", data={"csrf_token": token})
    bad = client.post(f"/production/tasks/{draft.id}/priority",
                      data={"csrf_token": token, "priority": "urgent"})  # fmt: skip
    assert bad.status_code == 303
    db_session.expire_all()
    assert failed.status == "generating_sfx"
    assert (draft.status, draft.priority) == ("queued", "high")


def test_cancel_asks_first_then_goes_back_to_draft(client, db_session, sign_in_as, channel):
    sign_in_as("editor")
    task = make_task(channel, "assets_ready", title="Unwanted")
    page = client.get(f"/production/tasks/{task.id}/cancel")
    assert page.status_code == 200
    assert "Cancel “Unwanted”?" in page.get_data(as_text=True)
    db_session.expire_all()
    assert task.status == "assets_ready"  # asking changed nothing
    token = csrf_token(client.get(f"/production/tasks/{task.id}"))
    response = client.post(f"/production/tasks/{task.id}/cancel", data={"csrf_token": token})
    assert response.status_code == 303
    db_session.expire_all()
    assert task.status == "draft"
    held = make_task(channel, "generating_video", claimed_by=make_worker().id)
    assert client.get(f"/production/tasks/{held.id}/cancel").status_code == 302


# -- a channel's production -----------------------------------------------------------------------


def test_a_channels_production_figures(app, client, db_session, sign_in_as, channel):
    sign_in_as("viewer")
    now = datetime.now(UTC)
    for status in ("claimed", "generating_video", "assembly_ready"):
        make_task(channel, status)
    make_task(channel, "published", status_changed_at=now)
    make_task(
        channel, "published", status_changed_at=channel_figures.week_start(now) - timedelta(hours=1)
    )
    worked = make_task(channel, "video_error", failed_from="generating_video")
    done = make_task(channel, "video_ready")
    for task, pair in (
        (worked, ["generating_video", "video_error"]),
        (done, ["generating_video", "video_ready"]),
        (done, ["generating_audio", "audio_ready"]),
        (done, ["video_ready", "video_approved"]),
    ):  # a person's: not a run
        db_session.add(MetadataSync(entity_type="task", entity_id=task.id, action="update",
                                    source="api", changes={"status": pair}))  # fmt: skip
    db_session.flush()
    with app.app_context():
        figures = channel_figures.channel_figures(channel, now)
    # As the capacity counts: claimed up to published, the review gates too, not the errors.
    assert figures.in_production == 4
    assert figures.waiting_for_review == 2
    assert figures.published_this_week == 1
    assert (figures.stage_failures, figures.stage_runs) == (1, 3)
    html = client.get(f"/production/channels/{channel.channel_id}").get_data(as_text=True)
    assert re.search(r'data-figure="error_rate">\s*<dt[^>]*>[^<]*</dt>\s*<dd[^>]*>33%<', html)
    assert "the share that failed: 1 failure in 3 runs" in html
    assert 'data-testid="capacity-form"' not in html  # a viewer reads


def test_an_editor_changes_a_channels_capacity_audited(client, db_session, sign_in_as, channel):
    editor = sign_in_as("editor")
    url = f"/production/channels/{channel.channel_id}"
    token = csrf_token(client.get(url))
    response = client.post(f"{url}/capacity", data={"csrf_token": token, "capacity": "4"})
    assert response.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "Capacity of River Songs set to 4." in page
    db_session.expire_all()
    assert db_session.get(Channel, channel.id).production_capacity == 4
    row = db_session.scalars(
        select(MetadataSync).where(MetadataSync.entity_type == "channel",
                                   MetadataSync.entity_id == channel.id)
    ).one()  # fmt: skip
    assert (row.changes, row.user_id) == ({"production_capacity": [10, 4]}, editor.id)
    assert 'data-testid="capacity-history"' in page
    before = _audit_count(db_session)
    for bad in ("-1", "many", "10001", ""):
        response = client.post(f"{url}/capacity", data={"csrf_token": token, "capacity": bad})
        assert response.status_code == 422, bad
    assert _audit_count(db_session) == before
    db_session.expire_all()
    assert db_session.get(Channel, channel.id).production_capacity == 4


def test_pages_that_do_not_exist(client, db_session, sign_in_as):
    sign_in_as("editor")
    assert client.get("/production/channels/UCnothing").status_code == 404
    assert client.get("/production/tasks/2147483647").status_code == 404
    assert client.get("/production/tasks/2147483648").status_code == 404
    token = csrf_token(client.get("/production"))
    assert client.post("/production/tasks/2147483647/approve",
                       data={"csrf_token": token}).status_code == 404  # fmt: skip
    assert db_session.scalar(select(func.count()).select_from(Task)) == 0
