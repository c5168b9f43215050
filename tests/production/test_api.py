"""The pipeline workers' JSON API (/api/pipeline/): each call, each error shape, the token's
reach (these calls and nothing else, no session) and every use recorded."""

import secrets
from datetime import datetime

import pytest
from sqlalchemy import func, select

from catalog.models import MetadataSync, PipelineWorker, PipelineWorkerUse
from catalog.models.task import STAGES
from catalog.production import workers
from tests import factories
from tests.helpers import csrf_token
from tests.production.claim_data import make_task

ASSET = "https://files.example/assets/1.zip"


def make_token_worker(session, name: str = "renderer", stages=STAGES, *, revoked: bool = False):
    """A worker and its token, as create_worker makes them (only the hash is stored)."""
    token = workers.TOKEN_PREFIX + secrets.token_urlsafe(32)
    worker = PipelineWorker(
        name=name, stages=list(stages), token_hash=workers.token_hash(token),
        revoked_at=func.now() if revoked else None,
    )  # fmt: skip
    session.add(worker)
    session.flush()
    return worker, token


def call(client, token: str | None, path: str, body=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(f"/api/pipeline/{path}", json=body, headers=headers, **kwargs)


def uses(session, worker) -> list[tuple[str, int | None, int]]:
    rows = session.scalars(
        select(PipelineWorkerUse)
        .where(PipelineWorkerUse.worker_id == worker.id)
        .order_by(PipelineWorkerUse.id)
    )
    return [(row.call, row.task_id, row.status) for row in rows]


def audit_count(session) -> int:
    return session.scalar(select(func.count()).select_from(MetadataSync))


@pytest.fixture
def channel(db_session):
    return factories.ChannelFactory(production_capacity=10)


@pytest.fixture
def renderer(db_session):
    return make_token_worker(db_session)


def test_claim_gives_the_next_task_and_records_the_use(client, db_session, channel, renderer):
    worker, token = renderer
    task = make_task(channel, "queued", title="First")

    response = call(client, token, "claim", {"stage": "assets"}, environ_base={
        "REMOTE_ADDR": "192.0.2.7"})  # fmt: skip

    assert response.status_code == 200, response.get_json()
    body = response.get_json()["task"]
    assert (body["id"], body["status"], body["title"]) == (task.id, "claimed", "First")
    assert body["lease_expires_at"]
    db_session.expire_all()
    assert isinstance(worker.last_used_at, datetime)
    assert worker.last_used_from == "192.0.2.7"
    assert uses(db_session, worker) == [("claim", task.id, 200)]
    row = db_session.scalars(
        select(MetadataSync).where(MetadataSync.entity_type == "task").order_by(MetadataSync.id)
    ).all()[-1]
    assert (row.source, row.user_email, row.user_id) == ("api", "worker:renderer", None)
    assert row.changes["status"] == ["queued", "claimed"]


def test_claim_answers_204_when_nothing_waits(client, db_session, renderer):
    worker, token = renderer
    response = call(client, token, "claim", {"stage": "video"})
    assert response.status_code == 204
    assert response.get_data() == b""
    assert uses(db_session, worker) == [("claim", None, 204)]


def test_a_stage_runs_through_start_heartbeat_done(client, db_session, channel, renderer):
    worker, token = renderer
    task = make_task(channel, "queued")
    assert call(client, token, "claim", {"stage": "assets"}).status_code == 200
    started = call(client, token, f"tasks/{task.id}/start")
    assert started.get_json()["task"]["status"] == "generating_assets"
    beat = call(client, token, f"tasks/{task.id}/heartbeat")
    assert beat.status_code == 200
    assert (
        beat.get_json()["task"]["lease_expires_at"]
        >= started.get_json()["task"]["lease_expires_at"]
    )
    done = call(client, token, f"tasks/{task.id}/done", {"links": {"asset_url": ASSET}})
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["task"]["status"], done.get_json()["task"]["asset_url"]) == (
        "assets_ready",
        ASSET,
    )
    assert [c for c, _t, _s in uses(db_session, worker)] == ["claim", "start", "heartbeat", "done"]


