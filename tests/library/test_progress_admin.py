"""An admin sees a person's library progress on their account and clears it: every row
goes, their reactions and other people's progress stay, and the clearing is one audit row
of the account (entity user)."""

from sqlalchemy import func, select

from catalog.models import MetadataSync, VideoProgress, VideoReaction
from tests.factories import UserFactory, VideoFactory
from tests.helpers import csrf_token


def progress(session, user, video, position: float) -> None:
    session.add(
        VideoProgress(
            user_id=user.id, video_id=video.id, watched_seconds=position, duration_seconds=60,
            last_position=position,
        )
    )  # fmt: skip
    session.flush()


def rows_of(session, user) -> int:
    return session.scalar(
        select(func.count()).select_from(VideoProgress).where(VideoProgress.user_id == user.id)
    )


def test_an_admin_sees_and_clears_a_persons_progress(client, db_session, sign_in_as):
    admin = sign_in_as("admin")
    person, other = UserFactory(roles=["viewer"]), UserFactory(roles=["viewer"])
    first, second = VideoFactory(title="First song"), VideoFactory()
    progress(db_session, person, first, 12)
    progress(db_session, person, second, 30)
    progress(db_session, other, first, 5)
    db_session.add(VideoReaction(user_id=person.id, video_id=first.id, reaction_type="like"))
    db_session.flush()

    account = client.get(f"/accounts/users/{person.id}").get_data(as_text=True)
    assert f'href="/accounts/users/{person.id}/progress"' in account
    page = client.get(f"/accounts/users/{person.id}/progress").get_data(as_text=True)
    assert "2 videos started." in page
    assert "First song" in page
    assert "12 of 60 s" in page
    confirm = client.get(f"/accounts/users/{person.id}/progress/clear")
    assert "Their place in 2 videos is forgotten" in confirm.get_data(as_text=True)

    token = csrf_token(client.get(f"/accounts/users/{person.id}/progress/clear"))
    response = client.post(
        f"/accounts/users/{person.id}/progress/clear", data={"csrf_token": token}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Cleared the progress of {person.email} on 2 videos." in page
    assert "0 videos started." in page
    assert rows_of(db_session, person) == 0
    assert rows_of(db_session, other) == 1
    assert db_session.scalar(select(func.count()).select_from(VideoReaction)) == 1
    [row] = db_session.scalars(
        select(MetadataSync).where(
            MetadataSync.entity_type == "user", MetadataSync.entity_id == person.id
        )
    ).all()
    assert (row.action, row.source, row.user_id) == ("update", "web", admin.id)
    assert row.changes == {"library_progress": [2, 0]}
    history = client.get(f"/accounts/users/{person.id}").get_data(as_text=True)
    assert "library_progress" in history


def test_clearing_nothing_writes_nothing(client, db_session, sign_in_as):
    sign_in_as("admin")
    person = UserFactory(roles=["viewer"])
    token = csrf_token(client.get(f"/accounts/users/{person.id}/progress/clear"))
    response = client.post(
        f"/accounts/users/{person.id}/progress/clear", data={"csrf_token": token},
        follow_redirects=True,
    )  # fmt: skip
    assert "Nothing to clear." in response.get_data(as_text=True)
    rows = select(MetadataSync).where(
        MetadataSync.entity_type == "user", MetadataSync.entity_id == person.id
    )
    assert db_session.scalars(rows).all() == []


def test_clearing_needs_the_post_and_its_token(client, db_session, sign_in_as):
    sign_in_as("admin")
    person = UserFactory(roles=["viewer"])
    progress(db_session, person, VideoFactory(), 10)
    assert client.post(f"/accounts/users/{person.id}/progress/clear").status_code == 400
    assert rows_of(db_session, person) == 1
