"""Pipeline workers on /accounts: admins create a worker (its token shown once, stored
hashed), see its use, and revoke it; both audited as entity "pipeline_worker"."""

import re

from sqlalchemy import func, select

from catalog.models import MetadataSync, PipelineWorker
from catalog.production import workers
from tests.helpers import csrf_token


def _audit(session) -> list[MetadataSync]:
    return session.scalars(
        select(MetadataSync)
        .where(MetadataSync.entity_type == "pipeline_worker")
        .order_by(MetadataSync.id)
    ).all()


def _shown_token(html: str) -> str | None:
    match = re.search(r'id="worker-token-value" readonly value="([^"]+)"', html)
    return match.group(1) if match else None


def _create(client, name: str, stages: list[str]):
    token = csrf_token(client.get("/accounts/workers/new"))
    return client.post(
        "/accounts/workers/new", data={"name": name, "stages": stages, "csrf_token": token}
    )


def test_an_admin_creates_a_worker_and_sees_its_token_once(client, db_session, sign_in_as):
    admin = sign_in_as("admin")
    assert 'href="/accounts/workers"' in client.get("/accounts/users").get_data(as_text=True)

    response = _create(client, "gpu-render-1", ["video", "assets"])
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/accounts/workers")
    page = client.get("/accounts/workers")
    assert page.headers["Cache-Control"] == "no-store"
    token = _shown_token(page.get_data(as_text=True))
    assert token
    assert token.startswith(workers.TOKEN_PREFIX)
    assert len(token) > 40

    worker = db_session.scalars(
        select(PipelineWorker).where(PipelineWorker.name == "gpu-render-1")
    ).one()
    assert worker.token_hash == workers.token_hash(token)
    assert token not in worker.token_hash
    assert (worker.stages, worker.created_by, worker.revoked_at) == (
        ["assets", "video"],
        admin.id,
        None,
    )
    [row] = _audit(db_session)
    assert (row.action, row.entity_key, row.user_id, row.source) == (
        "create", "gpu-render-1", admin.id, "web"
    )  # fmt: skip
    assert row.changes == {
        "name": [None, "gpu-render-1"], "stages": [[], ["assets", "video"]],
        "token": [None, "(issued)"],
    }  # fmt: skip
    assert token not in str(row.changes)

    again = client.get("/accounts/workers").get_data(as_text=True)
    assert _shown_token(again) is None  # shown once
    assert "gpu-render-1" in again

    # The token works on the API, and its use shows on the list.
    answer = client.post(
        "/api/pipeline/claim", json={"stage": "video"},
        headers={"Authorization": f"Bearer {token}"}, environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )  # fmt: skip
    assert answer.status_code == 204
    assert "198.51.100.4" in client.get("/accounts/workers").get_data(as_text=True)
    refused = client.post(
        "/api/pipeline/claim", json={"stage": "audio"},
        headers={"Authorization": f"Bearer {token}"}, environ_base={"REMOTE_ADDR": "198.51.100.5"},
    )  # fmt: skip
    assert refused.status_code == 403

    # Its page lists every call, newest first, refusals too, and its history.
    detail = client.get(f"/accounts/workers/{worker.id}").get_data(as_text=True)
    calls = re.findall(
        r'data-testid="worker-use">.*?font-monospace">([^<]+)</td>\s*<td>(\w+)</td>.*?badge[^>]*>(\d+)<',
        detail, re.S,
    )  # fmt: skip
    assert calls == [("198.51.100.5", "claim", "403"), ("198.51.100.4", "claim", "204")]
    assert "History of this worker" in detail
    assert "(issued)" in detail


def test_a_refused_worker_writes_nothing(client, db_session, sign_in_as):
    sign_in_as("admin")
    assert _create(client, "render", ["assets"]).status_code == 302
    count = db_session.scalar(select(func.count()).select_from(PipelineWorker))
    cases = [
        ("Render", ["video"], "already a pipeline worker named Render"),
        ("bad name!", ["video"], "Letters, digits"),
        ("voice", [], "Choose at least one stage"),
        ("voice", ["mastering"], "is not a valid choice"),
    ]
    for name, stages, error in cases:
        response = _create(client, name, stages)
        assert response.status_code == 400, name
        assert error in response.get_data(as_text=True), name
    assert db_session.scalar(select(func.count()).select_from(PipelineWorker)) == count
    assert len(_audit(db_session)) == 1