def test_fail_appends_the_message_and_upload_publishes(client, db_session, channel, renderer):
    worker, token = renderer
    failing = make_task(channel, "generating_video", claimed_by=worker.id, claimed_at=func.now(),
                        lease_expires_at=func.now())  # fmt: skip
    response = call(client, token, f"tasks/{failing.id}/fail", {"message": "GPU out of memory"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()["task"]
    assert body["status"] == "video_error"
    assert "renderer: video: GPU out of memory" in body["error_log"]

    uploading = make_task(channel, "uploading", claimed_by=worker.id, claimed_at=func.now(),
                          lease_expires_at=func.now())  # fmt: skip
    response = call(
        client,
        token,
        f"tasks/{uploading.id}/upload",
        {"youtube_url": "https://youtu.be/dQw4w9WgXcQ"},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()["task"]
    assert (body["status"], body["youtube_url"]) == (
        "published",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    )


@pytest.mark.parametrize(
    ("token", "error"),
    [
        (None, "Authorization: Bearer"),
        ("cpw_not-a-token", "Unknown token"),
    ],
)
def test_no_or_an_unknown_token_is_401(client, db_session, channel, token, error):
    task = make_task(channel, "queued")
    response = call(client, token, "claim", {"stage": "assets"})
    assert response.status_code == 401
    assert error in response.get_json()["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    db_session.expire_all()
    assert task.status == "queued"
    assert db_session.scalar(select(func.count()).select_from(PipelineWorkerUse)) == 0


def test_a_revoked_token_is_401(client, db_session, channel):
    _worker, token = make_token_worker(db_session, "retired", revoked=True)
    task = make_task(channel, "queued")
    response = call(client, token, "claim", {"stage": "assets"})
    assert response.status_code == 401
    assert response.get_json() == {"error": "The token of retired has been revoked."}
    db_session.expire_all()
    assert task.status == "queued"


def test_a_stage_outside_the_tokens_scope_is_403(client, db_session, channel):
    worker, token = make_token_worker(db_session, "voice", stages=["audio"])
    task = make_task(channel, "queued")
    response = call(client, token, "claim", {"stage": "assets"})
    assert response.status_code == 403
    assert "assets" in response.get_json()["error"]
    db_session.expire_all()
    assert task.status == "queued"
    assert uses(db_session, worker) == [("claim", None, 403)]


WORKING = "generating_assets"


def links(value) -> dict:
    return {"json": {"links": value}}


BAD_INPUT = [
    ("claim", None, {"data": "stage=assets"}, "Content-Type: application/json"),
    ("claim", None, {"data": "{not json", "content_type": "application/json"}, "JSON object"),
    ("claim", None, {"json": ["assets"]}, "JSON object"),
    ("claim", None, {"json": {}}, "stage is required"),
    ("claim", None, {"json": {"stage": 3}}, "stage must be a string"),
    ("claim", None, {"json": {"stage": "mastering"}}, "The stage is one of"),
    ("claim", None, {"json": {"stage": "assets", "limit": 2}}, "Unknown key: limit"),
    ("done", WORKING, links("https://x.example"), "links must be an object"),
    ("done", WORKING, links({"asset_url": 5}), "asset_url must be a string"),
    ("done", WORKING, links({"poster_url": ASSET}), "Unknown link: poster_url"),
    ("done", WORKING, links({"asset_url": "ftp://x.example/a"}), "http or https"),
    ("done", WORKING, links({"asset_url": "https://x.example/" + "a" * 1000}), "at most 1000"),
    ("done", WORKING, links({}), "reports its asset_url"),
    ("fail", WORKING, {"json": {"message": "  "}}, "Say what went wrong"),
    ("fail", WORKING, {"json": {"message": ["x"]}}, "message must be a string"),
    ("upload", "uploading", {"json": {"youtube_url": "https://vimeo.com/1"}}, "not a YouTube"),
    ("upload", "uploading", {"json": {"url": "https://youtu.be/dQw4w9WgXcQ"}}, "Unknown key: url"),
    ("heartbeat", WORKING, {"json": {"extra": 1}}, "Unknown key: extra"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "status", "request_kwargs", "error"), BAD_INPUT)
def test_bad_input_is_400_and_changes_nothing(
    client, db_session, channel, renderer, path, status, request_kwargs, error
):
    worker, token = renderer
    task = make_task(channel, status or "queued", claimed_by=worker.id if status else None,
                     lease_expires_at=func.now() if status else None)  # fmt: skip
    before = (task.status, task.error_log, task.asset_url, audit_count(db_session))
    url = "/api/pipeline/claim" if path == "claim" else f"/api/pipeline/tasks/{task.id}/{path}"
    response = client.post(url, headers={"Authorization": f"Bearer {token}"}, **request_kwargs)
    assert response.status_code == 400, response.get_json()
    assert error in response.get_json()["error"]
    db_session.expire_all()
    assert (task.status, task.error_log, task.asset_url, audit_count(db_session)) == before
    assert uses(db_session, worker)[-1][2] == 400


def test_a_call_that_does_not_fit_the_state_is_409_with_it(client, db_session, channel, renderer):
    worker, token = renderer
    task = make_task(channel, "claimed", claimed_by=worker.id, lease_expires_at=func.now())
    before = audit_count(db_session)
    response = call(client, token, f"tasks/{task.id}/done", {"links": {"asset_url": ASSET}})
    assert response.status_code == 409
    assert response.get_json() == {"error": "Start the stage first.", "status": "claimed"}
    ready = make_task(channel, "assets_ready")
    response = call(client, token, f"tasks/{ready.id}/start")
    assert response.status_code == 409
    assert response.get_json()["status"] == "assets_ready"
    db_session.expire_all()
    assert (task.status, task.asset_url, ready.status) == ("claimed", None, "assets_ready")
    assert audit_count(db_session) == before
    assert uses(db_session, worker) == [("done", task.id, 409), ("start", ready.id, 409)]


def test_a_task_held_by_another_worker_is_409(client, db_session, channel, renderer):
    _worker, token = renderer
    other, _other_token = make_token_worker(db_session, "other")
    task = make_task(channel, "generating_assets", claimed_by=other.id, lease_expires_at=func.now())
    for path, body in [("heartbeat", None), ("fail", {"message": "mine now"})]:
        response = call(client, token, f"tasks/{task.id}/{path}", body)
        assert response.status_code == 409, path
        assert response.get_json()["status"] == "generating_assets"
        assert "not held by renderer" in response.get_json()["error"]
    db_session.expire_all()
    assert (task.status, task.claimed_by, task.error_log) == ("generating_assets", other.id, "")


def test_unknown_tasks_and_urls_answer_json(client, db_session, renderer):
    _worker, token = renderer
    response = call(client, token, "tasks/2147483647/heartbeat")
    assert (response.status_code, response.get_json()) == (
        404,
        {"error": "There is no task 2147483647."},
    )
    assert call(client, token, "tasks/2147483648/heartbeat").status_code == 404  # out of range
    response = client.get("/api/pipeline/claim", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405
    assert "error" in response.get_json()


def test_the_token_opens_no_page_and_no_session_opens_the_api(
    client, db_session, sign_in_as, renderer
):
    _worker, token = renderer
    response = client.get("/production", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]

    sign_in_as("admin")  # a signed-in browser: its session cookie counts for nothing here
    assert client.get("/production").status_code == 200
    response = call(client, None, "claim", {"stage": "assets"})
    assert response.status_code == 401
    response = call(client, token, "claim", {"stage": "assets"})
    assert response.status_code == 204
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_the_api_needs_no_csrf_token(app, client, db_session, renderer):
    """CSRF protection is on in the tests (WTF_CSRF_ENABLED); pages still refuse a POST
    without the token, the API answers it."""
    _worker, token = renderer
    assert app.config["WTF_CSRF_ENABLED"]
    csrf_token(client.get("/login"))  # a session with a CSRF secret, as a browser would have
    assert client.post("/production/sync").status_code == 400
    assert call(client, token, "claim", {"stage": "assets"}).status_code == 204
