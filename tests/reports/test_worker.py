"""Imports by real worker processes on a database of their own (committed data): upload,
check, confirm, a worker imports; two imports of one report at once; a worker killed in the
middle of an import, whose job another worker then runs again."""

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from catalog import create_app
from catalog.extensions import db
from catalog.models import MetadataSync, ProcessingQueue, Report, Video
from catalog.reports import service
from tests.conftest import app_config, migrated_database, worker_database
from tests.factories import committed_user
from tests.helpers import csrf_token, sign_in, signed_in
from tests.jobs.conftest import Workers, wait_for
from tests.reports.conftest import sample

A2 = "youtube_video_report_a2.csv"
# Per xdist worker: this module's tests may run on several workers at once.
TEMPLATE, DATABASE = worker_database("catalog_reports_template"), worker_database("catalog_reports")


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("reports")


@pytest.fixture(scope="module")
def worker_app(postgres, shared_dir):
    # A migrated template, copied afresh for each test (see empty_catalog).
    migrated_database(postgres, "catalog_reports_template")  # named TEMPLATE
    url = postgres.url(DATABASE)
    app = create_app({**app_config(url), "REPORTS_DIR": str(shared_dir)})
    app.config["DATABASE_URL_FOR_WORKERS"] = url
    return app


@pytest.fixture(autouse=True)
def empty_catalog(postgres, worker_app):
    """Each test starts from an empty catalog of its own: this database keeps what tests
    commit, and audit rows cannot be deleted, so it is made again from the template."""
    with worker_app.app_context():
        db.engine.dispose()
    postgres.drop_database(DATABASE)
    postgres.create_database(DATABASE, template=TEMPLATE)


@pytest.fixture
def workers(worker_app, shared_dir, tmp_path):
    """Worker processes of tests.reports.worker_app; logs printed when a test fails."""
    url = worker_app.config["DATABASE_URL_FOR_WORKERS"]
    pool = Workers(url, tmp_path, "tests.reports.worker_app", REPORTS_DIR=str(shared_dir))
    yield pool
    pool.stop_all()
    pool.dump()


def upload_and_confirm(app) -> tuple[int, SimpleNamespace]:
    """Through the pages, as an editor: upload the sample, then confirm it."""
    person = committed_user(app, "editor")
    client = app.test_client()
    assert signed_in(sign_in(client, person))
    token = csrf_token(client.get("/reports"))
    response = client.post(
        "/reports",
        data={"csrf_token": token, "file": (sample(A2).open("rb"), A2)},
        content_type="multipart/form-data",
    )
    report_id = int(response.headers["Location"].rsplit("/", 1)[1])
    html = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert 'data-count="created">4<' in html
    response = client.post(f"/reports/{report_id}/confirm", data={"csrf_token": token})
    assert response.status_code == 302
    return report_id, person


def snapshot(app, report_id: int) -> SimpleNamespace:
    with app.app_context():
        report = db.session.get(Report, report_id)
        entry = db.session.scalars(
            select(ProcessingQueue).where(ProcessingQueue.report_id == report_id)
        ).one()
        videos = db.session.scalar(select(func.count()).select_from(Video))
        rows = db.session.scalars(
            select(MetadataSync).where(MetadataSync.entity_type == "video")
        ).all()
        return SimpleNamespace(
            status=report.status, created=report.created_count, failed=report.failed_count,
            entry=entry.status, retries=entry.retry_count, videos=videos,
            audit=[(r.entity_key, r.action, r.source, r.report_id, r.user_id) for r in rows],
        )  # fmt: skip


def test_a_worker_process_imports_a_confirmed_report(worker_app, workers):
    report_id, person = upload_and_confirm(worker_app)
    workers.start()
    state = wait_for(
        lambda: (s := snapshot(worker_app, report_id)).status == s.entry == "completed" and s,
        timeout=30, message="the report to be imported",
    )  # fmt: skip
    assert (state.created, state.failed, state.videos, state.entry) == (4, 2, 4, "completed")
    assert sorted(state.audit) == [
        (video_id, "create", "report", report_id, person.id)
        for video_id in ("vidAAAAAAA1", "vidBBBBBBB2", "vidCCCCCCC3", "vidFFFFFFF6")
    ]


def test_a_worker_killed_mid_import_leaves_nothing_and_the_job_runs_again(worker_app, workers):
    report_id, _person = upload_and_confirm(worker_app)
    dying = workers.start(REPORTS_TEST_DIE_IN_APPLY="1")
    dying.wait(timeout=30)
    assert dying.returncode == -9  # killed after writing, before committing
    state = snapshot(worker_app, report_id)
    assert (state.videos, state.audit, state.entry) == (0, [], "processing")
    assert state.status == "processing"  # what people saw while it ran

    workers.start()  # finds the dead worker's job stalled and runs it again
    state = wait_for(
        lambda: (s := snapshot(worker_app, report_id)).status == s.entry == "completed" and s,
        timeout=40, message="the retried import",
    )  # fmt: skip
    assert (state.videos, len(state.audit), state.retries) == (4, 4, 1)


def test_two_imports_of_one_report_at_once_import_it_once(worker_app, shared_dir):
    with worker_app.app_context():
        with sample(A2).open("rb") as stream:
            report = service.create_report(stream, A2, actor=None)
        service.preview_report(report)
        db.session.commit()
        report_id = report.id

    barrier, results, errors = threading.Barrier(2), [], []

    def run():
        try:
            with worker_app.app_context():
                mine = db.session.get(Report, report_id)
                barrier.wait()
                results.append(service.apply_report(mine, actor=None))
                db.session.commit()
        except Exception as exc:  # shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(r.already_done for r in results) == [False, True]
    with worker_app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(MetadataSync)
                .where(MetadataSync.entity_type == "video")
            )
            == 4
        )
        assert db.session.get(Report, report_id).created_count == 4
