"""The video list's columns in the order kept (the user's, or the saved view's), rendered so by
the server; the less used filters loaded on demand; what marks the cells that edit in place."""

import re

from catalog.models import SavedView
from tests.factories import VideoFactory
from tests.factories.fields import CustomFieldFactory, FieldSchemaFactory
from tests.helpers import csrf_token


def header_keys(html: str) -> list[str]:
    thead = re.search(r"<thead.*?</thead>", html, re.S).group(0)
    return re.findall(r'<th class="col-([a-z0-9_]+)', thead)


def first_row_cells(html: str) -> list[str]:
    row = re.search(r"<tbody>\s*<tr>(.*?)(?:<tr>|</tbody>)", html, re.S).group(1)
    return [cell.strip() for cell in row.split("<td")[1:]]


def test_the_columns_come_in_the_users_order_headers_and_cells_alike(db_session, editor_client):
    VideoFactory(title="Ordered", privacy_status="unlisted", views=1234)
    editor_client.user.list_columns = {"videos_order": ["privacy", "views", "nope", "title"]}
    db_session.flush()
    html = editor_client.get("/videos").get_data(as_text=True)
    keys = header_keys(html)
    assert keys[:3] == ["privacy", "views", "title"]  # unknown keys are skipped
    assert keys[3:] == [
        "video_id", "channel", "artist", "category", "claim", "notes", "changed",
    ]  # fmt: skip
    cells = first_row_cells(html)
    # After the selection box: privacy, views, title, as the headers.
    assert cells[1] == ">unlisted"
    assert cells[2] == 'class="n">1,234'
    assert cells[3] == ">Ordered"


def test_the_order_is_kept_on_the_account_and_saved_into_a_view(db_session, editor_client):
    VideoFactory()
    token = csrf_token(editor_client.get("/videos"))
    response = editor_client.post(
        "/settings/columns/videos",
        data={"csrf_token": token, "hidden": ["artist"], "order": ["views", "title", "x y"]},
    )
    assert response.status_code == 204
    db_session.expire_all()
    assert editor_client.user.list_columns == {
        "videos": ["artist"],
        "videos_order": ["views", "title"],
    }
    response = editor_client.post(
        "/views/videos", data={"csrf_token": token, "name": "By views", "query": "claim=claim"}
    )
    assert response.status_code == 302
    view = db_session.query(SavedView).filter_by(name="By views").one()
    assert view.order == ["views", "title"]
    assert view.columns == ["artist"]
    # The user reorders again; the view keeps its own order when opened.
    editor_client.user.list_columns = {"videos_order": ["claim"]}
    db_session.flush()
    assert header_keys(editor_client.get(f"/videos?view={view.id}").get_data(as_text=True))[:2] == [
        "views",
        "title",
    ]
    assert header_keys(editor_client.get("/videos?view=none").get_data(as_text=True))[0] == "claim"


def test_the_less_used_filters_come_with_the_list_only_when_set(db_session, viewer_client):
    rating = CustomFieldFactory(name="Stars", field_type="rating", config={"max_rating": 5})
    FieldSchemaFactory(members=[rating])
    plain = viewer_client.get("/videos").get_data(as_text=True)
    assert 'name="prerolls_enabled"' not in plain
    assert f'name="cf{rating.id}"' not in plain
    assert "/videos/filters?section=monetization" in plain
    assert "/videos/filters?section=custom" in plain
    assert 'name="policy"' not in plain
    more = viewer_client.get("/videos/filters?section=more").get_data(as_text=True)
    assert 'name="policy"' in more
    assert 'name="administered"' in more
    shown = viewer_client.get("/videos?short=yes").get_data(as_text=True)
    assert re.search(r'<details class="mt-2" open>\s*<summary class="small">More filters', shown)
    assert '<option value="yes" selected>Yes<' in shown

    loaded = viewer_client.get("/videos/filters?section=monetization").get_data(as_text=True)
    assert 'name="prerolls_enabled"' in loaded
    assert 'class="row g-2 mt-1 more-filters"' in loaded
    custom = viewer_client.get("/videos/filters?section=custom").get_data(as_text=True)
    assert f'name="cf{rating.id}"' in custom

    filtered = viewer_client.get(f"/videos?prerolls_enabled=No&cf{rating.id}=4").get_data(
        as_text=True
    )
    assert re.search(r'<details class="mt-2" open>\s*<summary class="small">Monetization', filtered)
    assert '<option value="No" selected>No<' in filtered
    assert f'name="cf{rating.id}"' in filtered
    assert "/videos/filters?section=monetization" not in filtered


def test_editors_see_which_columns_edit_in_place(db_session, editor_client):
    mood = CustomFieldFactory(name="Mood", field_type="select", config={"options": ["a", "b"]})
    flag = CustomFieldFactory(name="Flag", field_type="boolean")
    FieldSchemaFactory(members=[(mood, True), (flag, True)])
    VideoFactory()
    html = editor_client.get("/videos").get_data(as_text=True)
    edits = re.search(r'data-edit="([^"]*)"', html).group(1).split()
    assert edits == ["category", "claim", "privacy", "notes", f"cf{mood.id}"]
    assert '<div id="cell-status" class="visually-hidden" role="status" aria-live="polite">' in html
    assert "js/inplace.js" in html


def test_the_shortcuts_come_when_asked_for_and_name_edit_in_place_to_editors(
    client, db_session, sign_in_as
):
    sign_in_as("viewer")
    listed = client.get("/videos").get_data(as_text=True)
    assert 'data-shortcuts-url="/videos/shortcuts"' in listed
    assert 'id="shortcuts"' not in listed  # not in every list page
    shown = client.get("/videos/shortcuts").get_data(as_text=True)
    assert '<dialog id="shortcuts"' in shown
    assert "edit it in place" not in shown  # a viewer edits nothing
    client.post("/logout", data={"csrf_token": csrf_token(listed)})
    sign_in_as("editor")
    assert "edit it in place" in client.get("/videos/shortcuts").get_data(as_text=True)


def test_a_row_adds_little_more_than_its_values_to_the_page(db_session, editor_client):
    """Issue 17's budget (30 kB for 50 rows with the page around them): a row is its values,
    one selection box, one link and two short classes; no per-cell forms, menus or data."""
    channel = VideoFactory().channel
    empty = len(editor_client.get(f"/videos?channel={channel.id}&q=none-such").get_data())
    for n in range(49):
        VideoFactory(channel=channel, title=f"Song {n:02d}", claimed_status="claim")
    html = editor_client.get(f"/videos?channel={channel.id}&size=50").get_data(as_text=True)
    rows = re.search(r"<tbody>(.*)</tbody>", html, re.S).group(1).split("<tr>")[1:]
    assert len(rows) == 50
    values = sum(
        len(text)
        for row in rows
        for text in re.findall(r">([^<]+)", row)  # what the row shows
    )
    markup = (len(html.encode()) - empty - values) / 50
    assert markup <= 200, markup  # bytes of markup a row, beyond its values
