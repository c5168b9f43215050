"""The player's beacons on /api/library/progress: authenticated by the watch page's signed
token (not the session), the person checked on every beacon in the upsert's own statement."""

import time
import uuid

import pytest
from sqlalchemy import event

from catalog.extensions import db
from catalog.library import beacons
from tests.library.conftest import DURATION
from tests.library.test_watch import BEACONS, _progress, beacon, beacon_token

REPORT = {"position": "2", "played": "2"}


def _altered(token: str, part: int, value: str) -> str:
    parts = token.split(".")
    parts[part] = value
    return ".".join(parts)


def test_a_beacon_needs_no_session(app, client, db_session, sign_in_as, library_video):
    user = sign_in_as("viewer")
    video = library_video()
    token = beacon_token(client, video)
    stranger = app.test_client()  # no cookie at all
    assert stranger.post(BEACONS, data={"token": token, **REPORT}).status_code == 204
    row = _progress(db_session, user, video)
    assert (row.last_position, row.duration_seconds) == (2, DURATION)


def test_a_beacon_is_one_statement(app, client, db_session, sign_in_as, library_video):
    sign_in_as("viewer")
    video = library_video()
    token = beacon_token(client, video)
    sent: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert beacon(client, video, token, **REPORT).status_code == 204
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(sent) == 1, sent
    assert "INSERT INTO video_progress" in sent[0]


@pytest.mark.parametrize(
    ("part", "value"),
    [(0, "999999"), (1, "999999"), (2, "9999999999"), (3, "0" * beacons.TAG_LENGTH), (4, "x")],
)
def test_an_altered_token_is_refused(client, db_session, sign_in_as, library_video, part, value):
    user = sign_in_as("viewer")
    video = library_video()
    token = _altered(beacon_token(client, video), part, value)
    assert beacon(client, video, token, **REPORT).status_code == 401
    assert _progress(db_session, user, video) is None


def test_a_token_for_one_video_reports_on_that_video_only(
    client, db_session, sign_in_as, library_video
):
    user = sign_in_as("viewer")
    first, second = library_video(), library_video()
    token = beacon_token(client, first)
    other_video = _altered(token, 1, str(second.id))
    assert beacon(client, second, other_video, **REPORT).status_code == 401
    assert beacon(client, second, token, **REPORT).status_code == 204
    assert _progress(db_session, user, second) is None
    assert _progress(db_session, user, first).last_position == 2


def test_an_expired_token_is_refused(app, client, db_session, sign_in_as, library_video):
    user = sign_in_as("viewer")
    video = library_video()
    with app.test_request_context():
        then = time.time() - beacons.TOKEN_SECONDS - 1
        token = beacons.issue(user.id, user.fs_uniquifier, video.id, now=then)
        assert beacons.read(token, now=then) is not None  # it was good in its day
    assert beacon(client, video, token, **REPORT).status_code == 401
    assert _progress(db_session, user, video) is None


def _deactivate(user) -> None:
    user.active = False


def _no_more_reading(user) -> None:
    user.roles = []


def _signed_out_everywhere(user) -> None:
    user.fs_uniquifier = uuid.uuid4().hex  # what signing out does (catalog.accounts.sessions)


@pytest.mark.parametrize("change", [_deactivate, _no_more_reading, _signed_out_everywhere])
def test_a_person_who_may_no_longer_report_is_refused_at_once(
    client, db_session, sign_in_as, library_video, change
):
    user = sign_in_as("viewer")
    video = library_video()
    token = beacon_token(client, video)
    assert beacon(client, video, token, **REPORT).status_code == 204
    change(user)
    db_session.flush()
    response = beacon(client, video, token, position="4", played="2")
    assert response.status_code == 403
    assert _progress(db_session, user, video).last_position == 2  # unchanged


def test_a_video_taken_out_of_the_library_is_404(client, db_session, sign_in_as, library_video):
    user = sign_in_as("viewer")
    video = library_video()
    token = beacon_token(client, video)
    video.published = False
    db_session.flush()
    assert beacon(client, video, token, **REPORT).status_code == 404
    assert _progress(db_session, user, video) is None
