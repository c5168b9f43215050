"""The watch page, its files (Range requests), progress beacons and reactions."""

import re

import pytest
from sqlalchemy import func, select

from catalog.library import beacons, progress
from catalog.models import VideoProgress, VideoReaction
from tests.factories import UserFactory, VideoFactory
from tests.helpers import csrf_token
from tests.library.conftest import DURATION

BEACONS = "/api/library/progress"


def _progress(db_session, user, video):
    db_session.expire_all()
    return db_session.scalars(
        select(VideoProgress).where(
            VideoProgress.user_id == user.id, VideoProgress.video_id == video.id
        )
    ).first()


# -- the page and its files -------------------------------------------------------------------


def test_the_watch_page_has_a_player_with_captions(client, db_session, sign_in_as, library_video):
    sign_in_as("viewer")
    video = library_video(title="Watch me")
    html = client.get(f"/library/{video.video_id}").get_data(as_text=True)
    assert f'<source src="/library/{video.video_id}/video" type="video/mp4">' in html
    assert f'src="/library/{video.video_id}/captions" srclang="en"' in html
    assert 'data-testid="resume-offer"' not in html  # not started yet


@pytest.mark.parametrize("values", [{"published": False}, {"video_url": None}])
def test_only_published_videos_with_a_file_are_watchable(client, db_session, sign_in_as, values):
    sign_in_as("viewer")
    video = VideoFactory(**{"published": True, "video_url": "uploads/x.mp4", **values})
    assert client.get(f"/library/{video.video_id}").status_code == 404
    assert client.get(f"/library/{video.video_id}/video").status_code == 404
    assert client.get("/library/noSuchVideo").status_code == 404


def test_an_outside_url_is_not_served(client, db_session, sign_in_as):
    sign_in_as("viewer")
    video = VideoFactory(published=True, video_url="https://example.com/v.mp4")
    assert client.get(f"/library/{video.video_id}").status_code == 404


