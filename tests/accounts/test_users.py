"""Account administration over HTTP: the list, creating users, roles, deactivation, two-factor
reset, self-lockout, audit rows and 404s."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from catalog.models import MetadataSync, User
from tests.accounts.conftest import STRONG_PASSWORD, shown_link, user_rows
from tests.factories import UserFactory
from tests.helpers import TEST_PASSWORD, csrf_token, post_form, sign_in, signed_in

MARK = "-acct@example.com"  # every user a list test makes, so the admin stays out of it


def listed(client, query: str) -> list[str]:
    html = client.get(f"/accounts/users?{query}").get_data(as_text=True)
    return re.findall(r">([\w.]+" + re.escape(MARK) + ")<", html)


def by_email(session, email: str) -> User:
    session.expire_all()
    statement = select(User).where(func.lower(User.email) == email.lower())
    return session.scalars(statement).unique().one()


def test_list_searches_and_filters(db_session, admin_client):
    now = datetime.now(UTC)
    UserFactory(
        email=f"alice{MARK}", username="wonderland", roles=["editor"], login_count=5,
        current_login_at=now - timedelta(days=2), current_login_ip="192.0.2.10",
        last_login_at=now - timedelta(days=9), last_login_ip="192.0.2.9",
        tf_primary_method="authenticator",
    )  # fmt: skip
    UserFactory(email=f"bob{MARK}", roles=["viewer"], active=False)
    UserFactory(
        email=f"carol{MARK}", roles=["auditor", "editor"],
        current_login_at=now - timedelta(days=100),
    )  # fmt: skip
    UserFactory(email=f"dave{MARK}", roles=["viewer"], current_login_at=now - timedelta(days=20))

    everyone = [f"{name}{MARK}" for name in ("alice", "bob", "carol", "dave")]
    assert listed(admin_client, "q=ACCT@example") == everyone  # sorted by email
    assert listed(admin_client, "q=WONDER") == [f"alice{MARK}"]  # the user name counts too
    assert listed(admin_client, "q=acct&role=editor") == [f"alice{MARK}", f"carol{MARK}"]
    assert listed(admin_client, "q=acct&active=no") == [f"bob{MARK}"]
    assert listed(admin_client, "q=acct&active=yes") == [
        f"alice{MARK}",
        f"carol{MARK}",
        f"dave{MARK}",
    ]
    assert listed(admin_client, "q=acct&signed_in=never") == [f"bob{MARK}"]
    assert listed(admin_client, "q=acct&signed_in=7d") == [f"alice{MARK}"]
    assert listed(admin_client, "q=acct&signed_in=30d") == [f"alice{MARK}", f"dave{MARK}"]
    assert listed(admin_client, "q=acct&signed_in=90d") == [f"carol{MARK}"]
    assert listed(admin_client, "q=acct&role=nonsense&active=maybe") == everyone  # ignored
    assert listed(admin_client, "q=%25") == []  # a LIKE wildcard is searched for literally

    html = admin_client.get("/accounts/users?q=alice").get_data(as_text=True)
    for shown in ("192.0.2.10", "192.0.2.9", "editor", "authenticator", ">5<"):
        assert shown in html


def test_the_accounts_area_opens_on_its_users(db_session, admin_client):
    response = admin_client.get("/accounts")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/accounts/users")


def test_list_pages(db_session, admin_client):
    for n in range(52):
        UserFactory(email=f"p{n:02d}{MARK}")
    first = admin_client.get("/accounts/users?q=acct").get_data(as_text=True)
    assert "52 users" in first
    assert "Page 1 of 2" in first
    assert listed(admin_client, "q=acct&page=2") == ["p50" + MARK, "p51" + MARK]
    assert listed(admin_client, "q=acct&page=abc")[:1] == ["p00" + MARK]


def test_create_with_a_password(app, db_session, admin_client, other_client):
    response = post_form(
        admin_client, "/accounts/users/new", email="New.Person@Example.COM", username="newbie",
        roles=["editor", "auditor"], initial="password", password=STRONG_PASSWORD,
        active="false", id="1",  # not fields of the form: ignored
    )  # fmt: skip
    assert response.status_code == 302
    user = by_email(db_session, "new.person@example.com")
    assert response.headers["Location"].endswith(f"/accounts/users/{user.id}")
    assert user.email == "New.Person@example.com"  # normalized as sign-in normalizes it
    assert user.active
    assert sorted(role.name for role in user.roles) == ["auditor", "editor"]
    assert user.password.startswith("$argon2")

    [row] = user_rows(db_session, user.id)
    assert (row.action, row.source, row.user_id, row.entity_key) == (
        "create", "web", admin_client.user.id, user.email,
    )  # fmt: skip
    assert row.changes == {
        "email": [None, user.email],
        "username": [None, "newbie"],
        "roles": [[], ["auditor", "editor"]],
        "active": [None, True],
        "password": [None, "(set)"],
    }
    assert STRONG_PASSWORD not in str(row.changes)
    assert user.password not in str(row.changes)

    assert signed_in(sign_in(other_client, "new.person@example.com", STRONG_PASSWORD))
    assert other_client.get("/videos/new").status_code == 200


def test_create_with_a_link_then_use_it_once(app, db_session, admin_client, other_client):
    response = post_form(
        admin_client, "/accounts/users/new", email="linked@example.com", roles=["viewer"],
        initial="link", password="",
    )  # fmt: skip
    assert response.status_code == 302
    user = by_email(db_session, "linked@example.com")
    assert user.password is None
    path = shown_link(admin_client, user.id)
    again = admin_client.get(f"/accounts/users/{user.id}").get_data(as_text=True)
    assert "set-password/" not in again  # shown once

    create, issued = user_rows(db_session, user.id)
    assert "password" not in create.changes
    assert issued.changes == {"password_link": [None, "(issued)"]}
    assert path.rsplit("/", 1)[1] not in str(issued.changes)

    page = other_client.get(path)
    assert page.status_code == 200
    assert "linked@example.com" in page.get_data(as_text=True)
    token = csrf_token(other_client.get(path))
    response = other_client.post(
        path, data={"csrf_token": token, "password": STRONG_PASSWORD, "confirm": STRONG_PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    assert "Your password is set" in other_client.get("/login").get_data(as_text=True)

    *_, row = user_rows(db_session, user.id)
    assert (row.changes, row.user_id) == ({"password": [None, "(set)"]}, user.id)

    assert signed_in(sign_in(other_client, "linked@example.com", STRONG_PASSWORD))
    used = app.test_client().get(path)
    assert used.status_code == 410
    assert "already been used" in used.get_data(as_text=True)


def test_new_link_for_an_existing_user_ends_their_sessions(
    app, db_session, admin_client, other_client
):
    user = UserFactory(roles=["viewer"])
    assert signed_in(sign_in(other_client, user))
    assert post_form(admin_client, f"/accounts/users/{user.id}/password-link").status_code == 302
    path = shown_link(admin_client, user.id)
    assert other_client.get("/videos").status_code == 200  # issuing alone changes nothing
    anonymous = app.test_client()
    token = csrf_token(anonymous.get(path))
    response = anonymous.post(
        path, data={"csrf_token": token, "password": STRONG_PASSWORD, "confirm": STRONG_PASSWORD}
    )
    assert response.status_code == 302
    assert "/login" in other_client.get("/videos").headers["Location"]
    *_, row = user_rows(db_session, user.id)
    assert row.changes == {"password": ["(set)", "(changed)"]}
    assert not signed_in(sign_in(app.test_client(), user.email, TEST_PASSWORD))


def test_create_refuses_duplicates_and_missing_choices(db_session, admin_client):
    UserFactory(email="taken@example.com", username="taken")
    before = db_session.scalar(select(func.count()).select_from(MetadataSync))
    cases = [
        ({"email": "TAKEN@example.com", "roles": ["viewer"]}, "already exists"),
        ({"email": "fresh@example.com", "username": "TAKEN", "roles": ["viewer"]}, "is taken"),
        ({"email": "not-an-email", "roles": ["viewer"]}, "valid email"),
        ({"email": "fresh@example.com"}, "Choose at least one role"),
        ({"email": "fresh@example.com", "roles": ["owner"]}, "not a valid choice"),
        ({"email": "fresh@example.com", "roles": ["viewer"], "initial": "password"},
         "Enter a password"),
        # A typed password that a link would throw away is refused, not dropped in silence.
        ({"email": "fresh@example.com", "roles": ["viewer"], "password": STRONG_PASSWORD},
         "You chose a set-password link, so this password would not be used"),
    ]  # fmt: skip
    for data, message in cases:
        response = post_form(admin_client, "/accounts/users/new", **{"initial": "link", **data})
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    assert db_session.scalar(select(func.count()).where(User.email == "fresh@example.com")) == 0
    assert db_session.scalar(select(func.count()).select_from(MetadataSync)) == before


def test_role_change_applies_on_the_next_request(app, db_session, admin_client, other_client):
    editor = UserFactory(roles=["editor"])
    assert signed_in(sign_in(other_client, editor))
    assert other_client.get("/videos/new").status_code == 200
    before = editor.fs_uniquifier

    form = admin_client.get(f"/accounts/users/{editor.id}").get_data(as_text=True)
    assert re.search(r'<input [^>]*checked[^>]* value="editor"', form)
    response = post_form(admin_client, f"/accounts/users/{editor.id}", roles=["viewer"], active="")
    assert response.status_code == 302

    # The session held before the change is refused; signed in again, the new role applies.
    refused = other_client.get("/videos/new")
    assert refused.status_code == 302
    assert "/login" in refused.headers["Location"]
    assert signed_in(sign_in(other_client, editor))
    assert other_client.get("/videos/new").status_code == 403
    assert other_client.get("/videos").status_code == 200

    user = by_email(db_session, editor.email)
    assert user.fs_uniquifier != before
    assert user.active
    [row] = user_rows(db_session, editor.id)
    assert (row.action, row.user_id) == ("update", admin_client.user.id)
    assert row.changes == {"roles": [["editor"], ["viewer"]]}

    unchanged = post_form(admin_client, f"/accounts/users/{editor.id}", roles=["viewer"])
    assert unchanged.status_code == 302
    assert len(user_rows(db_session, editor.id)) == 1  # nothing changed, nothing recorded


def test_deactivation_refuses_the_existing_session(app, db_session, admin_client, other_client):
    user = UserFactory(roles=["viewer"])
    assert signed_in(sign_in(other_client, user))
    assert other_client.get("/videos").status_code == 200

    confirm = admin_client.get(f"/accounts/users/{user.id}/deactivate")
    assert confirm.status_code == 200
    assert "signed out everywhere" in confirm.get_data(as_text=True)
    assert by_email(db_session, user.email).active  # looking changes nothing

    assert post_form(admin_client, f"/accounts/users/{user.id}/deactivate").status_code == 302
    refused = other_client.get("/videos")
    assert refused.status_code == 302
    assert "/login" in refused.headers["Location"]
    assert not signed_in(sign_in(app.test_client(), user.email, TEST_PASSWORD))
    assert not by_email(db_session, user.email).active
    assert [row.changes for row in user_rows(db_session, user.id)] == [{"active": [True, False]}]

    listed = admin_client.get("/accounts/users?active=no").get_data(as_text=True)
    assert user.email in listed
    link = post_form(admin_client, f"/accounts/users/{user.id}/password-link")
    assert link.status_code == 400
    assert "Reactivate the account" in link.get_data(as_text=True)

    assert post_form(admin_client, f"/accounts/users/{user.id}/reactivate").status_code == 302
    assert by_email(db_session, user.email).active
    assert signed_in(sign_in(app.test_client(), user.email, TEST_PASSWORD))
    assert [row.changes for row in user_rows(db_session, user.id)] == [
        {"active": [True, False]},
        {"active": [False, True]},
    ]


def test_an_admin_cannot_lock_themself_out(db_session, admin_client):
    refused = post_form(admin_client, f"/accounts/users/{admin_client.user.id}", roles=["editor"])
    assert refused.status_code == 400
    assert "You cannot remove your own admin role." in refused.get_data(as_text=True)
    refused = post_form(admin_client, f"/accounts/users/{admin_client.user.id}/deactivate")
    assert refused.status_code == 400
    assert "You cannot deactivate your own account." in refused.get_data(as_text=True)
    assert user_rows(db_session, admin_client.user.id) == []
    me = by_email(db_session, admin_client.user.email)
    assert me.active
    assert [role.name for role in me.roles] == ["admin"]

    # Adding a role to oneself is fine, and does not sign one out.
    assert (
        post_form(
            admin_client, f"/accounts/users/{admin_client.user.id}", roles=["admin", "editor"]
        ).status_code
        == 302
    )
    assert admin_client.get("/accounts/users").status_code == 200
    [row] = user_rows(db_session, admin_client.user.id)
    assert row.changes == {"roles": [["admin"], ["admin", "editor"]]}


def test_reset_two_factor(db_session, admin_client):
    user = UserFactory(
        roles=["editor"], tf_primary_method="authenticator", tf_totp_secret="encrypted-secret"
    )
    page = admin_client.get(f"/accounts/users/{user.id}").get_data(as_text=True)
    assert "Reset two-factor" in page
    assert admin_client.get(f"/accounts/users/{user.id}/reset-two-factor").status_code == 200
    assert post_form(admin_client, f"/accounts/users/{user.id}/reset-two-factor").status_code == 302
    db_session.expire_all()
    assert (user.tf_primary_method, user.tf_totp_secret) == (None, None)
    [row] = user_rows(db_session, user.id)
    assert row.changes == {"two_factor": ["authenticator", None]}

    again = post_form(admin_client, f"/accounts/users/{user.id}/reset-two-factor")
    assert again.status_code == 302
    assert "Nothing to change" in admin_client.get(again.headers["Location"]).get_data(as_text=True)
    assert len(user_rows(db_session, user.id)) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/users/987654",
        "/accounts/users/abc",
        "/accounts/users/-1",
        "/accounts/users/99999999999999999999",
        "/accounts/users/1.5",
        "/accounts/users/987654/deactivate",
        "/accounts/users/987654/reset-two-factor",
        "/accounts/users/987654/password-link",
    ],
)
def test_missing_or_malformed_ids_are_404(db_session, admin_client, path):
    assert admin_client.get(path).status_code == 404
    token = csrf_token(admin_client.get("/accounts/users"))
    assert admin_client.post(path, data={"csrf_token": token}).status_code in (404, 405)


@pytest.mark.parametrize("role", ["editor", "auditor", "viewer"])
def test_others_cannot_administer_accounts(client, db_session, sign_in_as, role):
    me = sign_in_as(role)
    target = UserFactory(roles=["viewer"])
    token = csrf_token(client.get("/videos"))
    attempts = [
        ("/accounts/users/new", {"email": "sneaky@example.com", "roles": ["admin"]}),
        (f"/accounts/users/{me.id}", {"roles": ["admin"]}),
        (f"/accounts/users/{target.id}/deactivate", {}),
        (f"/accounts/users/{target.id}/password-link", {}),
    ]
    for url, data in attempts:
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 403
        assert client.get(url).status_code == 403
    assert client.get("/accounts/users").status_code == 403
    assert client.get("/accounts/roles").status_code == 403
    db_session.expire_all()
    assert [r.name for r in me.roles] == [role]
    assert target.active
    assert db_session.scalar(select(func.count()).where(User.email == "sneaky@example.com")) == 0
    assert db_session.scalar(
        select(func.count()).where(MetadataSync.entity_type == "user")
    ) == 0  # fmt: skip


def test_roles_matrix(db_session, admin_client):
    page = admin_client.get("/accounts/roles")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "defined in the application" in html

    def cell(role, permission):
        match = re.search(
            rf'data-role="{role}" data-permission="{permission}">(.*?)</td>', html, re.S
        )
        assert match, (role, permission)
        return "not granted" not in match.group(1)

    assert cell("admin", "users-manage")
    assert cell("editor", "catalog-edit")
    assert not cell("editor", "users-manage")
    assert cell("auditor", "audit-read")
    assert not cell("auditor", "catalog-edit")
    assert cell("viewer", "catalog-read")
    assert not cell("viewer", "audit-read")


def test_audit_page_shows_account_changes_and_filters_by_entity(db_session, admin_client):
    user = UserFactory(email="audited@example.com", roles=["editor"])
    assert (
        post_form(admin_client, f"/accounts/users/{user.id}", roles=["viewer"]).status_code == 302
    )
    db_session.add(
        MetadataSync(
            entity_type="video", entity_id=1, entity_key="vidKey12345", action="update",
            source="web", changes={"title": ["a", "b"]},
        )
    )  # fmt: skip
    db_session.flush()

    everything = admin_client.get("/audit").get_data(as_text=True)
    assert "user audited@example.com" in everything
    assert "vidKey12345" in everything
    users_only = admin_client.get("/audit?entity=user").get_data(as_text=True)
    assert "user audited@example.com" in users_only
    assert "vidKey12345" not in users_only
    assert re.search(r"<option selected>user</option>", users_only)
    videos_only = admin_client.get("/audit?entity=video").get_data(as_text=True)
    assert "user audited@example.com" not in videos_only
    assert "vidKey12345" in videos_only
