"""The Queue page: counts, filters, paging, errors; retry and cancel through the forms."""

import re

import pytest
from sqlalchemy import insert, text

from catalog.extensions import db
from catalog.jobs import enqueue
from catalog.models import MetadataSync, ProcessingQueue
from catalog.queue import queries
from tests.factories import VideoFactory
from tests.helpers import csrf_token
from tests.jobs import tasks  # noqa: F401  (the test task types)


def _enqueue(app, task_type: str, payload: dict | None = None, **options) -> int:
    with app.app_context():
        entry = enqueue(task_type, payload or {}, **options)
        db.session.commit()
        return entry.id


def _entries(db_session, rows: list[dict]) -> None:
    """Entries as a worker would have left them (no engine job behind them)."""
    db_session.execute(insert(ProcessingQueue), rows)
    db_session.flush()


def _row_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-testid="queue-row" data-entry="(\d+)"', html)]


def test_counts_filters_and_errors(client, db_session, sign_in_as):
    sign_in_as("viewer")
    video = VideoFactory(title="Queued Song")
    _entries(db_session, [
        {"task_type": "metadata_sync", "status": "failed", "video_id": video.id,
         "error_message": "HTTPError: quota exceeded for today", "retry_count": 4},
        {"task_type": "metadata_sync", "status": "completed", "result": {"changed": 3}},
        {"task_type": "report_import", "status": "pending"},
        {"task_type": "report_import", "status": "processing"},
    ])  # fmt: skip
    html = client.get("/queue").get_data(as_text=True)
    assert re.search(r'data-testid="count-failed">Failed <span[^>]*>1<', html)
    assert re.search(r'data-testid="count-pending">Pending <span[^>]*>1<', html)
    assert "HTTPError: quota exceeded for today" in html
    assert "Queued Song" in html
    assert "&#34;changed&#34;: 3" in html or '"changed": 3' in html
    assert 'hx-trigger="every 5s"' in html  # work in progress: the page refreshes itself
    assert "Retry" not in html  # viewers change nothing

    html = client.get("/queue?status=failed").get_data(as_text=True)
    assert len(_row_ids(html)) == 1
    assert "quota exceeded" in html

    html = client.get("/queue?type=report_import").get_data(as_text=True)
    assert len(_row_ids(html)) == 2
    # The counts follow the type filter, whatever the status filter.
    assert re.search(r'data-testid="count-failed">Failed <span[^>]*>0<', html)
    assert client.get("/queue?status=bogus&after=x").status_code == 200


def test_keyset_paging(client, db_session, sign_in_as, monkeypatch):
    monkeypatch.setattr(queries, "PAGE_SIZE", 3)
    sign_in_as("viewer")
    _entries(db_session, [{"task_type": "metadata_sync", "status": "completed"}] * 7)
    first = client.get("/queue?status=completed").get_data(as_text=True)
    ids = _row_ids(first)
    assert len(ids) == 3
    assert ids == sorted(ids, reverse=True)
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(older).get_data(as_text=True)
    ids2 = _row_ids(second)
    assert len(ids2) == 3
    assert max(ids2) < min(ids)
    newer = re.search(r'rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    assert _row_ids(client.get(newer).get_data(as_text=True)) == ids


def test_editor_retries_a_failed_entry(app, client, db_session, sign_in_as):
    user = sign_in_as("editor")
    entry_id = _enqueue(app, "test_echo", {"message": "again"})
    db_session.execute(
        text("UPDATE processing_queue SET status = 'failed', retry_count = 2 WHERE id = :i"),
        {"i": entry_id},
    )
    old_job = db_session.get(ProcessingQueue, entry_id).job_id
    token = csrf_token(client.get("/queue"))
    assert "Retry" in client.get("/queue").get_data(as_text=True)
    response = client.post(
        "/queue/retry",
        data={"csrf_token": token, "entry_id": entry_id, "next": "/queue?status=failed"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/queue?status=failed"
    assert "is queued to run again" in client.get("/queue").get_data(as_text=True)
    db_session.expire_all()
    entry = db_session.get(ProcessingQueue, entry_id)
    assert (entry.status, entry.retry_count) == ("pending", 2)
    assert entry.job_id != old_job
    job = db_session.execute(
        text("SELECT status::text, args FROM procrastinate_jobs WHERE id = :j"), {"j": entry.job_id}
    ).one()
    # The job carries the id of the request that queued it, for the worker's log lines.
    assert tuple(job) == (
        "todo",
        {"entry_id": entry_id, "request_id": response.headers["X-Request-ID"]},
    )
    audit = db_session.scalars(
        db.select(MetadataSync).where(MetadataSync.entity_type == "queue_entry")
    ).one()
    assert (audit.user_id, audit.changes["status"]) == (user.id, ["failed", "pending"])


def test_editor_cancels_a_pending_entry(app, client, db_session, sign_in_as):
    sign_in_as("editor")
    entry_id = _enqueue(app, "test_echo")
    token = csrf_token(client.get("/queue"))
    response = client.post("/queue/cancel", data={"csrf_token": token, "entry_id": entry_id})
    assert response.status_code == 303
    assert response.headers["Location"] == "/queue"
    db_session.expire_all()
    entry = db_session.get(ProcessingQueue, entry_id)
    assert entry.status == "cancelled"
    status = db_session.scalar(
        text("SELECT status::text FROM procrastinate_jobs WHERE id = :j"), {"j": entry.job_id}
    )
    assert status == "cancelled"

    # Cancelling it again is refused with a reason; nothing changes.
    client.post("/queue/cancel", data={"csrf_token": token, "entry_id": entry_id})
    assert "Only pending work can be cancelled" in client.get("/queue").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "status"),
    [({"entry_id": "999999999"}, 404), ({"entry_id": "x"}, 404), ({}, 404)],
)
def test_actions_on_missing_entries(client, db_session, sign_in_as, data, status):
    sign_in_as("editor")
    token = csrf_token(client.get("/queue"))
    assert client.post("/queue/retry", data={"csrf_token": token, **data}).status_code == status


@pytest.mark.parametrize(
    ("role", "with_token", "status"), [("auditor", True, 403), ("editor", False, 400)]
)
def test_actions_need_edit_rights_and_the_csrf_token(
    app, client, db_session, sign_in_as, role, with_token, status
):
    sign_in_as(role)
    entry_id = _enqueue(app, "test_echo")
    data = {"csrf_token": csrf_token(client.get("/queue"))} if with_token else {}
    response = client.post("/queue/cancel", data={**data, "entry_id": entry_id})
    assert response.status_code == status
    db_session.expire_all()
    assert db_session.get(ProcessingQueue, entry_id).status == "pending"


def test_an_offsite_next_is_ignored(app, client, db_session, sign_in_as):
    sign_in_as("editor")
    entry_id = _enqueue(app, "test_echo")
    token = csrf_token(client.get("/queue"))
    response = client.post(
        "/queue/cancel",
        data={"csrf_token": token, "entry_id": entry_id, "next": "//evil.example/queue"},
    )
    assert response.headers["Location"] == "/queue"


def test_navigation_shows_the_queue(client, db_session, sign_in_as):
    sign_in_as("viewer")
    assert 'href="/queue"' in client.get("/videos").get_data(as_text=True)
