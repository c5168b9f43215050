"""The video pages over HTTP: forms, validation messages, conflicts, delete and bulk edit."""

import re
from html import escape as html_escape

import pytest
from sqlalchemy import select

from catalog.models import MetadataSync, Video
from tests.factories import VideoFactory
from tests.helpers import csrf_token


def rows_for(session, video_pk):
    return session.scalars(select(MetadataSync).where(MetadataSync.entity_id == video_pk)).all()


def form_data(video: Video, token: str, **overrides) -> dict:
    """The edit form as a browser would post it, with `overrides` applied."""
    data = {
        "csrf_token": token, "version": str(video.version), "title": video.title or "",
        "artist": "\n".join(video.artist), "genre": "\n".join(video.genre),
        "channel_id": str(video.channel_id or ""), "privacy_status": video.privacy_status or "",
        "views": "" if video.views is None else str(video.views),
    }  # fmt: skip
    data.update(overrides)
    return data


def test_edit_saves_two_fields_and_records_history(db_session, editor_client):
    video = VideoFactory(title="Old title", views=10)
    token = csrf_token(editor_client.get(f"/videos/{video.video_id}/edit"))
    response = editor_client.post(
        f"/videos/{video.video_id}/edit",
        data=form_data(video, token, title="New title", artist="Ann\nBob"),
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert video.title == "New title"
    assert video.artist == ["Ann", "Bob"]
    [row] = rows_for(db_session, video.id)
    assert row.changes == {
        "title": ["Old title", "New title"],
        "artist": [["The Testers"], ["Ann", "Bob"]],
    }
    detail = editor_client.get(f"/videos/{video.video_id}").get_data(as_text=True)
    assert "Saved 2 changes." in detail
    assert editor_client.user.email in detail
    assert "New title" in detail


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("isrc", "US-RC1-76", "An ISRC is 12 characters"),
        ("upc", "036000291453", "check digit"),
        ("upc", "12345", "12 or 13 digits"),
        ("views", "-1", "Not negative"),
        ("video_length", "-3", "Not negative"),
        ("title", "x" * 201, "200 characters"),
        ("artist", "ok\n" + "y" * 201, "at most 200 characters"),
        ("privacy_status", "secret", "Not a valid choice"),
    ],
)
def test_invalid_input_is_refused_with_a_message_and_nothing_written(
    db_session, editor_client, field, value, message
):
    video = VideoFactory(title="Keep me")
    token = csrf_token(editor_client.get(f"/videos/{video.video_id}/edit"))
    response = editor_client.post(
        f"/videos/{video.video_id}/edit",
        data=form_data(video, token, **{"title": "Changed", field: value}),
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db_session.expire_all()
    assert video.title == "Keep me"
    assert rows_for(db_session, video.id) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("views", str(2**63), "Too large: at most 9,223,372,036,854,775,807."),
        ("video_length", "99999999999", "Too large: at most 2,147,483,647."),
        ("views", "-1", "Not negative."),
        ("views", "12k", "Not a valid integer value: a whole number, digits only"),
    ],
)
def test_a_wrong_number_gets_one_message_that_says_what_is_wrong(
    db_session, editor_client, field, value, message
):
    video = VideoFactory()
    token = csrf_token(editor_client.get(f"/videos/{video.video_id}/edit"))
    response = editor_client.post(
        f"/videos/{video.video_id}/edit", data=form_data(video, token, **{field: value})
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    block = re.search(rf'<div class="mb-2 *" data-field="{field}">.*?\n</div>', html, re.S)
    errors = re.findall(r'<div class="invalid-feedback d-block">([^<]*)</div>', block.group(0))
    assert len(errors) == 1, errors
    assert errors[0].startswith(html_escape(message))


def test_valid_identifiers_are_accepted(db_session, editor_client):
    video = VideoFactory()
    token = csrf_token(editor_client.get(f"/videos/{video.video_id}/edit"))
    response = editor_client.post(
        f"/videos/{video.video_id}/edit",
        data=form_data(video, token, isrc="usrc17607839", upc="4006381333931"),
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert (video.isrc, video.upc) == ("USRC17607839", "4006381333931")


def test_stale_form_gets_409_showing_what_changed(db_session, editor_client):
    video = VideoFactory(title="Original")
    token = csrf_token(editor_client.get(f"/videos/{video.video_id}/edit"))
    stale = form_data(video, token, title="Mine")
    first = editor_client.post(
        f"/videos/{video.video_id}/edit", data=form_data(video, token, title="Theirs")
    )
    assert first.status_code == 302
    response = editor_client.post(f"/videos/{video.video_id}/edit", data=stale)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else saved this video" in html
    assert "Theirs" in html
    assert "Mine" in html
    db_session.expire_all()
    assert video.title == "Theirs"
    assert len(rows_for(db_session, video.id)) == 1


def test_save_without_version_is_refused(db_session, editor_client):
    video = VideoFactory(title="Original")
    token = csrf_token(editor_client.get(f"/videos/{video.video_id}/edit"))
    data = form_data(video, token, title="Sneaky")
    del data["version"]
    assert editor_client.post(f"/videos/{video.video_id}/edit", data=data).status_code == 400
    db_session.expire_all()
    assert video.title == "Original"


def test_create(db_session, editor_client):
    token = csrf_token(editor_client.get("/videos/new"))
    fields = {"video_id": "abcDEF12_-Z", "title": "Fresh", "artist": "One\nTwo"}
    response = editor_client.post("/videos/new", data={"csrf_token": token, **fields})
    assert response.status_code == 302
    video = db_session.scalars(select(Video).where(Video.video_id == "abcDEF12_-Z")).one()
    assert video.artist == ["One", "Two"]
    [row] = rows_for(db_session, video.id)
    assert row.action == "create"
    assert row.user_id == editor_client.user.id

    again = editor_client.post("/videos/new", data={"csrf_token": token, "video_id": "abcDEF12_-Z"})
    assert again.status_code == 400
    assert "already exists" in again.get_data(as_text=True)
    bad = editor_client.post("/videos/new", data={"csrf_token": token, "video_id": "short"})
    assert bad.status_code == 400
    assert "11 characters" in bad.get_data(as_text=True)


def test_delete_needs_a_post_and_keeps_history(db_session, editor_client):
    video = VideoFactory(title="Gone soon")
    pk, video_id = video.id, video.video_id
    confirm = editor_client.get(f"/videos/{video_id}/delete")
    assert confirm.status_code == 200
    assert "Delete video" in confirm.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Video, pk) is not None  # looking at the confirmation deletes nothing
    token = csrf_token(editor_client.get(f"/videos/{video_id}/delete"))
    assert (
        editor_client.post(f"/videos/{video_id}/delete", data={"csrf_token": token}).status_code
        == 302
    )
    db_session.expire_all()
    assert db_session.get(Video, pk) is None
    [row] = rows_for(db_session, pk)
    assert row.action == "delete"
    assert row.changes["title"] == ["Gone soon", None]
    assert editor_client.get(f"/videos/{video_id}").status_code == 404


def test_post_without_csrf_token_is_refused(db_session, editor_client):
    video = VideoFactory(title="Safe")
    response = editor_client.post(
        f"/videos/{video.video_id}/edit", data=form_data(video, "", title="Forged")
    )
    assert response.status_code == 400
    db_session.expire_all()
    assert video.title == "Safe"


def confirm_value(html: str) -> str:
    """The fingerprint a bulk edit's preview puts on its Apply button."""
    match = re.search(r'name="confirm" value="([0-9a-f]+)"', html)
    assert match, "the preview offers no Apply button"
    return match.group(1)


def test_bulk_edit_selected_videos(db_session, editor_client):
    a, b, c = (
        VideoFactory(privacy_status="public"),
        VideoFactory(privacy_status="private"),
        VideoFactory(),
    )
    form = editor_client.get(f"/videos/bulk?ids={a.id}&ids={b.id}")
    assert "2 selected videos" in form.get_data(as_text=True)
    token = csrf_token(editor_client.get("/videos"))
    data = {
        "csrf_token": token, "ids": f"{a.id},{b.id}", "scope": "",
        "set_privacy_status": "y", "privacy_status": "unlisted", "label": "ignored, not ticked",
    }  # fmt: skip
    preview = editor_client.post("/videos/bulk", data=data)
    assert preview.status_code == 200
    data["confirm"] = confirm_value(preview.get_data(as_text=True))
    response = editor_client.post("/videos/bulk", data=data)
    assert response.status_code == 302
    db_session.expire_all()
    assert [a.privacy_status, b.privacy_status, c.privacy_status] == [
        "unlisted",
        "unlisted",
        "public",
    ]
    assert a.label is None
    assert len(rows_for(db_session, a.id)) == 1
    assert rows_for(db_session, c.id) == []


def test_bulk_edit_every_matching_video(db_session, editor_client):
    matching = VideoFactory.create_batch(3, title="Bulk target song")
    other = VideoFactory(title="Elsewhere")
    token = csrf_token(editor_client.get("/videos"))
    data = {
        "csrf_token": token, "scope": "all", "set_claimed_status": "y", "claimed_status": "appeal",
    }  # fmt: skip
    preview = editor_client.post("/videos/bulk?q=bulk+target", data=data)
    data["confirm"] = confirm_value(preview.get_data(as_text=True))
    response = editor_client.post("/videos/bulk?q=bulk+target", data=data)
    assert response.status_code == 302
    assert "q=bulk" in response.headers["Location"]
    db_session.expire_all()
    assert {v.claimed_status for v in matching} == {"appeal"}
    assert other.claimed_status is None


def test_unknown_video_is_404(db_session, editor_client):
    assert editor_client.get("/videos/doesNotExist").status_code == 404
    assert editor_client.get("/videos/doesNotExist/edit").status_code == 404


def test_a_list_value_is_escaped_once_on_the_video_page(db_session, editor_client):
    video = VideoFactory(genre=["R&B", "<b>Soul</b>"], artist=["Sam & Dave"])
    html = editor_client.get(f"/videos/{video.video_id}").get_data(as_text=True)
    genres = re.search(r'data-field="genre">(.*?)</dd>', html, re.S).group(1).strip()
    assert genres == "R&amp;B, &lt;b&gt;Soul&lt;/b&gt;"  # the page reads "R&B, <b>Soul</b>"
    assert "&amp;amp;" not in html
    assert "Sam &amp; Dave" in html
