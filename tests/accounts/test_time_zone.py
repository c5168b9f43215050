"""Each user's time zone: set on their own settings page (or taken from the browser while
unset); every page and form shows and reads times in it and names it; the database and the
audit log stay UTC."""

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from catalog.changes.queries import AuditFilters, _days
from catalog.models import MetadataSync, Video
from tests.accounts.conftest import user_rows
from tests.factories import UserFactory
from tests.helpers import csrf_token, sign_in, signed_in
from tests.html_forms import submitted_fields

LA = "America/Los_Angeles"


def video_rows(session, video: Video) -> list[MetadataSync]:
    session.expire_all()
    return list(
        session.scalars(
            select(MetadataSync)
            .where(MetadataSync.entity_type == "video", MetadataSync.entity_id == video.id)
            .order_by(MetadataSync.id)
        )
    )


@pytest.fixture
def video(db_session):
    video = Video(video_id="zoneTest_01", title="Zones", artist=[], genre=[],
                  time_published=datetime(2024, 10, 15, 18, 29, 11, tzinfo=UTC))  # fmt: skip
    db_session.add(video)
    db_session.flush()
    return video


def edit_form(client, video_id: str) -> tuple[str, dict]:
    page = client.get(f"/videos/{video_id}/edit").get_data(as_text=True)
    return page, dict(submitted_fields(page, "video-form"))


def test_a_los_angeles_user_reads_and_types_times_in_their_zone(
    client, db_session, sign_in_as, video
):
    sign_in_as("editor", time_zone=LA)
    page, fields = edit_form(client, video.video_id)
    assert f"Published ({LA})" in page
    assert fields["time_published"] == "2024-10-15T11:29:11"  # PDT, UTC-7

    # Typed in December (PST, UTC-8), with seconds: the database holds the UTC instant.
    fields["time_published"] = "2024-12-01T08:15:30"
    assert client.post(f"/videos/{video.video_id}/edit", data=fields).status_code == 302
    db_session.expire_all()
    assert video.time_published == datetime(2024, 12, 1, 16, 15, 30, tzinfo=UTC)
    [row] = video_rows(db_session, video)
    assert row.changes == {
        "time_published": ["2024-10-15T18:29:11+00:00", "2024-12-01T16:15:30+00:00"]
    }

    # Shown back in the zone, UTC on hover; posting the form unchanged changes nothing.
    detail = client.get(f"/videos/{video.video_id}").get_data(as_text=True)
    assert re.search(
        r'<time datetime="2024-12-01T16:15:30\+00:00" title="2024-12-01 16:15:30 UTC">'
        r"2024-12-01 08:15:30 PST</time>",
        detail,
    )
    page, fields = edit_form(client, video.video_id)
    assert fields["time_published"] == "2024-12-01T08:15:30"
    assert client.post(f"/videos/{video.video_id}/edit", data=fields).status_code == 302
    assert len(video_rows(db_session, video)) == 1


def test_a_form_is_read_in_the_zone_it_was_shown_in(client, db_session, sign_in_as, video):
    """The zone can change between showing a form and saving it (the browser's zone is
    taken on the first page): the form's times are read as they were shown."""
    user = sign_in_as("editor")
    page, fields = edit_form(client, video.video_id)
    assert "Published (UTC)" in page
    assert fields["time_published"] == "2024-10-15T18:29:11"
    user.time_zone = LA
    db_session.flush()
    assert client.post(f"/videos/{video.video_id}/edit", data=fields).status_code == 302
    db_session.expire_all()
    assert video.time_published == datetime(2024, 10, 15, 18, 29, 11, tzinfo=UTC)
    assert video_rows(db_session, video) == []


def test_pages_name_the_zone_and_keep_utc_on_hover(client, db_session, sign_in_as, video):
    sign_in_as("viewer", time_zone="Europe/Berlin")
    detail = client.get(f"/videos/{video.video_id}").get_data(as_text=True)
    assert "2024-10-15 20:29:11 CEST" in detail
    assert 'title="2024-10-15 18:29:11 UTC"' in detail
    assert "as it was at (Europe/Berlin)" in detail
    assert "Published (UTC)" not in detail
    assert "Published (Europe/Berlin)" in detail


def test_each_reader_sees_labels_in_their_own_zone(app, client, db_session, sign_in_as, video):
    # The detail page's labels are made once per zone, not once for everyone.
    sign_in_as("viewer", time_zone="Europe/Berlin")
    assert "Published (Europe/Berlin)" in client.get(f"/videos/{video.video_id}").get_data(
        as_text=True
    )
    other = app.test_client()
    assert signed_in(sign_in(other, UserFactory(roles=["editor"], time_zone=LA)))
    detail = other.get(f"/videos/{video.video_id}").get_data(as_text=True)
    assert f"Published ({LA})" in detail
    assert "Published (Europe/Berlin)" not in detail


