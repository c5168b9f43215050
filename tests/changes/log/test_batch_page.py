"""A batch's own page (/audit/batch/<id>): where a bulk edit's "Undo" leads. Editors may open
it, and undo from it, for batches of video changes; the rest of the log stays theirs not."""

import re

import pytest
from sqlalchemy import select

from catalog import audit
from catalog.models import Video
from tests.changes.log.conftest import bulk_edit
from tests.factories.audit import record_batch
from tests.helpers import csrf_token


def test_an_editor_opens_a_bulk_edits_page_and_undoes_it(
    app, client, db_session, sign_in_as, videos, people
):
    sign_in_as("editor")
    batch = bulk_edit(app, videos[:3], people.editor, label="Bulk label")
    html = client.get(f"/audit/batch/{batch}").get_data(as_text=True)
    assert "<html" in html  # a page of its own, not the fragment /audit swaps in
    assert "A bulk edit" in html
    assert f"By {people.editor.email}" in html
    assert "3 videos changed" in html
    assert all(f'href="/videos/{v.video_id}"' in html for v in videos[:3])
    assert html.count('<span class="new">Bulk label</span>') == 3
    assert 'href="/audit?' not in html  # nothing that leads into the log itself
    undo = f'href="/audit/batch/{batch}/undo"'
    assert undo in html

    page = client.get(f"/audit/batch/{batch}/undo").get_data(as_text=True)
    seen = re.search(r'name="seen" value="(\d+)"', page).group(1)
    token = csrf_token(client.get("/videos"))
    response = client.post(f"/audit/batch/{batch}/undo", data={"csrf_token": token, "seen": seen})
    assert response.status_code == 302
    labels = db_session.scalars(
        select(Video.label).where(Video.id.in_([v.id for v in videos[:3]]))
    ).all()
    assert labels == [None, None, None]
    assert client.get("/audit").status_code == 403  # the log itself stays closed


def test_an_editor_reaches_the_batch_page_from_a_videos_history(
    app, client, db_session, sign_in_as, videos, people
):
    sign_in_as("editor")
    batch = bulk_edit(app, videos[:2], people.editor, label="Bulk")
    html = client.get(f"/videos/{videos[0].video_id}").get_data(as_text=True)
    assert f'href="/audit/batch/{batch}">part of a batch</a>' in html
    assert f"/audit?batch={batch}" not in html


def test_an_auditor_sees_the_page_with_the_way_into_the_log_and_no_undo(
    app, client, db_session, sign_in_as, videos, people
):
    sign_in_as("auditor")
    batch = bulk_edit(app, videos[:2], people.editor, label="Bulk")
    html = client.get(f"/audit/batch/{batch}").get_data(as_text=True)
    assert f'href="/audit?batch={batch}">All 2 changes' in html
    assert f"/audit/batch/{batch}/undo" not in html


@pytest.mark.parametrize(("role", "status"), [("editor", 403), ("auditor", 200), ("viewer", 403)])
def test_a_batch_of_other_changes_is_for_readers_of_the_log_only(
    app, client, db_session, sign_in_as, people, role, status
):
    sign_in_as(role)
    rows = [
        audit.entity_row(
            "user",
            user.id,
            user.email,
            action="update",
            changes={"active": [True, False]},
            source="web",
            actor=None,
        )
        for user in (people.editor, people.other)
    ]
    batch = record_batch(app, rows)
    response = client.get(f"/audit/batch/{batch}")
    assert response.status_code == status
    if status == 403:
        assert people.other.email not in response.get_data(as_text=True)
