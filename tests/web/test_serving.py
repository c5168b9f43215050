"""What production serving needs of the app itself (issue 16): liveness and readiness, the
request id, versioned and compressed static files, the pooler setting and the refusal to
serve with development settings. (The cluster of processes is tests/cluster/.)"""

import gzip
import hashlib
import logging

import pytest
from flask import url_for
from sqlalchemy import text

from catalog import ROOT, config, create_app
from catalog.extensions import db
from catalog.jobs import runner, service
from catalog.web import assets, request_id
from tests.conftest import app_config
from tests.helpers import statements_of

NOWHERE = "postgresql+psycopg://catalog@/catalog?host=/nonexistent-catalog-socket"


# -- health ----------------------------------------------------------------------------------
def test_readiness_says_the_database_answers_and_the_schema_is_at_head(client):
    for path in ("/health", "/health/ready"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.json == {"status": "ok", "database": "ok", "migrations": "ok"}
        assert "Set-Cookie" not in answer.headers


@pytest.mark.parametrize("db_owner", [True])
def test_readiness_fails_while_the_schema_is_not_at_the_code_s_head(client, db_session):
    db_session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    answer = client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json["migrations"] == "not at head"
    assert client.get("/health/live").status_code == 200


def test_the_head_is_read_once_from_the_migrations_directory(app):
    head = app.extensions["catalog.migrations_head"]
    versions = (ROOT / "migrations" / "versions").glob("*.py")
    revisions = {path.name.split("_", 1)[0] for path in versions}
    assert len(head) == 1
    assert head <= revisions


def test_liveness_asks_nothing_of_the_database():
    app = create_app(app_config(NOWHERE))
    client = app.test_client()
    live = client.get("/health/live")
    assert (live.status_code, live.json) == (200, {"status": "ok"})
    ready = client.get("/health")
    assert ready.status_code == 503
    assert ready.json == {"status": "unavailable", "database": "unreachable"}


# -- request id ------------------------------------------------------------------------------
@pytest.fixture
def environs(app, monkeypatch) -> list[dict]:
    """The WSGI environ of each request the app serves (what gunicorn's access log reads)."""
    seen, serve = [], app.wsgi_app

    def capture(environ, start_response):
        seen.append(environ)
        return serve(environ, start_response)

    monkeypatch.setattr(app, "wsgi_app", capture)
    return seen


def test_a_request_gets_an_id_on_its_answer_and_in_the_environ(client, environs):
    answer = client.get("/login")
    given = answer.headers["X-Request-ID"]
    assert request_id.VALID.fullmatch(given)
    assert environs[-1][request_id.ENVIRON_REQUEST_ID] == given
    assert request_id.ENVIRON_USER_ID not in environs[-1]
    assert client.get("/login").headers["X-Request-ID"] != given


def test_the_load_balancer_s_id_is_kept_and_a_malformed_one_replaced(client):
    kept = client.get("/health/live", headers={"X-Request-ID": "0A1B2C3D4E5F6071"})
    assert kept.headers["X-Request-ID"] == "0A1B2C3D4E5F6071"
    for bad in ('x"><script>', "short", "a" * 65, "tab\tinside-123456"):
        answer = client.get("/health/live", headers={"X-Request-ID": bad})
        assert answer.headers["X-Request-ID"] != bad
        assert request_id.VALID.fullmatch(answer.headers["X-Request-ID"])


def test_error_pages_show_the_request_id(editor_client):
    answer = editor_client.get("/no-such-page", headers={"X-Request-ID": "quote-me-1234"})
    assert answer.status_code == 404
    assert '<code class="request-id">quote-me-1234</code>' in answer.get_data(as_text=True)


def test_the_signed_in_user_s_id_is_left_for_the_access_log(editor_client, environs):
    answer = editor_client.get("/videos")
    assert answer.status_code == 200
    assert environs[-1][request_id.ENVIRON_USER_ID] == str(editor_client.user.id)


def test_a_job_enqueued_by_a_request_carries_its_id(app, app_ctx):
    with app.test_request_context(headers={"X-Request-ID": "job-origin-1234"}):
        request_id.assign()
        entry = service.enqueue("metadata_sync", {"video_ids": []})
        kwargs = db.session.scalar(
            text("SELECT args FROM procrastinate_jobs WHERE id = :id"), {"id": entry.job_id}
        )
    assert kwargs == {"entry_id": entry.id, "request_id": "job-origin-1234"}
    outside = service.enqueue("metadata_sync", {"video_ids": []})
    assert db.session.scalar(
        text("SELECT args FROM procrastinate_jobs WHERE id = :id"), {"id": outside.job_id}
    ) == {"entry_id": outside.id}


def test_the_worker_s_log_lines_name_the_request_of_their_job():
    record = logging.LogRecord("catalog.jobs", logging.INFO, __file__, 1, "work", (), None)
    token = runner.origin_request.set("job-origin-1234")
    try:
        assert runner.RequestIdFilter().filter(record)
    finally:
        runner.origin_request.reset(token)
    assert record.request_id == "job-origin-1234"
    runner.RequestIdFilter().filter(record)
    assert record.request_id == "-"


# -- static files and compression -------------------------------------------------------------
def test_static_urls_carry_the_content_hash_and_are_cached_for_a_year(app, client):
    content = (ROOT / "static" / "css" / "app.css").read_bytes()
    digest = hashlib.sha256(content).hexdigest()[: assets.HASH_LENGTH]
    with app.test_request_context():
        url = url_for("static", filename="css/app.css")
    assert url == f"/static/css/app.css?v={digest}"
    versioned = client.get(url)
    assert versioned.status_code == 200
    assert versioned.headers["Cache-Control"] == assets.IMMUTABLE
    for other in ("/static/css/app.css", "/static/css/app.css?v=0123456789ab"):
        answer = client.get(other)
        assert answer.status_code == 200
        assert "immutable" not in answer.headers.get("Cache-Control", "")


def test_a_static_file_asks_nothing_of_the_database(db_session, admin_client):
    # Signed in (an admin, whom every page checks for a second factor): no user is read.
    connection = db_session.connection()
    assert statements_of(admin_client, connection, "/static/js/app.js") == []
    assert statements_of(admin_client, connection, "/videos")  # the pages still read it


def test_pages_link_the_versioned_static_files(client):
    page = client.get("/login").get_data(as_text=True)
    assert "/static/css/app.css?v=" in page
    assert 'src="/static/js/app.js"' not in page


def test_html_css_and_javascript_are_compressed_for_clients_that_accept_it(client):
    page = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert b"<html" in gzip.decompress(page.get_data())
    assert "Accept-Encoding" in page.headers["Vary"]
    for path in ("/static/vendor/bootstrap/bootstrap.min.css", "/static/js/app.js"):
        answer = client.get(path, headers={"Accept-Encoding": "br, gzip"})
        assert answer.headers["Content-Encoding"] == "br", path
    plain = client.get("/login")
    assert "Content-Encoding" not in plain.headers
    assert b"<html" in plain.get_data()


# -- settings ----------------------------------------------------------------------------------
def test_behind_a_transaction_pooler_prepared_statements_are_off(app):
    pooled = {**app.config, "DATABASE_POOLER": "transaction"}
    config.engine_options_for_pooler(pooled)
    connect_args = pooled["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]
    assert connect_args["prepare_threshold"] is None
    assert "options" not in connect_args  # PgBouncer 1.18 refuses the startup parameter
    assert "options" in app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]  # untouched
    with pytest.raises(RuntimeError, match="DATABASE_POOLER"):
        config.engine_options_for_pooler({**app.config, "DATABASE_POOLER": "session"})


def test_serving_is_refused_without_a_database_or_with_development_secrets():
    production = {**config.from_environment(), "CATALOG_ENV": "production"}
    secrets = {
        "SECRET_KEY": "s" * 32,
        "SECURITY_PASSWORD_SALT": "t" * 32,
        "SECURITY_TOTP_SECRETS": {"1": "u" * 43},
    }
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        config.refuse_to_serve({**production, **secrets, "SQLALCHEMY_DATABASE_URI": ""})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.refuse_to_serve({**production, "SQLALCHEMY_DATABASE_URI": NOWHERE})
    config.refuse_to_serve({**production, **secrets, "SQLALCHEMY_DATABASE_URI": NOWHERE})
