"""The signed-in user per request: one look-up of the user's row, the roles carried by the
session while PostgreSQL's roles_version says they are current (catalog/accounts/identity.py)."""

from contextlib import contextmanager

from sqlalchemy import event, select

from catalog.extensions import db
from catalog.models import Role, User
from tests.factories import UserFactory
from tests.helpers import sign_in, signed_in


@contextmanager
def statements(app):
    sent: list[str] = []

    def record(conn, cursor, statement, *args):
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_request_reads_the_user_row_alone(app, client, db_session):
    user = UserFactory(roles=["viewer"])
    assert signed_in(sign_in(client, user))  # the sign-in puts the roles in the session
    # (a page that loads the user and writes nothing else in the session)
    assert "Set-Cookie" not in client.get("/health").headers
    with statements(app) as sent:
        assert client.get("/videos").status_code == 200
    reads = [s for s in sent if "FROM users" in s]
    assert len(reads) == 1, sent
    assert not [s for s in sent if "roles_users" in s], sent


def test_roles_changed_anyhow_count_from_the_next_request(app, client, db_session):
    """Not through the accounts service (which also ends other sessions): straight in the
    table, as a psql session would; the session's carried roles no longer count."""
    user = UserFactory(roles=["viewer"])
    assert signed_in(sign_in(client, user))
    assert client.get("/videos/new").status_code == 403
    version = db_session.scalar(select(User.roles_version).where(User.id == user.id))

    editor = db_session.scalars(select(Role).where(Role.name == "editor")).one()
    user.roles.append(editor)
    db_session.flush()
    assert db_session.scalar(select(User.roles_version).where(User.id == user.id)) > version
    assert client.get("/videos/new").status_code == 200

    user.roles.remove(editor)
    db_session.flush()
    assert client.get("/videos/new").status_code == 403
    assert client.get("/videos").status_code == 200


def test_a_renamed_role_moves_its_users_versions(db_session):
    user = UserFactory(roles=["auditor"])
    version = db_session.scalar(select(User.roles_version).where(User.id == user.id))
    auditor = db_session.scalars(select(Role).where(Role.name == "auditor")).one()
    auditor.name = "auditor-renamed"
    db_session.flush()
    assert db_session.scalar(select(User.roles_version).where(User.id == user.id)) == version + 1