def test_the_as_of_time_is_read_in_the_users_zone(client, db_session, sign_in_as, video):
    sign_in_as("viewer", time_zone=LA)
    page = client.get(f"/videos/{video.video_id}/as-of?at=2024-10-15T11:29:11")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # 11:29:11 in Los Angeles is 18:29:11 UTC; the input shows it back as typed.
    assert '<time datetime="2024-10-15T18:29:11+00:00"' in html
    assert 'value="2024-10-15T11:29:11"' in html
    assert f"Another time ({LA})" in html
    # A time with its offset (the links between pages carry one) is that instant.
    html = client.get(f"/videos/{video.video_id}/as-of?at=2024-10-15T18:29:11%2B00:00").text
    assert '<time datetime="2024-10-15T18:29:11+00:00"' in html


def test_the_audit_logs_days_are_the_readers_days():
    filters = AuditFilters(start=date(2026, 1, 1), end=date(2026, 1, 1), zone=LA)
    assert _days(filters) == (
        datetime(2026, 1, 1, 8, tzinfo=UTC),
        datetime(2026, 1, 2, 8, tzinfo=UTC),
    )


# -- the settings page -----------------------------------------------------------------------


def test_a_user_sets_their_own_time_zone(client, db_session, sign_in_as):
    user = sign_in_as("viewer")
    page = client.get("/settings").get_data(as_text=True)
    assert "No time zone is set" in page
    fields = dict(submitted_fields(page, "settings-form"))
    assert fields["time_zone"] == "UTC"  # what is in use, preselected
    fields["time_zone"] = LA
    response = client.post("/settings", data=fields)
    assert response.status_code == 302
    db_session.expire_all()
    assert user.time_zone == LA
    [row] = user_rows(db_session, user.id)
    assert row.changes == {"time_zone": [None, LA]}
    assert row.user_id == user.id
    page = client.get("/settings").get_data(as_text=True)
    assert f"Pages show times in <strong>{LA}</strong>" in page


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd"])
def test_an_unknown_zone_is_refused_and_nothing_changes(client, db_session, sign_in_as, zone):
    user = sign_in_as("viewer", time_zone="Europe/Berlin")
    token = csrf_token(client.get("/settings"))
    response = client.post("/settings", data={"csrf_token": token, "time_zone": zone})
    assert response.status_code == 400
    assert "Choose a time zone from the list." in response.get_data(as_text=True)
    db_session.expire_all()
    assert user.time_zone == "Europe/Berlin"
    assert user_rows(db_session, user.id) == []


def test_settings_need_the_csrf_token(client, db_session, sign_in_as):
    user = sign_in_as("viewer")
    assert client.post("/settings", data={"time_zone": LA}).status_code == 400
    assert client.post("/settings/browser-time-zone", data={"time_zone": LA}).status_code == 400
    db_session.expire_all()
    assert user.time_zone is None


def test_the_browsers_zone_is_taken_while_none_is_chosen(client, db_session, sign_in_as):
    user = sign_in_as("viewer")
    page = client.get("/videos").get_data(as_text=True)
    assert 'data-time-zone-url="/settings/browser-time-zone"' in page
    token = csrf_token(client.get("/videos"))
    headers = {"X-CSRFToken": token}
    response = client.post("/settings/browser-time-zone", data={"time_zone": LA}, headers=headers)
    assert response.status_code == 204
    db_session.expire_all()
    assert user.time_zone == LA
    assert "data-time-zone-url" not in client.get("/videos").get_data(as_text=True)
    # A zone the user has is never replaced by the browser's.
    client.post("/settings/browser-time-zone", data={"time_zone": "Asia/Tokyo"}, headers=headers)
    db_session.expire_all()
    assert user.time_zone == LA
    assert len(user_rows(db_session, user.id)) == 1


def test_a_browser_zone_the_server_does_not_know_becomes_utc(client, db_session, sign_in_as):
    user = sign_in_as("viewer")
    token = csrf_token(client.get("/videos"))
    response = client.post(
        "/settings/browser-time-zone", data={"time_zone": "Nowhere/Else"},
        headers={"X-CSRFToken": token},
    )  # fmt: skip
    assert response.status_code == 204
    db_session.expire_all()
    assert user.time_zone == "UTC"


def test_settings_need_a_sign_in(client, db_session):
    assert client.get("/settings").status_code in (302, 401)
    assert client.post("/settings/browser-time-zone").status_code in (302, 400, 401)


def test_a_time_in_the_repeated_hour_survives_an_unchanged_save(client, db_session, sign_in_as):
    """01:30 happens twice in Los Angeles on 2024-11-03; the second (PST) one is 09:30 UTC."""
    sign_in_as("editor", time_zone=LA)
    video = Video(video_id="zoneTest_02", title="Fall back", artist=[], genre=[],
                  time_published=datetime(2024, 11, 3, 9, 30, tzinfo=UTC))  # fmt: skip
    db_session.add(video)
    db_session.flush()
    _page, fields = edit_form(client, video.video_id)
    assert fields["time_published"] == "2024-11-03T01:30"  # browsers drop ":00"
    fields["title"] = "Fall back, renamed"
    assert client.post(f"/videos/{video.video_id}/edit", data=fields).status_code == 302
    db_session.expire_all()
    assert video.time_published == datetime(2024, 11, 3, 9, 30, tzinfo=UTC)
    [row] = video_rows(db_session, video)
    assert set(row.changes) == {"title"}