def test_files_answer_range_requests(client, db_session, sign_in_as, library_video, media_files):
    sign_in_as("viewer")
    video = library_video()
    url = f"/library/{video.video_id}/video"
    data = media_files["mp4"].read_bytes()

    whole = client.get(url)
    assert whole.status_code == 200
    assert whole.headers["Content-Type"] == "video/mp4"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.data == data
    assert "private" in whole.headers["Cache-Control"]

    part = client.get(url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(data)}"
    assert part.data == data[100:1100]
    tail = client.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206
    assert tail.data == data[-500:]

    beyond = client.get(url, headers={"Range": f"bytes={len(data) + 10}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"

    again = client.get(url, headers={"If-None-Match": whole.headers["ETag"]})
    assert again.status_code == 304
    stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"not-the-etag"'})
    assert stale.status_code == 200  # the file changed: the whole of it, not a part
    assert stale.data == data


def test_webm_thumbnail_and_captions_have_their_types(
    client, db_session, sign_in_as, library_video, storage
):
    sign_in_as("viewer")
    video = library_video(container="webm")
    with open(__file__, "rb") as picture:  # any bytes: the type comes from the key
        video.extra.thumbnail_url = storage.save(picture, ".png").key
    db_session.flush()
    assert client.get(f"/library/{video.video_id}/video").headers["Content-Type"] == "video/webm"
    captions = client.get(f"/library/{video.video_id}/captions")
    assert captions.headers["Content-Type"].startswith("text/vtt")
    assert captions.get_data(as_text=True).startswith("WEBVTT")
    assert client.get(f"/library/{video.video_id}/thumbnail").headers["Content-Type"] == (
        "image/png"
    )


def test_a_key_of_the_wrong_kind_is_not_served(client, db_session, sign_in_as, library_video):
    sign_in_as("viewer")
    video = library_video()
    video.extra.thumbnail_url = video.video_url  # a video is not a picture
    db_session.flush()
    assert client.get(f"/library/{video.video_id}/thumbnail").status_code == 404


# -- progress ----------------------------------------------------------------------------------


def beacon_token(client, video) -> str:
    """The beacon token the watch page gives its player."""
    return beacon_token_of(client.get(f"/library/{video.video_id}").get_data(as_text=True))


def beacon_token_of(html: str) -> str:
    return re.search(r'data-progress-token="([^"]+)"', html).group(1)


def beacon(client, video, token, **fields):
    return client.post(BEACONS, data={"token": token, **fields})


def test_beacons_upsert_one_row_and_complete_at_ninety_percent(
    client, db_session, sign_in_as, library_video
):
    user = sign_in_as("viewer")
    video = library_video()
    token = beacon_token(client, video)
    assert beacon(client, video, token, position="2", played="2").status_code == 204
    row = _progress(db_session, user, video)
    assert (row.last_position, row.watched_seconds, row.completed) == (2, 2, False)
    assert row.duration_seconds == DURATION

    assert beacon(client, video, token, position="4.5", played="2.5").status_code == 204
    row = _progress(db_session, user, video)
    assert (row.last_position, row.watched_seconds, row.completed) == (4.5, 4.5, True)

    # Back to the start: the position follows, completion is kept.
    assert beacon(client, video, token, position="0.5", played="0").status_code == 204
    row = _progress(db_session, user, video)
    assert (row.last_position, row.completed) == (0.5, True)
    count = db_session.scalar(select(func.count()).select_from(VideoProgress))
    assert count == 1


def test_played_seconds_are_capped_by_the_wall_clock(client, db_session, sign_in_as, library_video):
    user = sign_in_as("viewer")
    video = library_video(duration_seconds=3600.0)
    token = beacon_token(client, video)
    assert beacon(client, video, token, position="100", played="100").status_code == 204
    first = _progress(db_session, user, video).watched_seconds
    assert first == progress.MAX_RATE * progress.GRACE  # a first report: at most the grace
    assert beacon(client, video, token, position="200", played="100").status_code == 204
    # The same transaction (the test's): no time has passed, so only the grace again.
    assert _progress(db_session, user, video).watched_seconds == 2 * first


@pytest.mark.parametrize(
    "fields",
    [
        {"position": "-1", "played": "0"},
        {"position": "5.5", "played": "0"},  # past the 5-second video
        {"position": "1", "played": "-0.5"},
        {"position": "1", "played": "6"},  # more than the whole video at once
        {"position": "nan", "played": "0"},
        {"position": "inf", "played": "0"},
        {"position": "one", "played": "0"},
        {"position": "", "played": "0"},
        {"played": "1"},
        {"position": "1", "played": "1", "user_id": "OTHER"},
        {"position": "1", "played": "1", "user_id": "x"},
        {"position": "1", "played": "1", "completed": "true"},  # not a field of a report
    ],
)
def test_impossible_beacons_are_refused_and_change_nothing(
    client, db_session, sign_in_as, library_video, fields
):
    user = sign_in_as("viewer")
    other = UserFactory()
    video = library_video()
    token = beacon_token(client, video)
    assert beacon(client, video, token, position="2", played="2").status_code == 204
    theirs = VideoProgress(user_id=other.id, video_id=video.id, duration_seconds=DURATION,
                           last_position=1, watched_seconds=1)  # fmt: skip
    db_session.add(theirs)
    db_session.flush()
    if fields.get("user_id") == "OTHER":
        fields = {**fields, "user_id": str(other.id)}

    response = beacon(client, video, token, **fields)
    assert response.status_code == 400
    mine = _progress(db_session, user, video)
    assert (mine.last_position, mine.watched_seconds) == (2, 2)
    theirs = _progress(db_session, other, video)
    assert (theirs.last_position, theirs.watched_seconds) == (1, 1)


def test_a_beacon_may_name_its_own_user(client, db_session, sign_in_as, library_video):
    user = sign_in_as("viewer")
    video = library_video()
    token = beacon_token(client, video)
    fields = {"position": "1", "played": "1", "user_id": str(user.id)}
    assert beacon(client, video, token, **fields).status_code == 204


def test_a_video_without_a_file_takes_no_beacon(client, db_session, sign_in_as, library_video):
    user = sign_in_as("viewer")
    video = library_video()
    token = beacon_token(client, video)
    video.video_url = None  # its file went after the page was opened
    db_session.flush()
    assert beacon(client, video, token, position="1", played="1").status_code == 400
    assert _progress(db_session, user, video) is None


def test_a_beacon_without_its_token_is_refused(client, db_session, sign_in_as, library_video):
    user = sign_in_as("viewer")
    video = library_video()
    token = csrf_token(client.get(f"/library/{video.video_id}"))
    for data in ({}, {"csrf_token": token}, {"token": token}):  # a session's token opens nothing
        response = client.post(BEACONS, data={"position": "1", "played": "1", **data})
        assert response.status_code == 401
    assert _progress(db_session, user, video) is None


def test_a_started_video_offers_resume_or_start_over(client, db_session, sign_in_as, library_video):
    user = sign_in_as("viewer")
    video = library_video(duration_seconds=3600.0)
    db_session.add(
        VideoProgress(user_id=user.id, video_id=video.id, duration_seconds=3600,
                      last_position=754.4, watched_seconds=754)
    )  # fmt: skip
    db_session.flush()
    html = client.get(f"/library/{video.video_id}").get_data(as_text=True)
    assert 'data-resume="754.4">Resume at 12:34</button>' in html
    assert "Start over" in html


def test_clock():
    assert progress.clock(754.9) == "12:34"
    assert progress.clock(3723) == "1:02:03"
    assert progress.clock(0) == "0:00"


# -- reactions ---------------------------------------------------------------------------------


def react(client, video, token, reaction, htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        f"/library/{video.video_id}/reaction",
        data={"csrf_token": token, "reaction": reaction},
        headers=headers,
    )


def reactions_of(db_session, video) -> dict[int, str]:
    db_session.expire_all()
    rows = db_session.scalars(select(VideoReaction).where(VideoReaction.video_id == video.id))
    return {row.user_id: row.reaction_type for row in rows}


def test_reactions_set_replace_and_remove(client, db_session, sign_in_as, library_video):
    user = sign_in_as("viewer")
    other = UserFactory()
    video = library_video()
    db_session.add(VideoReaction(user_id=other.id, video_id=video.id, reaction_type="love"))
    db_session.flush()
    token = csrf_token(client.get("/library"))

    answer = react(client, video, token, "like")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert 'aria-pressed="true" data-testid="reaction-like"' in html
    assert reactions_of(db_session, video) == {user.id: "like", other.id: "love"}

    html = react(client, video, token, "love").get_data(as_text=True)
    assert reactions_of(db_session, video) == {user.id: "love", other.id: "love"}
    love = html[html.index('data-testid="reaction-love"') :]
    assert "data-count>2<" in love[: love.index("</button>")]

    react(client, video, token, "love")  # the same again: removed
    assert reactions_of(db_session, video) == {other.id: "love"}


def test_reactions_without_javascript_go_back_to_the_page(
    client, db_session, sign_in_as, library_video
):
    user = sign_in_as("viewer")
    video = library_video()
    token = csrf_token(client.get("/library"))
    answer = react(client, video, token, "wow", htmx=False)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/library/{video.video_id}")
    assert reactions_of(db_session, video) == {user.id: "wow"}


@pytest.mark.parametrize("reaction", ["meh", ""])
def test_an_unknown_reaction_is_refused(client, db_session, sign_in_as, library_video, reaction):
    sign_in_as("viewer")
    video = library_video()
    token = csrf_token(client.get("/library"))
    assert react(client, video, token, reaction).status_code == 400
    assert reactions_of(db_session, video) == {}


def test_no_reaction_to_a_video_outside_the_library(client, db_session, sign_in_as):
    sign_in_as("viewer")
    video = VideoFactory()
    token = csrf_token(client.get("/library"))
    assert react(client, video, token, "like").status_code == 404


# -- S3 ----------------------------------------------------------------------------------------


@pytest.fixture
def bucket(monkeypatch):
    """S3 storage with a real botocore client and made-up credentials: presigning is local,
    so nothing is asked of a network."""
    import boto3

    from catalog.library import serving
    from catalog.reports.storage import S3Storage

    client = boto3.client(
        "s3", region_name="us-east-1", endpoint_url="https://objects.example.com",
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="not-a-secret",
    )  # fmt: skip
    storage = S3Storage("media", "catalog/", client=client)
    monkeypatch.setattr(serving, "get_storage", lambda: storage)
    return storage


def test_with_s3_the_video_is_a_presigned_redirect(client, db_session, sign_in_as, bucket):
    sign_in_as("viewer")
    video = VideoFactory(published=True, video_url="uploads/2026/12/abc.webm",
                         duration_seconds=DURATION)  # fmt: skip
    answer = client.get(f"/library/{video.video_id}/video")
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(
        "https://objects.example.com/media/catalog/uploads/2026/12/abc.webm?"
    )
    assert "Signature=" in location  # signed (SigV2 or SigV4, as botocore chooses)
    assert "response-content-type=video%2Fwebm" in location
    assert "private" in answer.headers["Cache-Control"]
    page = client.get(f"/library/{video.video_id}")
    assert (
        "media-src 'self' https: https://objects.example.com"
        in page.headers["Content-Security-Policy"]
    )
    assert page.headers["Content-Security-Policy"].count("media-src") == 1


def test_a_beacon_for_a_video_outside_the_library_is_not_found(app, client, db_session, sign_in_as):
    user = sign_in_as("viewer")
    video = VideoFactory(published=False, video_url="uploads/x.mp4", duration_seconds=DURATION)
    with app.test_request_context():  # a token the server made, though no page would give it
        token = beacons.issue(user.id, user.fs_uniquifier, video.id)
    assert beacon(client, video, token, position="1", played="1").status_code == 404
    assert _progress(db_session, user, video) is None
