"""The Changes page (/audit): readable diffs, batches as one line, the batch fragment and
filter, keyset paging across batches, and the batch link in an entity's own history."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from catalog import audit
from catalog.changes import queries
from tests.changes.log.conftest import bulk_edit
from tests.factories.audit import record, record_batch, video_change

ROW = re.compile(
    r'<tr data-testid="change-row"[^>]*>(.*?)</tr>\s*(?=<tr data-testid|</tbody>)', re.S
)
MINUS = "\N{MINUS SIGN}"

HTMX = {"HX-Request": "true"}  # how htmx asks: the fragment, not the page


def shown_rows(html: str) -> list[str]:
    """The change rows of a page (a batch's line is one), in page order."""
    return ROW.findall(html)


def link(html: str, rel: str) -> str | None:
    match = re.search(rf'rel="{rel}" href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def test_an_update_shows_each_field_before_and_after(app, client, db_session, sign_in_as, videos):
    sign_in_as("auditor")
    old_note = "Cleared for every territory except the ones listed in the contract annex B."
    new_note = "Cleared for every territory except the ones listed in the contract annex C."
    record(app, video_change(videos[0], {
        "label": ["Old Label", "New Label"], "notes": [old_note, new_note],
        "artist": [["Ann", "Bob"], ["Bob", "Cy"]], "field:Mood": ["calm", "wild"],
    }))  # fmt: skip

    html = client.get(f"/audit?video={videos[0].video_id}").get_data(as_text=True)
    (row,) = shown_rows(html)
    assert re.search(
        r'<th scope="row"[^>]*>label</th>\s*<td class="before"><span class="old">Old Label'
        r'</span></td>\s*<td class="after"><span class="new">New Label</span></td>', row
    )  # fmt: skip
    # The long note as a word diff: only the changed word marked, the rest as context.
    assert '<del class="diff-removed">B</del><ins class="diff-added">C</ins>' in row
    assert old_note not in row
    assert f'<span class="diff-item diff-removed">{MINUS} Ann</span>' in row
    assert '<span class="diff-item diff-added">+ Cy</span>' in row
    assert "Bob" not in row  # kept in the list: neither added nor removed
    assert re.search(r">Mood <span[^>]*>custom field</span></th>", row)
    assert "field:Mood" not in row.replace('title="field:Mood"', "")


def test_html_in_values_stays_text(app, client, db_session, sign_in_as, videos):
    sign_in_as("auditor")
    payload = "<script>alert(1)</script> and some more words to make this a long text diff"
    record(app, video_change(videos[0], {
        "notes": [payload, payload.replace("alert(1)", "alert(2)")],
        "label": ["<b>bold</b>", "<i>x</i>"], "artist": [[], ["<img src=x onerror=y>"]],
    }))  # fmt: skip

    html = client.get(f"/audit?video={videos[0].video_id}").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "<b>bold</b>" not in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=y&gt;" in html
    assert '<del class="diff-removed">1</del><ins class="diff-added">2</ins>' in html
    assert "&lt;script&gt;alert(" in html


def test_creates_show_starting_values_and_deletes_the_last(
    app, client, db_session, sign_in_as, videos
):
    sign_in_as("auditor")
    record(
        app,
        video_change(videos[1], {"title": [None, "Born"]}, action="create"),
        video_change(videos[1], {"title": ["Gone", None]}, action="delete"),
    )
    html = client.get(f"/audit?video={videos[1].video_id}").get_data(as_text=True)
    deleted, created = shown_rows(html)  # newest first
    assert '<td class="value" colspan="2">Gone</td>' in deleted
    assert '<td class="value" colspan="2">Born</td>' in created
    assert "Last value" in deleted
    assert "empty" not in created + deleted


def test_a_bulk_edit_is_one_line_among_single_changes(
    app, client, db_session, sign_in_as, videos, people
):
    sign_in_as("auditor")
    record(app, video_change(videos[3], {"label": ["a", "b"]}, actor=people.editor))
    batch = bulk_edit(app, videos[:3], people.editor, privacy_status="private", label="Bulk")
    record(app, video_change(videos[4], {"label": ["c", "d"]}, actor=people.editor))

    html = client.get(f"/audit?user={people.editor.id}").get_data(as_text=True)
    newest, line, oldest = shown_rows(html)
    assert "vidAudit004" in newest
    assert "vidAudit003" in oldest
    assert "batch-line" in html
    assert 'data-testid="batch-size">3 videos</td>' in line
    assert people.editor.email in line
    assert ">bulk<" in line
    assert re.search(r">label</span>, <span[^>]*>privacy status<", line)
    assert f'hx-get="/audit/batch/{batch}"' in line
    assert f'href="/audit?batch={batch}"' in line
    for key in ("vidAudit000", "vidAudit001", "vidAudit002"):
        assert key not in html  # the batch's videos are behind its line


def test_a_batch_of_one_reads_as_its_change(app, client, db_session, sign_in_as, videos, people):
    sign_in_as("auditor")
    batch = bulk_edit(app, videos[:1], people.editor, label="Alone")
    html = client.get(f"/audit?user={people.editor.id}").get_data(as_text=True)
    (row,) = shown_rows(html)
    assert "batch-line" not in row
    assert "vidAudit000" in row
    assert '<span class="new">Alone</span>' in row
    assert f'href="/audit?batch={batch}">part of a batch</a>' in row


def test_the_batch_fragment_shows_its_first_changes(
    app, client, db_session, sign_in_as, videos, people, monkeypatch
):
    sign_in_as("auditor")
    batch = bulk_edit(app, videos[:3], people.editor, label="Bulk")
    html = client.get(f"/audit/batch/{batch}", headers=HTMX).get_data(as_text=True)
    assert "<html" not in html  # a fragment, swapped into the page
    rows = shown_rows(html)
    assert len(rows) == 3
    assert all('<span class="new">Bulk</span>' in row for row in rows)
    assert [re.search(r"vidAudit\d+", row).group(0) for row in rows] == [
        v.video_id for v in sorted(videos[:3], key=lambda v: v.id)
    ]
    assert f'href="/audit?batch={batch}">All 3 changes' in html
    assert "part of a batch" not in html

    monkeypatch.setattr(queries, "BATCH_PREVIEW", 2)
    html = client.get(f"/audit/batch/{batch}", headers=HTMX).get_data(as_text=True)
    assert len(shown_rows(html)) == 2
    assert "The first 2 of 3 changes." in html
    assert client.get("/audit/batch/00000000-0000-4000-8000-000000000000").status_code == 404


def test_the_batch_filter_shows_each_change(app, client, db_session, sign_in_as, videos, people):
    sign_in_as("auditor")
    batch = bulk_edit(app, videos[:3], people.editor, label="Bulk")
    other = bulk_edit(app, videos[3:], people.editor, label="Other")

    html = client.get(f"/audit?batch={batch}").get_data(as_text=True)
    rows = shown_rows(html)
    assert len(rows) == 3
    assert "batch-line" not in html
    assert sorted(re.search(r"vidAudit\d+", row).group(0) for row in rows) == [
        "vidAudit000", "vidAudit001", "vidAudit002",
    ]  # fmt: skip
    assert str(other) not in html
    assert 'data-testid="batch-filter"' in html
    assert 'name="batch" value="' + str(batch) in html  # kept when other filters change
    # Filtered by video, a batch's row shows individually with a link to its batch.
    html = client.get(f"/audit?video={videos[0].video_id}").get_data(as_text=True)
    (row,) = shown_rows(html)
    assert f'href="/audit?batch={batch}">part of a batch</a>' in row


def test_paging_walks_events_across_batches(
    app, client, db_session, sign_in_as, videos, monkeypatch
):
    """Ten events (four of them batches of 3) over five pages of two; every event once,
    in order, the same pages walking back; rows written later do not shift the pages."""
    auditor = sign_in_as("auditor")
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    expected = []
    for n in range(10):
        at = start + timedelta(minutes=n)
        if n % 3 == 0:
            rows = [video_change(v, {"label": [f"{n}", f"{n}+"]}, at=at, source="bulk",
                                 actor=auditor) for v in videos[:3]]  # fmt: skip
            expected.append(f"batch:{record_batch(app, rows)}")
        else:
            record(app, video_change(videos[4], {"label": [f"{n}", f"{n}+"]}, at=at, actor=auditor))
            expected.append(f"single:{n}")
    expected.reverse()
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)

    def events(html: str) -> list[str]:
        found = []
        for row in shown_rows(html):
            batch = re.search(r'hx-get="/audit/batch/([0-9a-f-]+)"', row)
            single = re.search(r'<span class="new">(\d+)\+</span>', row)
            found.append(f"batch:{batch.group(1)}" if batch else f"single:{single.group(1)}")
        return found

    url, pages, html = f"/audit?user={auditor.id}", [], ""
    while url and len(pages) < 10:
        html = client.get(url).get_data(as_text=True)
        pages.append(events(html))
        if len(pages) == 2:  # a change written meanwhile is newer than every page
            record(app, video_change(videos[4], {"label": ["x", "99+"]}, actor=auditor))
        url = link(html, "next")
    assert [event for page in pages for event in page] == expected
    assert [len(page) for page in pages] == [2, 2, 2, 2, 2]

    # Back from the last page: the same pages, then one more with the new change.
    back, url = [], link(html, "prev")
    while url and len(back) < 10:
        html = client.get(url).get_data(as_text=True)
        back.insert(0, events(html))
        url = link(html, "prev")
    assert back == [["single:99"], *pages[:4]]


@pytest.mark.parametrize(("role", "shown"), [("auditor", True), ("viewer", False)])
def test_a_video_history_links_its_batch_for_audit_readers(
    app, client, db_session, sign_in_as, videos, people, role, shown
):
    sign_in_as(role)
    batch = bulk_edit(app, videos[:2], people.editor, label="Bulk")
    html = client.get(f"/videos/{videos[0].video_id}").get_data(as_text=True)
    assert '<span class="new">Bulk</span>' in html
    assert (f'href="/audit?batch={batch}">part of a batch</a>' in html) is shown


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_audit_readers_see_the_log(client, db_session, sign_in_as, role, app, videos, people):
    sign_in_as(role)
    batch = bulk_edit(app, videos[:2], people.editor, label="Bulk")
    for url in ("/audit", f"/audit?batch={batch}", "/audit/export.csv", "/audit?scope=archive",
                f"/audit/batch/{batch}?scope=archive"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 403, url
        response.close()
    # An editor may open the page of a batch of video changes (to undo it), nothing more.
    expected = 200 if role == "editor" else 403
    assert client.get(f"/audit/batch/{batch}").status_code == expected


@pytest.mark.parametrize(("role", "offered"), [("admin", True), ("auditor", False)])
def test_a_batch_line_offers_its_undo_to_those_who_may_edit(
    app, client, db_session, sign_in_as, videos, people, role, offered
):
    sign_in_as(role)
    batch = bulk_edit(app, videos[:3], people.editor, label="Bulk")
    undo = f'href="/audit/batch/{batch}/undo"'
    html = client.get("/audit").get_data(as_text=True)
    assert (undo in html) is offered
    html = client.get(f"/audit?batch={batch}").get_data(as_text=True)
    assert (undo in html) is offered  # above the batch's rows
    html = client.get(f"/audit?batch={batch}&scope=archive").get_data(as_text=True)
    assert undo not in html  # archived history is not undone


@pytest.mark.parametrize(("role", "offered"), [("editor", True), ("viewer", False)])
def test_a_video_history_offers_to_undo_its_batch_to_editors(
    app, client, db_session, sign_in_as, videos, people, role, offered
):
    sign_in_as(role)
    batch = bulk_edit(app, videos[:2], people.editor, label="Bulk")
    html = client.get(f"/videos/{videos[0].video_id}").get_data(as_text=True)
    assert (f'href="/audit/batch/{batch}/undo"' in html) is offered


def test_with_many_people_the_person_is_typed_by_email(
    app, client, db_session, sign_in_as, videos, people, monkeypatch
):
    sign_in_as("auditor")
    record(app, video_change(videos[1], {"label": ["a", "b"]}, actor=people.editor))
    # A menu of every person up to the limit; beyond it, a box for an email.
    assert 'name="user"><option value="">Anyone</option>' in client.get("/audit").get_data(
        as_text=True
    )
    monkeypatch.setattr(queries, "USER_MENU_LIMIT", 1)
    app.extensions.pop("catalog_menus", None)  # the menu as read with the old limit
    html = client.get("/audit").get_data(as_text=True)
    assert 'name="user_email"' in html
    assert '<option value="">Anyone</option>' not in html

    typed = client.get(f"/audit?user_email={people.editor.email.upper()}&field=label")
    assert typed.status_code == 302
    assert typed.headers["Location"] == f"/audit?field=label&user={people.editor.id}"
    html = client.get(typed.headers["Location"]).get_data(as_text=True)
    assert f'value="{people.editor.email}"' in html  # the box says who
    assert len(shown_rows(html)) == 1

    unknown = client.get("/audit?user_email=nobody@example.com&user=3", follow_redirects=True)
    html = unknown.get_data(as_text=True)
    assert "No one signs in as nobody@example.com" in html
    assert unknown.request.full_path.rstrip("?") == "/audit"


def test_a_task_change_links_to_the_task(app, client, db_session, sign_in_as):
    sign_in_as("auditor")
    key = "ab" * 16
    changes = {"status": ["queued", "generating_assets"]}
    record(app, audit.entity_row("task", 4321, key, action="update", changes=changes,
                                 source="worker", actor=None))  # fmt: skip

    (row,) = shown_rows(client.get("/audit?entity=task").get_data(as_text=True))
    assert '<a href="/production/tasks/4321">task 4321</a>' in row
    assert key in row
