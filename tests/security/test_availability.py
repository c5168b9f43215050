"""With the database gone, requests get a quick 503; when it is back, the app recovers alone."""

import os
import shutil
import tempfile
import time

import flask_migrate
import pytest
from sqlalchemy import text

from catalog import create_app
from catalog.extensions import db
from catalog.pgserver import LocalPostgres
from tests.conftest import FAST_SERVER, app_config
from tests.factories import committed_user
from tests.helpers import sign_in


@pytest.fixture
def own_server():
    """A cluster of this test's own, since the test stops it."""
    base = tempfile.mkdtemp(prefix="catalog-down-")
    os.chmod(base, 0o755)  # noqa: S103  (the cluster may belong to an unprivileged user)
    server = LocalPostgres(base, settings=FAST_SERVER)
    server.init()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


def test_health_and_pages_answer_503_quickly_and_recover(own_server):
    url = own_server.ensure_running("catalog")
    app = create_app(app_config(url))
    with app.app_context():
        flask_migrate.upgrade()
    committed_user(app, "viewer", "reader@example.com")
    client = app.test_client()
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json == {"status": "ok", "database": "ok", "migrations": "ok"}
    sign_in(client, "reader@example.com")
    assert client.get("/videos").status_code == 200

    own_server.stop()
    started = time.monotonic()
    down = client.get("/health")
    page = client.get("/videos")
    assert time.monotonic() - started < 5
    assert down.status_code == 503
    assert down.json == {"status": "unavailable", "database": "unreachable"}
    assert page.status_code == 503
    body = page.get_data(as_text=True)
    assert "briefly unavailable" in body
    assert "Traceback" not in body
    assert "Content-Security-Policy" in page.headers

    own_server.start()
    assert client.get("/health").status_code == 200
    assert client.get("/videos").status_code == 200  # same session, new connections
    with app.app_context():
        db.engine.dispose()


def _raising(state: str):
    def view():
        db.session.execute(
            text(f"DO $$ BEGIN RAISE EXCEPTION 'planned' USING ERRCODE = '{state}'; END $$")
        )
        return "unreachable"

    return view


def test_a_conflict_or_a_failure_is_not_called_an_outage(app):
    """Only a database that is away gets "briefly unavailable": a transaction that lost a
    race even after its retries is a conflict (409), anything else an error (500)."""
    probe = create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"]))
    probe.add_url_rule("/probe/deadlock", "deadlock", _raising("40P01"))
    probe.add_url_rule("/probe/serialization", "serialization", _raising("40001"))
    probe.add_url_rule("/probe/cancelled", "cancelled", _raising("57014"))
    probe.config["PROPAGATE_EXCEPTIONS"] = False
    client = probe.test_client()
    for url in ("/probe/deadlock", "/probe/serialization"):
        page = client.get(url)
        body = page.get_data(as_text=True)
        assert page.status_code == 409, url
        assert "at the same moment" in body
        assert "Nothing you sent was saved" in body
        assert "unavailable" not in body
        as_json = client.get(url, headers={"Accept": "application/json"})
        assert (as_json.status_code, as_json.json["status"]) == (409, "conflict")
    page = client.get("/probe/cancelled")
    assert page.status_code == 500
    assert "unavailable" not in page.get_data(as_text=True)
    assert client.get("/health").status_code == 200  # the session was left usable
    with probe.app_context():
        db.engine.dispose()
