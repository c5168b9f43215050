"""Saved views of the video list through the web: saving, opening with changes on top,
sharing, defaults, what no longer applies, and their audit rows."""

import re

from sqlalchemy import select

from catalog.models import Channel, MetadataSync, SavedView
from tests.factories import (
    ChannelFactory,
    CustomFieldFactory,
    UserFactory,
    VideoFactory,
    state,
)
from tests.helpers import csrf_token, sign_in, statements_of


def _save(client, query: str, name: str, shared_with: str = "") -> SavedView:
    """Save `query` (the list's URL arguments) as a view through the page's form."""
    token = csrf_token(client.get("/videos"))
    response = client.post(
        "/views/videos",
        data={"csrf_token": token, "name": name, "shared_with": shared_with, "query": query},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    view_id = int(re.search(r"view=(\d+)", response.headers["Location"]).group(1))
    return state.session.get(SavedView, view_id)


def test_a_saved_view_opens_by_its_short_url_with_changes_on_top(editor_client, db_session):
    channel = ChannelFactory(name="Seoul Signal")
    VideoFactory(channel=channel, title="In the view", privacy_status="public")
    VideoFactory(channel=channel, title="Private one", privacy_status="private")
    VideoFactory(title="Elsewhere", privacy_status="public")
    view = _save(editor_client, f"channel={channel.id}&privacy=public&bogus=1", "Seoul public")
    assert view.args == {"channel": channel.id, "privacy": "public"}  # normalized, unknown dropped
    assert view.state["labels"]["channel"] == "Channel: Seoul Signal"

    html = editor_client.get(f"/videos?view={view.id}").get_data(as_text=True)
    assert "In the view" in html
    assert "Private one" not in html
    assert "Elsewhere" not in html
    assert 'data-testid="unsaved"' not in html
    assert "Channel: Seoul Signal" in html  # its chip

    # Arguments on top replace the view's; an emptied one clears it.
    html = editor_client.get(f"/videos?view={view.id}&privacy=private").get_data(as_text=True)
    assert "Private one" in html
    assert "In the view" not in html
    assert 'data-testid="unsaved"' in html
    html = editor_client.get(f"/videos?view={view.id}&privacy=").get_data(as_text=True)
    assert "Private one" in html
    assert "In the view" in html
    assert "Elsewhere" not in html


def test_saving_updating_and_deleting_are_audited(editor_client, db_session):
    view = _save(editor_client, "privacy=public", "Public")
    token = csrf_token(editor_client.get("/videos"))
    response = editor_client.post(
        f"/views/{view.id}/save", data={"csrf_token": token, "query": "privacy=private"}
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert view.args == {"privacy": "private"}
    response = editor_client.post(f"/views/{view.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    rows = db_session.scalars(
        select(MetadataSync).where(MetadataSync.entity_type == "view").order_by(MetadataSync.id)
    ).all()
    assert [row.action for row in rows] == ["create", "update", "delete"]
    assert rows[1].changes["state"][1]["args"] == {"privacy": "private"}
    assert rows[0].user_email == editor_client.user.email
    assert db_session.scalar(select(SavedView.id).where(SavedView.id == view.id)) is None


def test_a_refused_save_writes_nothing(editor_client, db_session):
    _save(editor_client, "privacy=public", "Mine")
    token = csrf_token(editor_client.get("/videos"))
    before = db_session.scalar(select(MetadataSync.id).order_by(MetadataSync.id.desc()).limit(1))
    response = editor_client.post(
        "/views/videos", data={"csrf_token": token, "name": "mine", "query": "privacy=private"},
        follow_redirects=True,
    )  # fmt: skip
    assert "already have a view named" in response.get_data(as_text=True)
    assert (
        db_session.scalar(select(MetadataSync.id).order_by(MetadataSync.id.desc()).limit(1))
        == before
    )
    assert len(db_session.scalars(select(SavedView)).all()) == 1


def test_a_view_shared_with_editors_opens_for_another_editor_only(client, db_session, sign_in_as):
    owner = sign_in_as("editor")
    VideoFactory(title="Shared result", privacy_status="unlisted")
    view = _save(client, "privacy=unlisted", "Unlisted", shared_with="editor")
    personal = _save(client, "privacy=public", "Only mine")
    other = UserFactory(roles=["editor"])
    client = client.application.test_client()
    sign_in(client, other)
    html = client.get(f"/videos?view={view.id}").get_data(as_text=True)
    assert "Shared result" in html
    assert "Unlisted" in html
    menu = client.get("/views/videos").get_data(as_text=True)
    assert "Unlisted" in menu
    assert "Only mine" not in menu
    assert "Rename, share or delete" not in menu  # not theirs to change
    html = client.get(f"/videos?view={personal.id}").get_data(as_text=True)
    assert "not shared with you" in html
    token = csrf_token(client.get("/videos"))
    assert client.post(f"/views/{view.id}/delete", data={"csrf_token": token}).status_code == 302
    assert db_session.scalar(select(SavedView.id).where(SavedView.id == view.id))  # refused
    assert (
        client.post(f"/views/{personal.id}/delete", data={"csrf_token": token}).status_code == 404
    )
    viewer = UserFactory(roles=["viewer"])
    client = client.application.test_client()
    sign_in(client, viewer)
    assert "not shared with you" in client.get(f"/videos?view={view.id}").get_data(as_text=True)
    assert owner.id != other.id


def test_the_default_view_opens_the_plain_list(editor_client, db_session):
    VideoFactory(title="Public one", privacy_status="public")
    VideoFactory(title="Private one", privacy_status="private")
    view = _save(editor_client, "privacy=private", "Private")
    token = csrf_token(editor_client.get("/videos"))
    editor_client.post("/views/videos/default", data={"csrf_token": token, "view": view.id})
    html = editor_client.get("/videos").get_data(as_text=True)
    assert "Private one" in html
    assert "Public one" not in html
    html = editor_client.get("/videos?view=none").get_data(as_text=True)
    assert "Private one" in html
    assert "Public one" in html
    # Deleting it leaves the list plain again.
    editor_client.post(f"/views/{view.id}/delete", data={"csrf_token": token})
    db_session.expire_all()
    assert editor_client.user.default_views == {}
    assert "Public one" in editor_client.get("/videos").get_data(as_text=True)


def test_what_was_deleted_since_is_named_and_only_that_is_ignored(editor_client, db_session):
    channel = ChannelFactory(name="Gone Channel")
    field = CustomFieldFactory(
        name="Mood", field_type="select", config={"options": ["calm", "wild"]}
    )
    VideoFactory(title="Public one", privacy_status="public")
    VideoFactory(title="Private one", privacy_status="private")
    view = _save(editor_client, f"channel={channel.id}&privacy=public&cf{field.id}=wild", "Stale")
    assert set(view.args) == {"channel", "privacy", f"cf{field.id}"}
    db_session.delete(field)
    db_session.execute(Channel.__table__.delete().where(Channel.id == channel.id))
    db_session.flush()
    html = editor_client.get(f"/videos?view={view.id}").get_data(as_text=True)
    assert "“Channel: Gone Channel” no longer applies" in html
    assert "“Mood: wild” no longer applies" in html
    assert "Public one" in html
    assert "Private one" not in html


def test_the_column_choice_is_kept_on_the_account(editor_client, db_session):
    token = csrf_token(editor_client.get("/videos"))
    response = editor_client.post(
        "/settings/columns/videos",
        data={"csrf_token": token, "hidden": ["artist", "views", "not a key<"]},
    )
    assert response.status_code == 204
    db_session.expire_all()
    assert editor_client.user.list_columns == {"videos": ["artist", "views"]}
    html = editor_client.get("/videos").get_data(as_text=True)
    assert """data-hidden-columns='["artist", "views"]'""" in html


def test_the_colour_mode_is_remembered(editor_client, db_session):
    html = editor_client.get("/videos").get_data(as_text=True)
    assert 'data-colour-mode="auto"' in html
    assert "data-bs-theme" not in html
    token = csrf_token(html)
    response = editor_client.post(
        "/settings/colour-mode", data={"csrf_token": token, "colour_mode": "dark"},
        headers={"Referer": "http://localhost/videos?q=x"},
    )  # fmt: skip
    assert response.headers["Location"] == "/videos?q=x"
    assert 'data-bs-theme="dark"' in editor_client.get("/videos").get_data(as_text=True)
    response = editor_client.post(
        "/settings/colour-mode", data={"csrf_token": token, "colour_mode": "light"},
        headers={"Referer": "https://evil.example/videos"},
    )  # fmt: skip
    assert response.headers["Location"] == "/settings"
    assert 'data-bs-theme="light"' in editor_client.get("/videos").get_data(as_text=True)


def test_chips_remove_one_filter_and_keep_the_rest(editor_client, db_session):
    html = editor_client.get("/videos?privacy=public&claim=dispute&q=song").get_data(as_text=True)
    chips = re.findall(
        r'href="([^"]+)"><span aria-hidden="true">[^<]</span>'
        r'<span class="visually-hidden">Remove the filter ([^<]+)</span>',
        html,
    )
    by_label = {label: href.replace("&amp;", "&") for href, label in chips}
    assert set(by_label) == {"Search: song", "Claim status: dispute", "Privacy: public"}
    link = by_label["Privacy: public"]
    assert "privacy" not in link
    assert "claim=dispute" in link
    assert "q=song" in link


def test_auditors_save_their_standing_queries_of_the_log(auditor_client, db_session):
    view = _save_audit(auditor_client, "source=web&entity=user&from=2026-01-01&junk=1", "Users")
    assert view.args == {"source": "web", "entity": "user", "from": "2026-01-01"}
    html = auditor_client.get(f"/audit?view={view.id}").get_data(as_text=True)
    assert "View: <strong>Users</strong>" in html
    assert 'data-testid="unsaved"' not in html
    html = auditor_client.get(f"/audit?view={view.id}&entity=role").get_data(as_text=True)
    assert 'data-testid="unsaved"' in html
    assert "<option selected>role</option>" in html


def _save_audit(client, query: str, name: str) -> SavedView:
    token = csrf_token(client.get("/audit"))
    response = client.post("/views/audit", data={"csrf_token": token, "name": name, "query": query})
    assert response.status_code == 302
    view_id = int(re.search(r"view=(\d+)", response.headers["Location"]).group(1))
    return state.session.get(SavedView, view_id)


def test_the_audit_logs_views_are_for_its_readers_only(editor_client, db_session):
    token = csrf_token(editor_client.get("/videos"))
    response = editor_client.post(
        "/views/audit", data={"csrf_token": token, "name": "Sneaky", "query": "source=web"}
    )
    assert response.status_code == 403
    assert editor_client.get("/views/audit").status_code == 403
    assert db_session.scalar(select(SavedView.id)) is None


def test_a_bookmarked_url_naming_a_deleted_channel_says_so(viewer_client, db_session):
    VideoFactory(title="Still listed")
    html = viewer_client.get("/videos?channel=2147483000").get_data(as_text=True)
    assert "The channel this link names no longer exists" in html
    assert "Still listed" in html


def test_the_production_board_keeps_views_too(editor_client, db_session):
    token = csrf_token(editor_client.get("/production"))
    response = editor_client.post(
        "/views/production",
        data={"csrf_token": token, "name": "Urgent", "query": "priority=high&stage=nonsense"},
    )
    view_id = int(re.search(r"view=(\d+)", response.headers["Location"]).group(1))
    assert state.session.get(SavedView, view_id).args == {"priority": "high"}
    html = editor_client.get(f"/production?view={view_id}").get_data(as_text=True)
    assert "View: <strong>Urgent</strong>" in html
    assert '<option value="high" selected>' in html
    html = editor_client.get(f"/production?view={view_id}&priority=low").get_data(as_text=True)
    assert 'data-testid="unsaved"' in html


def test_a_default_naming_no_view_is_a_404(editor_client, db_session):
    token = csrf_token(editor_client.get("/videos"))
    for bad in ("99999999999", "2147483000", "x"):
        response = editor_client.post(
            "/views/videos/default", data={"csrf_token": token, "view": bad}
        )
        assert response.status_code == 404, bad
    assert editor_client.get("/videos?view=99999999999").status_code == 200


def test_opening_a_view_costs_one_statement_more_and_a_plain_list_none(editor_client, db_session):
    channel = ChannelFactory()
    VideoFactory.create_batch(3, channel=channel, privacy_status="public")
    query = f"channel={channel.id}&privacy=public&sort=views"
    view = _save(editor_client, query, "Counted")
    connection = db_session.connection()
    plain = statements_of(editor_client, connection, f"/videos?{query}")
    opened = statements_of(editor_client, connection, f"/videos?view={view.id}")
    assert len(opened) == len(plain) + 1
    looked_up = [s for s in opened if "FROM saved_views" in s]
    assert len(looked_up) == 1
    assert "WHERE saved_views.id = " in looked_up[0]  # by its primary key
    # Without a view or a default, the list reads no saved view at all.
    assert not any("saved_views" in s for s in statements_of(editor_client, connection, "/videos"))


def _sort_link(html: str, label: str) -> str:
    match = re.search(r'href="([^"]+)">' + label, html)
    assert match, f"no sort header {label}"
    return match.group(1).replace("&amp;", "&")


def test_sorting_and_paging_inside_a_view_keep_the_view(editor_client, db_session):
    channel = ChannelFactory(name="Seoul Signal")
    for n in range(30):
        VideoFactory(channel=channel, title=f"Song {n:02}", privacy_status="public")
    VideoFactory(channel=channel, title="Private one", privacy_status="private")
    view = _save(editor_client, f"channel={channel.id}&privacy=public", "Seoul public")

    html = editor_client.get(f"/videos?view={view.id}").get_data(as_text=True)
    by_title = _sort_link(html, "Title")
    assert f"view={view.id}" in by_title
    html = editor_client.get(by_title).get_data(as_text=True)
    assert "Seoul public" in html  # still the view, now with a change of its own
    assert 'data-testid="unsaved"' in html
    assert "Private one" not in html
    assert html.index("Song 00") < html.index("Song 01")
    # The same header again: Z to A, which the title's link once could not say.
    html = editor_client.get(_sort_link(html, "Title")).get_data(as_text=True)
    assert html.index("Song 29") < html.index("Song 28")
    following = re.search(r'href="([^"]+)"[^>]*>Next', html)
    assert following
    assert f"view={view.id}" in following.group(1)

    # A filter dropped inside the view stays dropped on the next page's links.
    html = editor_client.get(f"/videos?view={view.id}&privacy=").get_data(as_text=True)
    assert "Private one" in html
    html = editor_client.get(_sort_link(html, "Title")).get_data(as_text=True)
    assert "Private one" in html


def test_the_save_as_form_comes_when_opened_with_the_lists_arguments(viewer_client):
    listed = viewer_client.get("/videos?claim=dispute").get_data(as_text=True)
    assert 'data-testid="save-view-form"' not in listed  # loaded when opened
    assert "/views/videos/new?query=claim%3Ddispute" in listed
    form = viewer_client.get("/views/videos/new?query=claim%3Ddispute").get_data(as_text=True)
    assert 'data-testid="save-view-form"' in form
    assert '<input type="hidden" name="query" value="claim=dispute">' in form
    assert 'name="csrf_token"' in form
    assert viewer_client.get("/views/audit/new?query=").status_code == 403  # not their list