def test_revoking_stops_the_token_at_once(client, db_session, sign_in_as):
    admin = sign_in_as("admin")
    _create(client, "narrator", ["audio"])
    token = _shown_token(client.get("/accounts/workers").get_data(as_text=True))
    worker = db_session.scalars(
        select(PipelineWorker).where(PipelineWorker.name == "narrator")
    ).one()
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        client.post("/api/pipeline/claim", json={"stage": "audio"}, headers=headers).status_code
        == 204
    )

    confirm = client.get(f"/accounts/workers/{worker.id}/revoke")
    assert confirm.status_code == 200
    assert "Revoke the token of narrator?" in confirm.get_data(as_text=True)
    form_token = csrf_token(client.get(f"/accounts/workers/{worker.id}/revoke"))
    assert client.post(f"/accounts/workers/{worker.id}/revoke").status_code == 400  # no CSRF
    db_session.expire_all()
    assert worker.revoked_at is None
    response = client.post(f"/accounts/workers/{worker.id}/revoke", data={"csrf_token": form_token})
    assert response.status_code == 302

    db_session.expire_all()
    assert worker.revoked_at is not None
    rows = _audit(db_session)
    assert [row.action for row in rows] == ["create", "update"]
    assert list(rows[-1].changes) == ["revoked_at"]
    assert rows[-1].user_id == admin.id
    answer = client.post("/api/pipeline/claim", json={"stage": "audio"}, headers=headers)
    assert answer.status_code == 401
    html = client.get("/accounts/workers").get_data(as_text=True)
    assert "revoked" in html
    assert f"/accounts/workers/{worker.id}/revoke" not in html

    # Revoking again changes nothing and writes no second row.
    client.post(f"/accounts/workers/{worker.id}/revoke", data={"csrf_token": form_token})
    assert len(_audit(db_session)) == 2


def test_make_run_prints_a_demo_worker_token_it_keeps(app_ctx, tmp_path, capsys):
    """`flask catalog demo` (make run) makes the demo worker once and keeps its token in the
    login file (owner-only), so every run prints the same working token."""
    from catalog.demo import accounts as demo_accounts
    from catalog.extensions import db

    login_file = tmp_path / "admin-login.txt"
    token = demo_accounts.ensure_demo_worker(login_file)
    assert token
    assert token.startswith(workers.TOKEN_PREFIX)
    worker = db.session.scalars(
        select(PipelineWorker).where(PipelineWorker.name == "demo-worker")
    ).one()
    assert worker.token_hash == workers.token_hash(token)
    assert worker.stages == ["assets", "composites", "video", "audio", "sfx", "assembly", "upload"]
    assert login_file.stat().st_mode & 0o777 == 0o600
    assert demo_accounts.read_worker_token(login_file) == token
    assert demo_accounts.ensure_demo_worker(login_file) == token  # the same, not a new one
    assert db.session.scalar(select(func.count()).select_from(PipelineWorker)) == 1

    demo_accounts.print_banner({}, "Demo data", login_file, token)
    assert (
        f"Demo pipeline worker token (demo-worker, every stage): {token}" in capsys.readouterr().out
    )

    workers.revoke_worker(worker, actor=None)
    assert demo_accounts.ensure_demo_worker(login_file) is None  # a revoked token is not shown
    demo_accounts.print_banner({}, "Demo data", login_file, None)
    assert "token not on file" in capsys.readouterr().out


def test_the_demo_command_prints_the_worker_token(app, db_session, tmp_path, monkeypatch):
    from tests.factories import VideoFactory

    VideoFactory()  # a catalog with data: only the accounts and the worker are made
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    first = app.test_cli_runner().invoke(args=["catalog", "demo"])
    assert first.exit_code == 0, first.output
    match = re.search(
        r"Demo pipeline worker token \(demo-worker, every stage\): (\S+)", first.output
    )
    assert match, first.output
    token = match.group(1)
    assert f"worker:demo-worker {token}" in (tmp_path / "admin-login.txt").read_text()
    worker = db_session.scalars(
        select(PipelineWorker).where(PipelineWorker.name == "demo-worker")
    ).one()
    assert worker.token_hash == workers.token_hash(token)
    second = app.test_cli_runner().invoke(args=["catalog", "demo"])
    assert token in second.output  # the same token on every run
