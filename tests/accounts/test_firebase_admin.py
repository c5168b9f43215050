"""An admin's part in Firebase sign-in, on /accounts: each user's sign-in methods, unlinking a
Firebase identity, and turning password sign-in off and on; each audited, refusals change
nothing and leave no audit row."""

import uuid

from tests.accounts.conftest import user_rows
from tests.factories import UserFactory
from tests.helpers import TEST_PASSWORD, csrf_token, post_form, sign_in, signed_in

MARK = "-fbadmin@example.com"


def uid() -> str:
    return f"fb-{uuid.uuid4().hex}"


def test_the_list_and_the_page_show_how_each_user_signs_in(db_session, admin_client):
    both = UserFactory(
        email=f"both{MARK}", roles=["viewer"], firebase_uid=uid(), auth_method="firebase"
    )
    UserFactory(email=f"only{MARK}", roles=["viewer"], firebase_uid=uid(), password_sign_in=False)
    UserFactory(email=f"pass{MARK}", roles=["viewer"])
    html = admin_client.get("/accounts/users?q=fbadmin").get_data(as_text=True)
    rows = {
        email: html.split(email, 1)[1].split("</tr>", 1)[0]
        for email in (f"both{MARK}", f"only{MARK}", f"pass{MARK}")
    }
    assert "Firebase" in rows[f"both{MARK}"]
    assert "Password sign-in is off" not in rows[f"both{MARK}"]
    assert "Firebase" in rows[f"only{MARK}"]
    assert "Password sign-in is off" in rows[f"only{MARK}"]
    assert "Firebase" not in rows[f"pass{MARK}"]
    assert ">password<" in rows[f"pass{MARK}"]
    page = admin_client.get(f"/accounts/users/{both.id}").get_data(as_text=True)
    assert both.firebase_uid in page
    assert "latest sign-in with Firebase" in page


def test_unlinking_a_firebase_identity_is_audited_and_ends_its_sessions(
    app, db_session, admin_client
):
    identity = uid()
    user = UserFactory(roles=["viewer"], firebase_uid=identity)
    other = app.test_client()
    assert signed_in(sign_in(other, user))
    page = admin_client.get(f"/accounts/users/{user.id}").get_data(as_text=True)
    assert identity in page
    assert "Unlink Firebase…" in page
    confirm = admin_client.get(f"/accounts/users/{user.id}/unlink-firebase")
    assert confirm.status_code == 200
    assert "Unlink the Firebase identity of" in confirm.get_data(as_text=True)
    response = post_form(admin_client, f"/accounts/users/{user.id}/unlink-firebase")
    assert response.status_code == 302
    db_session.refresh(user)
    assert user.firebase_uid is None
    [row] = user_rows(db_session, user.id)
    assert row.changes == {"firebase_uid": [identity, None]}
    assert row.user_id == admin_client.user.id
    assert other.get("/videos").status_code == 302  # their session ended
    # Nothing left to unlink: nothing changes, nothing is recorded.
    post_form(admin_client, f"/accounts/users/{user.id}/unlink-firebase")
    assert len(user_rows(db_session, user.id)) == 1


def test_password_sign_in_off_and_on(app, db_session, admin_client):
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    other = app.test_client()
    assert signed_in(sign_in(other, user))
    page = admin_client.get(f"/accounts/users/{user.id}").get_data(as_text=True)
    assert "Turn password sign-in off…" in page
    response = post_form(admin_client, f"/accounts/users/{user.id}/password-sign-in/off")
    assert response.status_code == 302
    db_session.refresh(user)
    assert user.password_sign_in is False
    assert [row.changes for row in user_rows(db_session, user.id)] == [
        {"password_sign_in": [True, False]}
    ]
    assert other.get("/videos").status_code == 302  # sessions opened with the password end
    # The password form refuses them, with the message of a wrong password.
    refused = sign_in(app.test_client(), user)
    assert not signed_in(refused)
    assert "The email or the password is not right." in refused.get_data(as_text=True)
    page = admin_client.get(f"/accounts/users/{user.id}").get_data(as_text=True)
    assert "Turn password sign-in on…" in page

    post_form(admin_client, f"/accounts/users/{user.id}/password-sign-in/on")
    db_session.refresh(user)
    assert user.password_sign_in is True
    assert [row.changes for row in user_rows(db_session, user.id)][-1] == {
        "password_sign_in": [False, True]
    }
    assert signed_in(sign_in(app.test_client(), user, TEST_PASSWORD))


def test_password_sign_in_stays_on_for_a_user_without_firebase(db_session, admin_client):
    user = UserFactory(roles=["viewer"])
    page = admin_client.get(f"/accounts/users/{user.id}").get_data(as_text=True)
    assert "Turn password sign-in off…" not in page
    url = f"/accounts/users/{user.id}/password-sign-in/off"
    response = admin_client.post(url, data={"csrf_token": csrf_token(admin_client.get(url))})
    assert response.status_code == 400
    assert "signed in with Firebase once" in response.get_data(as_text=True)
    db_session.refresh(user)
    assert user.password_sign_in is True
    assert user_rows(db_session, user.id) == []


def test_only_admins_change_how_someone_signs_in(db_session, editor_client):
    user = UserFactory(roles=["viewer"], firebase_uid=uid())
    token = csrf_token(editor_client.get("/videos"))
    for action in ("unlink-firebase", "password-sign-in/off", "password-sign-in/on"):
        url = f"/accounts/users/{user.id}/{action}"
        assert editor_client.post(url, data={"csrf_token": token}).status_code == 403
    db_session.refresh(user)
    assert (user.firebase_uid is not None, user.password_sign_in) == (True, True)
    assert user_rows(db_session, user.id) == []
