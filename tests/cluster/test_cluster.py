"""Issue 16, section 3: the cluster of tests/cluster/conftest.py (PostgreSQL, PgBouncer, two
gunicorn instances, HAProxy, two workers, from deploy/), driven through HAProxy as a browser
would. Which instance served a request is read from the instances' JSON access logs, by the
request id HAProxy gave it and the app returned.

The tests share one cluster and run in this order; each leaves it whole (both instances up,
PostgreSQL running) for the next."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask_security import hash_password
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import LoginAttempt, MetadataSync, ProcessingQueue, Report
from tests import factories
from tests.cluster.stack import Client, wait_for
from tests.factories import committed_user
from tests.helpers import TEST_PASSWORD, csrf_token
from tests.html_forms import submitted_fields
from tests.reports.conftest import sample

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("logs_on_failure")]

A2 = "youtube_video_report_a2.csv"


@pytest.fixture(scope="module")
def editor(cluster):
    return committed_user(cluster.seed_app, "editor")


def signed_in(cluster, email: str) -> Client:
    client = Client(cluster.ports["haproxy"])
    token = csrf_token(client.get("/login").body)
    answer = client.post("/login", {"email": email, "password": TEST_PASSWORD, "csrf_token": token})
    assert answer.status == 302, answer.body[:500]
    assert "/login" not in answer.headers["Location"]
    return client


def committed(cluster, statement):
    with cluster.seed_app.app_context():
        try:
            return db.session.execute(statement).all()
        finally:
            db.session.remove()


def test_a_session_and_its_csrf_tokens_hold_across_both_instances(cluster, editor):
    with cluster.seed_app.app_context():
        factories.use_session(db.session, hash_password(TEST_PASSWORD))
        video = factories.VideoFactory(title="Before the cluster")
        db.session.commit()
        video_id = video.video_id
        db.session.remove()
    client = signed_in(cluster, editor.email)
    served = []
    for path in ("/videos", f"/videos/{video_id}", "/videos?q=cluster"):
        answer = client.get(path)
        assert answer.status == 200, path
        served.append(cluster.served_by(answer.request_id))
    assert set(served) == {"web1", "web2"}  # round robin: the one session on both
    # One JSON line per request in the instance's access log, with the request id HAProxy
    # gave it (the app returned it) and the signed-in user.
    line = next(
        line for line in cluster.access_log(served[-1]) if line["request_id"] == answer.request_id
    )
    assert line["user_id"] == str(editor.id)
    assert (line["method"], line["path"], line["status"]) == ("GET", "/videos", 200)
    assert line["duration_ms"] > 0

    form = client.get(f"/videos/{video_id}/edit")
    fields = dict(submitted_fields(form.body, "video-form"))
    fields["title"] = "Edited through the cluster"
    saved = client.post(f"/videos/{video_id}/edit", fields)
    assert saved.status == 302, saved.body[:1000]
    # The form's CSRF token came from one instance and was accepted by the other.
    assert cluster.served_by(form.request_id) != cluster.served_by(saved.request_id)
    page = client.get(f"/videos/{video_id}")
    assert "Edited through the cluster" in page.body
    rows = committed(
        cluster,
        select(MetadataSync.changes, MetadataSync.user_id).where(
            MetadataSync.entity_key == video_id, MetadataSync.action == "update"
        ),
    )
    assert rows == [({"title": ["Before the cluster", "Edited through the cluster"]}, editor.id)]


def test_a_report_uploaded_on_one_instance_is_imported_by_a_worker_even_one_that_dies(
    cluster, editor
):
    client = signed_in(cluster, editor.email)
    token = csrf_token(client.get("/reports").body)
    uploaded = client.post_file("/reports", {"csrf_token": token}, "file", A2,
                                sample(A2).read_bytes())  # fmt: skip
    assert uploaded.status == 302, uploaded.body[:1000]
    report_id = int(uploaded.headers["Location"].rsplit("/", 1)[1])
    confirmed = client.post(f"/reports/{report_id}/confirm", {"csrf_token": token})
    assert confirmed.status == 302
    assert cluster.served_by(uploaded.request_id) != cluster.served_by(confirmed.request_id)

    # The first worker to reach the middle of the import kills itself (tests/cluster/
    # worker_app.py); the other finds its job stalled and runs it again, to the end.
    def state():
        return committed(
            cluster,
            select(Report.status, Report.created_count, ProcessingQueue.status,
                   ProcessingQueue.retry_count)
            .join(ProcessingQueue, ProcessingQueue.report_id == Report.id)
            .where(Report.id == report_id, ProcessingQueue.task_type == "report_import"),
        )[0]  # fmt: skip

    def dead():
        return [name for name in ("worker1", "worker2") if not cluster.processes[name].running]

    wait_for(dead, 30, "a worker to die mid-import")
    assert cluster.die_marker.exists()
    wait_for(lambda: state()[0] == "completed", 45, "the other worker to finish the import")
    assert len(dead()) == 1
    assert state() == ("completed", 4, "completed", 1)
    created = committed(cluster, select(func.count()).select_from(MetadataSync).where(
        MetadataSync.report_id == report_id, MetadataSync.action == "create",
        MetadataSync.entity_type == "video",
    ))  # fmt: skip
    assert created[0][0] == 4  # once: the dead worker's writes were never committed
    # Both workers logged the job with the request id of the confirmation that queued it.
    for name in ("worker1", "worker2"):
        assert confirmed.request_id in cluster.processes[name].output(), name
    cluster.start_worker(dead()[0])  # whole again for the next tests


def test_the_sign_in_throttle_counts_per_account_across_instances(cluster):
    person = committed_user(cluster.seed_app, "viewer")
    limit = cluster.seed_app.config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT"]
    client = Client(cluster.ports["haproxy"])
    served = []
    # One form, posted again and again: round robin sends each post to the other instance.
    token = csrf_token(client.get("/login").body)
    for _ in range(limit):
        answer = client.post(
            "/login", {"email": person.email, "password": "wrong password!", "csrf_token": token}
        )
        assert answer.status == 200  # the form again, with the generic message
        served.append(cluster.served_by(answer.request_id))
    assert set(served) == {"web1", "web2"}
    for _ in range(2):  # the right password now, on one instance and then the other
        answer = client.post(
            "/login", {"email": person.email, "password": TEST_PASSWORD, "csrf_token": token}
        )
        assert answer.status == 429, answer.body[:500]
        assert "Too many failed sign-ins" in answer.body
        served.append(cluster.served_by(answer.request_id))
    assert set(served[-2:]) == {"web1", "web2"}
    failures = committed(cluster, select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.email == person.email, LoginAttempt.succeeded.is_(False)
    ))  # fmt: skip
    assert failures[0][0] == limit


def test_stopping_an_instance_mid_run_fails_no_request(cluster, editor):
    clients = [signed_in(cluster, editor.email) for _ in range(4)]
    answers: list = []
    lock = threading.Lock()
    half_done = threading.Event()
    stopped = threading.Event()

    def browse(client: Client) -> None:
        for n in range(40):
            answer = client.get("/videos" if n % 2 else "/health/ready")
            with lock:
                answers.append((stopped.is_set(), answer))
                if len(answers) >= 40:
                    half_done.set()

    with ThreadPoolExecutor(len(clients)) as pool:
        runs = [pool.submit(browse, client) for client in clients]
        assert half_done.wait(60)
        cluster.processes["web1"].kill()  # no warning: SIGKILL to gunicorn and its workers
        stopped.set()
        for run in runs:
            run.result()
    failed = [(answer.status, answer.body[:200]) for _, answer in answers if answer.status != 200]
    assert not failed
    later = [answer for after, answer in answers if after]
    assert len(later) >= 40
    # Once the kill is seen, everything goes to the other instance.
    assert {cluster.served_by(answer.request_id) for answer in later[-10:]} == {"web2"}
    cluster.start_web("web1")
    wait_for(cluster._both_up, 30, "HAProxy to send requests to web1 again")


def test_both_instances_answer_503_while_postgresql_restarts_and_recover(cluster, editor):
    client = signed_in(cluster, editor.email)
    assert client.get("/videos").status == 200
    direct = {name: Client(cluster.ports[name]) for name in ("web1", "web2")}
    for other in direct.values():
        other.cookies = dict(client.cookies)

    cluster.postgres.stop()
    try:
        for name, other in direct.items():
            page = other.get("/videos")
            assert page.status == 503, (name, page.status, page.body[:300])
            assert "briefly unavailable" in page.body
            assert page.request_id in page.body  # quotable
            ready = other.get("/health/ready")
            assert (ready.status, ready.headers["Content-Type"]) == (503, "application/json")
            # As a supervisor asks it: no session, so nothing asks the database.
            assert Client(cluster.ports[name]).get("/health/live").status == 200
        assert client.get("/videos").status == 503  # HAProxy: no instance is ready
    finally:
        cluster.postgres.start()

    wait_for(lambda: client.get("/videos").status == 200, 30, "the cluster to recover")
    for name, other in direct.items():
        assert other.get("/videos").status == 200, name
        assert other.get("/health/ready").status == 200, name
