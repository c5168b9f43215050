"""Importing a report in a real browser: upload, see the preview, confirm, and watch the
progress until the worker (a real worker process) has imported it."""

import os
import subprocess

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import MetadataSync
from tests.browser.conftest import sign_in
from tests.jobs.conftest import FLASK, JOB_SETTINGS, ROOT

pytestmark = pytest.mark.browser

HEADER = "video_id,channel_id,channel_display_name,video_title,views,video_privacy_status"


@pytest.fixture
def reports_dir(live_app, tmp_path, monkeypatch):
    directory = tmp_path / "reports"
    monkeypatch.setitem(live_app.config, "REPORTS_DIR", str(directory))
    return directory


@pytest.fixture
def worker(live_app, reports_dir, tmp_path):
    """Starts a worker process on the live server's database when called."""
    processes = []

    def start():
        env = {
            **os.environ, **JOB_SETTINGS, "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": live_app.config["SQLALCHEMY_DATABASE_URI"],
            "REPORTS_DIR": str(reports_dir),
        }  # fmt: skip
        log = (tmp_path / "worker.log").open("w")
        processes.append(
            subprocess.Popen(  # noqa: S603  (our own venv's flask, fixed arguments)
                [FLASK, "--app", "tests.reports.worker_app", "catalog", "worker"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=15)
    if (tmp_path / "worker.log").exists():
        print((tmp_path / "worker.log").read_text()[-4000:])


def test_upload_a_report_and_watch_it_being_imported(
    page, live_server, live_app, live_data, reports_dir, worker, tmp_path
):
    tag = live_data.tag
    channel = f"UC{tag}".ljust(24, "r")
    lines = [HEADER] + [
        f"r{tag}{n:04d},{channel},Report {tag} Records,Imported song {n},{n * 10},public"
        for n in range(30)
    ]
    lines.append(f"r{tag}bad,{channel},Report {tag} Records,Bad id,1,public")
    path = tmp_path / f"video_report_{tag}.csv"
    path.write_text("\n".join(lines) + "\n")
    csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and csp_violations.append(m))

    sign_in(page, live_server, live_data.user("editor"))
    page.get_by_role("link", name="Reports").click()
    page.get_by_label("Report file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and check").click()

    # The preview: nothing has changed yet.
    expect(page.get_by_test_id("preview-counts").locator("[data-count=created]")).to_have_text("30")
    expect(page.get_by_test_id("row-errors")).to_contain_text("not a YouTube video id")
    expect(page.get_by_test_id("report-status")).to_have_text("checked, awaiting confirmation")

    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("report-status")).to_have_text("queued")
    worker()
    # The page follows the job by itself (htmx) and shows the outcome when it is done.
    expect(page.get_by_test_id("report-status")).to_have_text("completed", timeout=30_000)
    expect(page.get_by_test_id("outcome").locator("[data-count=created]")).to_have_text("30")
    expect(page.get_by_test_id("outcome").locator("[data-count=failed]")).to_have_text("1")
    assert csp_violations == []

    with live_app.app_context():
        audit = db.session.scalar(
            select(func.count())
            .select_from(MetadataSync)
            .where(MetadataSync.source == "report", MetadataSync.entity_key.like(f"r{tag}%"))
        )
        assert audit == 30


# The report page's own content that reaches past the window's right edge (the navigation
# bar is the layout's, and collapsing it is another change).
WIDER_THAN_THE_WINDOW = """
[...document.querySelectorAll("main *")]
  .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter((e) => !e.closest(".table-responsive") || e.classList.contains("table-responsive"))
  .map((e) => e.tagName + "." + e.className)
"""


@pytest.mark.parametrize("width", [390, 1280])
def test_unreadable_values_are_listed_and_a_file_that_changes_nothing_is_not_offered(
    page, live_server, live_data, reports_dir, tmp_path, width
):
    tag = live_data.tag
    new_id = f"u{tag}".ljust(11, "u")[:11]
    path = tmp_path / f"catalog_{tag}_{width}.csv"
    # A long unbroken value as well: the page must not scroll sideways at either width.
    path.write_text(f"video_id,title,published_at\n{new_id},{'x' * 90},2025-02-30{'9' * 80}\n")
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": width, "height": 844})

    sign_in(page, live_server, live_data.user("editor"))
    page.goto(f"{live_server}/reports")
    page.get_by_label("Report file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and check").click()

    warnings = page.get_by_test_id("warnings")
    expect(warnings).to_contain_text("published_at")
    expect(warnings).to_contain_text("the new video gets none")
    expect(page.get_by_test_id("confirm")).to_be_visible()  # it creates a video
    assert page.evaluate(WIDER_THAN_THE_WINDOW) == []

    # A file whose import would change nothing (its one row is refused) is not offered.
    page.goto(f"{live_server}/reports")
    same = tmp_path / f"same_{tag}_{width}.csv"
    same.write_text("video_id,title\nnot an id,A title\n")
    page.get_by_label("Report file").set_input_files(str(same))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_test_id("nothing-to-import")).to_be_visible()
    expect(page.get_by_test_id("confirm")).to_have_count(0)
    assert errors == []
