"""Undo is a blueprint of its own (catalog.revert), apart from reading the log
(catalog.changes): the same URLs, endpoints named after their templates, modules of one job
each, posts read by forms, and field labels from one constant."""

import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from catalog.models import MetadataSync
from catalog.videos import forms as video_forms
from tests.factories import VideoFactory
from tests.helpers import csrf_token
from tests.html_forms import submitted_fields

ROOT = Path(__file__).resolve().parents[2]
BATCH = uuid.UUID(int=1)


@pytest.mark.parametrize(
    ("url", "method", "endpoint"),
    [
        ("/videos/abcdefghijk/as-of", "GET", "revert.as_of"),
        ("/audit/7/revert", "POST", "revert.revert_change"),
        ("/audit/7/restore", "POST", "revert.restore_video"),
        ("/videos/abcdefghijk/restore-to", "POST", "revert.restore_to"),
        (f"/audit/batch/{BATCH}/undo", "POST", "revert.undo_batch"),
        (f"/audit/batch/{BATCH}", "GET", "changes.batch"),
        ("/audit", "GET", "changes.index"),
    ],
)
def test_undo_pages_keep_their_urls_in_a_blueprint_of_their_own(app, url, method, endpoint):
    matched, _args = app.url_map.bind("localhost").match(url, method)
    assert matched == endpoint
    if endpoint.startswith("revert."):
        # Endpoint names mirror template paths.
        assert (ROOT / "templates" / "revert" / f"{endpoint.split('.')[1]}.html").is_file()


def test_no_module_of_the_log_or_of_undo_is_over_500_lines():
    for package in ("changes", "revert"):
        for path in (ROOT / "catalog" / package).glob("*.py"):
            lines = len(path.read_text().splitlines())
            assert lines <= 500, (path.name, lines)


def test_labels_are_the_edit_forms_own(app):
    with app.test_request_context():
        form = video_forms.VideoForm(formdata=None, meta={"csrf": False})
        shown = {f.name: getattr(f, "plain_label", f.label.text) for f in form}
    shown = {name: label for name, label in shown.items() if name not in ("version", "time_zone")}
    assert shown.items() <= video_forms.LABELS.items()
    assert video_forms.LABELS["channel_display_name"] == "Channel name"


def test_undo_pages_name_fields_without_building_a_video_form(
    client, db_session, sign_in_as, monkeypatch
):
    sign_in_as("editor")
    video = VideoFactory(other_owners_claiming=None)
    change = MetadataSync(
        entity_type="video", entity_id=video.id, entity_key=video.video_id, action="update",
        source="web", video_title=video.title,
        changes={"other_owners_claiming": ["Before", None]},
    )  # fmt: skip
    db_session.add(change)
    db_session.flush()

    def built(*args, **kwargs):
        raise AssertionError("a page built a whole VideoForm to read its labels")

    monkeypatch.setattr(video_forms.VideoForm, "__init__", built)
    response = client.get(f"/audit/{change.id}/revert")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r'data-key="other_owners_claiming">\s*<td>Other owners claiming</td>', page)


def test_an_undo_post_without_what_its_preview_showed_is_refused(client, db_session, sign_in_as):
    """The forms read the version (and the batch's chain position) the preview wrote: a post
    without it, or with something else in its place, did not come from the page."""
    sign_in_as("editor")
    video = VideoFactory(title="Now")
    batch_id = uuid.uuid4()
    change = MetadataSync(
        entity_type="video", entity_id=video.id, entity_key=video.video_id, action="update",
        source="bulk", video_title=video.title, changes={"title": ["Before", "Now"]},
        batch_id=batch_id, batch_size=1,
    )  # fmt: skip
    db_session.add(change)
    db_session.flush()
    token = csrf_token(client.get("/videos"))
    posts = [
        (f"/audit/{change.id}/revert", {"choice-title": "restore"}),
        (f"/audit/{change.id}/revert", {"choice-title": "restore", "version": "one"}),
        (f"/audit/batch/{batch_id}/undo", {}),
        (f"/audit/batch/{batch_id}/undo", {"seen": "later"}),
    ]
    for url, data in posts:
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 400, (url, data)
    db_session.expire_all()
    assert video.title == "Now"
    assert db_session.scalar(select(func.count()).where(MetadataSync.source == "revert")) == 0


def test_the_undo_pages_stay_under_changes_in_the_navigation(client, db_session, sign_in_as):
    sign_in_as("auditor")
    video = VideoFactory()
    db_session.flush()
    page = client.get(f"/videos/{video.video_id}/as-of?at=2030-01-01T00:00")
    assert page.status_code == 200
    assert 'class="nav-link active" href="/audit"' in page.get_data(as_text=True)


def _posted(client, page_url: str, action: str) -> MultiDict:
    """The undo form of the page at `page_url` as a browser would post it, untouched."""
    html = client.get(page_url).get_data(as_text=True)
    start = html.index(f'<form method="post" action="{action}"')
    return MultiDict(submitted_fields(html[start:]))


def test_each_undo_form_posts_as_rendered(client, db_session, sign_in_as):
    """What the pages render is what the forms read: the version and chain position come
    through once, as the preview wrote them (not shadowed by an empty copy)."""
    sign_in_as("editor")
    first, second, third = VideoFactory.create_batch(3, title="Now")
    batch_id = uuid.uuid4()
    for video in (first, second):
        db_session.add(MetadataSync(
            entity_type="video", entity_id=video.id, entity_key=video.video_id,
            action="update", source="bulk", video_title=video.title,
            changes={"title": ["Before", "Now"]}, batch_id=batch_id, batch_size=2,
        ))  # fmt: skip
    change = MetadataSync(
        entity_type="video", entity_id=third.id, entity_key=third.video_id, action="update",
        source="web", video_title=third.title, changes={"title": ["Before", "Now"]},
    )  # fmt: skip
    db_session.add(change)
    db_session.flush()
    restore = f"/videos/{third.video_id}/restore-to"
    at = "2000-01-01T00:00:00+00:00"
    fields = _posted(client, f"{restore}?at={at}", restore)
    assert fields.getlist("version") == [str(third.version)]
    revert = f"/audit/{change.id}/revert"
    response = client.post(revert, data=_posted(client, revert, revert))
    assert response.status_code == 302
    undo = f"/audit/batch/{batch_id}/undo"
    response = client.post(undo, data=_posted(client, undo, undo))
    assert response.status_code == 302
    db_session.expire_all()
    assert [first.title, second.title, third.title] == ["Before"] * 3
