"""The channel pages over HTTP: forms and their messages, hide, delete, history."""

import pytest
from sqlalchemy import select

from catalog.models import Channel, MetadataSync
from tests.factories import ChannelFactory, VideoFactory
from tests.helpers import csrf_token

VALID_ID = "UCabcdefghijklmnopqrstuv"


def rows_for(session, channel_pk: int) -> list[MetadataSync]:
    return session.scalars(
        select(MetadataSync)
        .where(MetadataSync.entity_type == "channel", MetadataSync.entity_id == channel_pk)
        .order_by(MetadataSync.id)
    ).all()


def test_create_and_see_it(db_session, editor_client):
    token = csrf_token(editor_client.get("/channels/new"))
    response = editor_client.post("/channels/new", data={
        "csrf_token": token, "channel_id": VALID_ID, "name": "Fresh Channel", "country": "FR",
        "subscriber_count": "1200", "image_url": "https://img.example.com/f.jpg",
    })  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/channels/{VALID_ID}")
    channel = db_session.scalars(select(Channel).where(Channel.channel_id == VALID_ID)).one()
    assert (channel.country, channel.subscriber_count) == ("FR", 1200)
    [row] = rows_for(db_session, channel.id)
    assert (row.action, row.user_id) == ("create", editor_client.user.id)
    html = editor_client.get(f"/channels/{VALID_ID}").get_data(as_text=True)
    assert "Channel Fresh Channel created." in html
    assert "France (FR)" in html
    assert editor_client.user.email in html  # the history


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("channel_id", "UCshort", "UC followed by 22"),
        ("channel_id", "", "This field is required"),
        ("name", "", "This field is required"),
        ("name", "x" * 201, "200 characters"),
        ("country", "XX", "Not a valid choice"),
        ("subscriber_count", "-1", "Not negative"),
        ("view_count", "many", "Not a valid integer"),
        ("image_url", "javascript:alert(1)", "http:// or https://"),
        ("image_url", "//evil.example.com/x.png", "http:// or https://"),
    ],
)
def test_invalid_input_is_refused_with_a_message(db_session, editor_client, field, value, message):
    token = csrf_token(editor_client.get("/channels/new"))
    data = {"csrf_token": token, "channel_id": VALID_ID, "name": "Fine", field: value}
    response = editor_client.post("/channels/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db_session.scalars(select(Channel).where(Channel.name == "Fine")).first() is None


def test_duplicate_channel_id_is_refused(db_session, editor_client):
    ChannelFactory(channel_id=VALID_ID)
    token = csrf_token(editor_client.get("/channels/new"))
    response = editor_client.post(
        "/channels/new", data={"csrf_token": token, "channel_id": VALID_ID, "name": "Twin"}
    )
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)


def test_edit_renames_and_records_history(db_session, editor_client):
    channel = ChannelFactory(name="Before", country="US")
    video = VideoFactory(channel=channel, channel_display_name="Before")
    url = f"/channels/{channel.channel_id}/edit"
    form = editor_client.get(url).get_data(as_text=True)
    assert 'value="Before"' in form
    assert 'name="channel_id"' not in form  # the identity is not edited
    token = csrf_token(editor_client.get(url))
    response = editor_client.post(url, data={"csrf_token": token, "name": "After", "country": "US"})
    assert response.status_code == 302
    db_session.expire_all()
    assert channel.name == "After"
    assert video.channel_display_name == "Before"  # the report's name stays on the video
    [row] = rows_for(db_session, channel.id)
    assert row.changes == {"name": ["Before", "After"]}
    detail = editor_client.get(f"/channels/{channel.channel_id}").get_data(as_text=True)
    assert "Saved 1 change." in detail
    assert "After" in detail


def test_detail_shows_catalog_figures_and_videos(client, db_session, sign_in_as):
    sign_in_as("viewer")
    channel = ChannelFactory(name="Figures", video_count=999)
    VideoFactory(channel=channel, views=100, claimed_status="claim", is_short=True,
                 title="First <i>song</i>")  # fmt: skip
    VideoFactory(channel=channel, views=50, postrolls_enabled="Yes", hidden=True)
    html = client.get(f"/channels/{channel.channel_id}").get_data(as_text=True)
    figures = {
        "video_count": "2", "total_views": "150", "claimed": "1", "unclaimed": "1",
        "monetized": "1", "shorts": "1",
    }  # fmt: skip
    for name, value in figures.items():
        assert f'data-stat="{name}">{value}<' in html, name
    assert 'data-field="video_count">999<' in html  # the YouTube figure, as typed
    assert "First &lt;i&gt;song&lt;/i&gt;" in html
    # The catalog figures count hidden videos too; so does the list they link to.
    assert f'href="/videos?channel={channel.id}&amp;hidden=all"' in html
    assert "Hide channel" not in html  # a viewer gets no controls


def test_hide_and_unhide_over_http(db_session, editor_client):
    channel = ChannelFactory(name="Shy")
    token = csrf_token(editor_client.get(f"/channels/{channel.channel_id}"))
    assert editor_client.get(f"/channels/{channel.channel_id}/hide").status_code == 405
    response = editor_client.post(
        f"/channels/{channel.channel_id}/hide", data={"csrf_token": token}
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert channel.hidden is True
    html = editor_client.get(f"/channels/{channel.channel_id}").get_data(as_text=True)
    assert "Shy is hidden" in html
    assert f'href="/videos?channel={channel.id}&amp;hidden=all"' in html
    editor_client.post(f"/channels/{channel.channel_id}/unhide", data={"csrf_token": token})
    db_session.expire_all()
    assert channel.hidden is False
    assert [row.changes for row in rows_for(db_session, channel.id)] == [
        {"hidden": [False, True]},
        {"hidden": [True, False]},
    ]


def test_hide_without_csrf_token_is_refused(db_session, editor_client):
    channel = ChannelFactory()
    assert editor_client.post(f"/channels/{channel.channel_id}/hide").status_code == 400
    db_session.expire_all()
    assert channel.hidden is False


def test_delete_explains_what_still_uses_the_channel(db_session, editor_client):
    channel = ChannelFactory()
    VideoFactory.create_batch(2, channel=channel)
    page = editor_client.get(f"/channels/{channel.channel_id}/delete").get_data(as_text=True)
    assert "2 videos" in page
    assert "Delete channel" not in page
    token = csrf_token(editor_client.get("/channels"))
    response = editor_client.post(
        f"/channels/{channel.channel_id}/delete", data={"csrf_token": token}
    )
    assert response.status_code == 409
    assert "cannot be deleted" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Channel, channel.id) is not None


def test_delete_an_unused_channel(db_session, editor_client):
    channel = ChannelFactory(name="Lonely")
    pk, channel_id = channel.id, channel.channel_id
    assert "Delete channel" in editor_client.get(f"/channels/{channel_id}/delete").get_data(
        as_text=True
    )
    token = csrf_token(editor_client.get("/channels"))
    response = editor_client.post(f"/channels/{channel_id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Channel, pk) is None
    [row] = rows_for(db_session, pk)
    assert (row.action, row.entity_key) == ("delete", channel_id)
    assert editor_client.get(f"/channels/{channel_id}").status_code == 404


def test_unknown_channel_is_404(db_session, editor_client):
    assert editor_client.get("/channels/UCnope").status_code == 404
    assert editor_client.get("/channels/UCnope/edit").status_code == 404
