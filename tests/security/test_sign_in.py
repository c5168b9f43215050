"""Sign-in as a prober sees it: the same answer whether or not an account exists, valid
no-store headers on every page with a secret, second-factor codes recorded and throttled like
passwords, GETs of two-factor pages that change nothing, and attempts recorded as they were."""

import re
import threading
from contextlib import contextmanager
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from catalog import create_app
from catalog.extensions import db, security
from catalog.models import LoginAttempt, User
from tests.conftest import app_config, migrated_database
from tests.factories import UserFactory, committed_user
from tests.helpers import TEST_PASSWORD, csrf_token, sign_in, signed_in, totp_code, totp_secret

GENERIC = "The email or the password is not right."
HOSTILE_NEXT = ("https://evil.example/", "//evil.example", "javascript:alert(1)",
                "///evil.example", "https://localhost@evil.example")  # fmt: skip


def _attempts(db_session, email: str) -> list[tuple[str, bool, str]]:
    db_session.expire_all()
    rows = db_session.scalars(
        select(LoginAttempt).where(LoginAttempt.email == email.lower()).order_by(LoginAttempt.id)
    )
    return [(row.kind, row.succeeded, row.ip) for row in rows]


def _password_step(client, user, address: str = "127.0.0.1"):
    token = csrf_token(client.get("/login"))
    return client.post(
        "/login",
        environ_base={"REMOTE_ADDR": address},
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token},
    )


def _send_code(client, code: str, address: str = "127.0.0.1"):
    # The page's token: a GET of /tf-validate with the sign-in pending is a plain page.
    token = csrf_token(client.get("/tf-validate"))
    return client.post(
        "/tf-validate",
        environ_base={"REMOTE_ADDR": address},
        data={"code": code, "csrf_token": token},
    )


def _wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


@pytest.fixture
def two_factor_user(app, db_session):
    return UserFactory(
        roles=["editor"], tf_primary_method="authenticator", tf_totp_secret=totp_secret(app)
    )


def _signed_in(client) -> bool:
    return client.get("/videos").status_code == 200


# -- 11 §9: one answer for unknown accounts and wrong passwords -------------------------------
def _without_token_and_email(html: str, email: str) -> str:
    html = re.sub(r'(name="csrf[-_]token"[^>]*(?:content|value)=")[^"]*"', r"\1", html)
    return html.replace(email, "EMAIL")


def test_unknown_account_and_wrong_password_get_the_same_answer(client, db_session):
    user = UserFactory(roles=["viewer"])
    unknown = "nobody-here@example.com"
    token = csrf_token(client.get("/login"))
    answers = [
        client.post(
            "/login", data={"email": email, "password": "wrong guess!", "csrf_token": token}
        )
        for email in (user.email, unknown)
    ]
    assert [answer.status_code for answer in answers] == [200, 200]
    pages = [answer.get_data(as_text=True) for answer in answers]
    for page in pages:
        assert GENERIC in page
        assert "does not exist" not in page
        assert "Invalid password" not in page
    assert _without_token_and_email(pages[0], user.email) == _without_token_and_email(
        pages[1], unknown
    )

    headers = {"X-CSRFToken": token}
    json_answers = [
        client.post("/login", headers=headers, json={"email": email, "password": "wrong guess!"})
        for email in (user.email, unknown)
    ]
    assert json_answers[0].status_code == json_answers[1].status_code == 400
    assert json_answers[0].get_json() == json_answers[1].get_json()
    assert GENERIC in str(json_answers[0].get_json())


class _CountingContext:
    """Flask-Security's password context, counting the Argon2 computations it does."""

    def __init__(self, context):
        self.context, self.calls = context, []

    def hash(self, *args, **kwargs):
        digest = self.context.hash(*args, **kwargs)
        self.calls.append(("hash", digest.rsplit("$", 2)[0]))
        return digest

    def verify(self, secret, digest, *args, **kwargs):
        self.calls.append(("verify", digest.rsplit("$", 2)[0]))
        return self.context.verify(secret, digest, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.context, name)


def test_an_unknown_account_costs_the_same_hashing_as_a_known_one(
    app, client, db_session, monkeypatch
):
    """Same timing: a dummy password is hashed for an account that does not exist, with the
    parameters (memory, time, lanes) of the stored hashes that a known account verifies."""
    user = UserFactory(roles=["viewer"])
    counting = _CountingContext(security.pwd_context)
    monkeypatch.setattr(security, "pwd_context", counting)
    token = csrf_token(client.get("/login"))
    work = {}
    for email in (user.email, "nobody-here@example.com"):
        counting.calls.clear()
        client.post(
            "/login", data={"email": email, "password": "wrong guess!", "csrf_token": token}
        )
        work[email] = list(counting.calls)
    (known_kind, known_params), = work[user.email]  # fmt: skip
    (unknown_kind, unknown_params), = work["nobody-here@example.com"]  # fmt: skip
    assert (known_kind, unknown_kind) == ("verify", "hash")
    assert known_params.startswith("$argon2")
    assert unknown_params == known_params  # e.g. $argon2id$v=19$m=65536,t=3,p=4


def test_there_is_no_self_service_reset_to_probe(client, db_session):
    """Accounts get passwords from set-password links an admin issues; no page takes an email
    and says whether it is known."""
    user = UserFactory(roles=["viewer"])
    for email in (user.email, "nobody-here@example.com"):
        assert client.get("/reset").status_code == 404
        assert client.post("/reset", data={"email": email}).status_code == 404


# -- 11 §9: a valid no-store on every page with a secret --------------------------------------
def _assert_no_store(response, what: str) -> None:
    assert response.headers.get("Cache-Control") == "no-store", (what, response.headers)


def test_pages_with_secrets_send_a_valid_no_store(app, client, db_session, sign_in_as):
    token = csrf_token(client.get("/login"))
    _assert_no_store(client.get("/login"), "sign-in page")
    failed = client.post("/login", data={"email": "x@example.com", "password": "y" * 12,
                                         "csrf_token": token})  # fmt: skip
    _assert_no_store(failed, "failed sign-in")
    user = UserFactory(roles=["viewer"])
    answer = client.post(
        "/login", headers={"X-CSRFToken": token},
        json={"email": user.email, "password": TEST_PASSWORD},
    )  # fmt: skip
    assert answer.status_code == 200
    _assert_no_store(answer, "JSON sign-in")
    _assert_no_store(client.get("/change"), "password change")
    setup = client.post(
        "/tf-setup",
        data={"setup": "authenticator", "csrf_token": csrf_token(client.get("/tf-setup"))},
    )
    assert "data:image/svg+xml;base64," in setup.get_data(as_text=True)  # the QR code
    _assert_no_store(setup, "two-factor set-up with its QR code")
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/videos"))})

    pending = UserFactory(roles=["viewer"], tf_primary_method="authenticator",
                          tf_totp_secret=totp_secret(app))  # fmt: skip
    assert "/tf-validate" in _password_step(client, pending).headers["Location"]
    _assert_no_store(client.get("/tf-validate"), "two-factor validation")
    _assert_no_store(_send_code(client, "000000"), "wrong code")

    admin_client = app.test_client()
    admin = UserFactory(roles=["admin"], tf_primary_method="authenticator",
                        tf_totp_secret=totp_secret(app))  # fmt: skip
    assert signed_in(sign_in(admin_client, admin))
    _assert_no_store(admin_client.get("/accounts/users/new"), "new-user page")
    created = admin_client.post("/accounts/users/new", data={
        "csrf_token": csrf_token(admin_client.get("/accounts/users/new")),
        "email": "new-person@example.com", "roles": ["viewer"], "initial": "link",
    })  # fmt: skip
    assert created.status_code == 302
    shown = admin_client.get(created.headers["Location"])
    link = re.search(r'value="https?://[^"]+(/accounts/set-password/[\w.-]+)"', shown.text)
    assert link, "the new user's page shows the set-password link"
    _assert_no_store(shown, "new user's page with the link")
    _assert_no_store(app.test_client().get(link.group(1)), "set-password page")
    for response in (setup, shown, failed):
        assert "private=True" not in str(response.headers)


def test_the_two_factor_set_up_offers_its_one_method_chosen(client, db_session):
    """A user setting up a second factor meets the one method there is already chosen (one
    click, Submit), and reads that nothing is set up yet, not Flask-Security's 'none'."""
    user = UserFactory(roles=["viewer"])
    assert signed_in(sign_in(client, user))
    page = client.get("/tf-setup").get_data(as_text=True)
    assert "Set up now: nothing yet." in page
    (radio,) = re.findall(r'<input[^>]*name="setup"[^>]*>', page)
    assert 'value="authenticator"' in radio
    assert "checked" in radio


# -- 12 §1: the second factor counts like the password ----------------------------------------
def test_wrong_codes_are_recorded_as_second_factor_attempts(app, client, db_session,
                                                            two_factor_user):  # fmt: skip
    user = two_factor_user
    _password_step(client, user, address="198.51.100.20")
    right = totp_code(app, user.tf_totp_secret)
    answer = _send_code(client, _wrong(right), address="198.51.100.21")
    assert answer.status_code == 200
    assert "Invalid code" in answer.get_data(as_text=True)
    answer = _send_code(client, right, address="198.51.100.21")
    assert answer.status_code == 302
    assert _signed_in(client)
    assert _attempts(db_session, user.email) == [
        ("password", True, "198.51.100.20"),
        ("second_factor", False, "198.51.100.21"),
        ("second_factor", True, "198.51.100.21"),
    ]


def test_a_run_of_wrong_codes_ends_the_half_sign_in(app, client, db_session, two_factor_user):
    user = two_factor_user
    _password_step(client, user)
    saved_cookie = client.get_cookie("session").value  # as a guesser would keep it
    right = totp_code(app, user.tf_totp_secret)
    for _ in range(2):
        assert _send_code(client, _wrong(right)).status_code == 200
    ended = _send_code(client, _wrong(right))
    assert ended.status_code == 302
    assert ended.headers["Location"].endswith("/login")
    assert "sign in again" in client.get("/login").get_data(as_text=True)

    # The right code no longer signs in: the password has to be entered again ...
    token = csrf_token(client.get("/login"))
    answer = client.post("/tf-validate", data={"code": right, "csrf_token": token})
    assert answer.status_code == 302
    assert "/login" in answer.headers["Location"]
    assert not _signed_in(client)
    # ... also with the session cookie of the half sign-in saved before the run ended.
    client.set_cookie("session", saved_cookie)
    token = csrf_token(client.get("/tf-validate"))
    answer = client.post("/tf-validate", data={"code": right, "csrf_token": token})
    assert answer.status_code == 302
    assert "/login" in answer.headers["Location"]
    assert not _signed_in(client)
    # The password again opens a new run, and the right code signs in.
    _password_step(client, user)
    assert _send_code(client, totp_code(app, user.tf_totp_secret)).status_code == 302
    assert _signed_in(client)


def test_wrong_codes_are_throttled_per_account(app, client, db_session, two_factor_user):
    user = two_factor_user
    right = totp_code(app, user.tf_totp_secret)
    _password_step(client, user)
    for _ in range(3):
        _send_code(client, _wrong(right))
    _password_step(client, user)
    for _ in range(2):
        assert _send_code(client, _wrong(right)).status_code == 200
    # Five failures of the account in the window: even the right code is refused.
    refused = _send_code(client, totp_code(app, user.tf_totp_secret))
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    assert not _signed_in(client)
    # From another address as well, and the password step too: the account is paused.
    elsewhere = app.test_client()
    assert _password_step(elsewhere, user, address="192.0.2.200").status_code == 429
    failures = [a for a in _attempts(db_session, user.email) if not a[1]]
    assert len(failures) == 5
    assert {kind for kind, _, _ in failures} == {"second_factor"}


def test_wrong_codes_are_throttled_per_address(app, client, db_session, two_factor_user):
    guesser = "203.0.113.50"
    token = csrf_token(client.get("/login"))
    for n in range(20):  # failures of other accounts from the same address
        client.post("/login", environ_base={"REMOTE_ADDR": guesser},
                    data={"email": f"guess{n}@example.com", "password": "x" * 12,
                          "csrf_token": token})  # fmt: skip
    user = two_factor_user
    assert _password_step(client, user, address="198.51.100.30").status_code == 302
    refused = _send_code(client, totp_code(app, user.tf_totp_secret), address=guesser)
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert _send_code(client, totp_code(app, user.tf_totp_secret),
                      address="198.51.100.30").status_code == 302  # fmt: skip
    assert _signed_in(client)


def test_the_owner_hears_of_wrong_codes_at_the_next_sign_in(app, client, db_session,
                                                            two_factor_user):  # fmt: skip
    user = two_factor_user
    assert signed_in(sign_in(client, user))  # a sign-in before: the failures come after it
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/videos"))})

    guesser = app.test_client()
    _password_step(guesser, user, address="203.0.113.77")
    for _ in range(2):
        _send_code(guesser, _wrong(totp_code(app, user.tf_totp_secret)), address="203.0.113.77")

    _password_step(client, user)
    landing = client.get(
        _send_code(client, totp_code(app, user.tf_totp_secret)).headers["Location"]
    )
    page = landing.get_data(as_text=True)
    assert "2 failed second-factor attempts since your last sign-in" in page
    assert "last from 203.0.113.77 at " in page
    assert re.search(r"at \d{4}-\d\d-\d\d \d\d:\d\d UTC", page)

    client.post("/logout", data={"csrf_token": csrf_token(client.get("/videos"))})
    _password_step(client, user)
    landing = client.get(
        _send_code(client, totp_code(app, user.tf_totp_secret)).headers["Location"]
    )
    assert "failed second-factor" not in landing.get_data(as_text=True)  # told once


# -- 12 §7: GETs of two-factor pages change nothing -------------------------------------------
@pytest.mark.parametrize("path", ["/tf-validate", "/tf-rescue", "/tf-select"])
def test_a_get_of_a_two_factor_page_signs_nobody_out(app, client, db_session, path):
    user = UserFactory(roles=["viewer"])
    assert signed_in(sign_in(client, user))
    other_device = app.test_client()
    assert signed_in(sign_in(other_device, user))
    db_session.expire_all()
    uniquifier = db_session.get(User, user.id).fs_uniquifier

    response = client.get(path)  # a top-level navigation from another site
    assert response.status_code == 302
    assert "/login" not in response.headers["Location"]
    assert "Set-Cookie" not in response.headers  # the session is not touched
    db_session.expire_all()
    assert db_session.get(User, user.id).fs_uniquifier == uniquifier
    assert _signed_in(client)
    assert _signed_in(other_device)


@pytest.mark.parametrize("path", ["/tf-validate", "/tf-rescue", "/tf-select", "/tf-setup"])
def test_a_get_of_a_two_factor_page_without_a_sign_in_touches_no_session(client, db_session,
                                                                         path):  # fmt: skip
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    assert "Set-Cookie" not in response.headers


def test_a_get_of_the_code_page_keeps_a_pending_sign_in(app, client, db_session,
                                                        two_factor_user):  # fmt: skip
    _password_step(client, two_factor_user)
    assert client.get("/tf-validate").status_code == 200
    assert client.get("/tf-rescue").status_code == 200
    assert client.get("/tf-select").status_code == 302  # one method: nothing to choose
    assert _send_code(client, totp_code(app, two_factor_user.tf_totp_secret)).status_code == 302
    assert _signed_in(client)


# -- 12 §8: attempts recorded as they were ----------------------------------------------------
def test_a_right_password_with_a_rejected_next_is_not_a_failure(client, db_session):
    user = UserFactory(roles=["viewer"])
    for target in HOSTILE_NEXT:
        token = csrf_token(client.get("/login"))
        answer = client.post("/login", query_string={"next": target},
                             data={"email": user.email, "password": TEST_PASSWORD,
                                   "csrf_token": token})  # fmt: skip
        assert answer.status_code == 302, target
        assert urlsplit(answer.headers["Location"]).netloc in ("", "localhost"), target
        assert _signed_in(client)
        client.post("/logout", data={"csrf_token": csrf_token(client.get("/videos"))})
    assert _attempts(db_session, user.email) == [("password", True, "127.0.0.1")] * 5
    assert _password_step(client, user).status_code == 302  # not throttled


def test_json_sign_ins_record_the_email_and_the_outcome(app, client, db_session):
    user, bystander = UserFactory(roles=["viewer"]), UserFactory(roles=["viewer"])
    headers = {"X-CSRFToken": csrf_token(client.get("/login"))}
    for n in range(5):  # a guesser's failures, each from its own address
        answer = client.post("/login", headers=headers,
                             environ_base={"REMOTE_ADDR": f"192.0.2.{n}"},
                             json={"email": user.email, "password": "wrong guess!"})  # fmt: skip
        assert answer.status_code == 400
    assert _attempts(db_session, user.email) == [
        ("password", False, f"192.0.2.{n}") for n in range(5)
    ]
    # Another account's JSON sign-in is not throttled by them, and is recorded as a success.
    answer = client.post("/login", headers=headers,
                         json={"email": bystander.email, "password": TEST_PASSWORD})  # fmt: skip
    assert answer.status_code == 200
    assert _attempts(db_session, bystander.email) == [("password", True, "127.0.0.1")]
    # The guessed account is paused, for JSON as for forms.
    other = app.test_client()
    answer = other.post("/login", headers={"X-CSRFToken": csrf_token(other.get("/login"))},
                        json={"email": user.email, "password": TEST_PASSWORD})  # fmt: skip
    assert answer.status_code == 429
    assert "Retry-After" in answer.headers


@contextmanager
def _own_app(postgres, name: str, **config):
    """An app on a database of its own, for requests that commit (each in its connection)."""
    postgres.drop_database(name)
    app = create_app({**app_config(migrated_database(postgres, name)), **config})
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()
        postgres.drop_database(name)


def test_password_reset_answers_alike_if_it_is_turned_on(postgres, monkeypatch):
    """Catalog has no self-service reset; if SECURITY_RECOVERABLE is ever turned on, /reset
    says the same whether or not the account exists, and mails only a real one."""
    sent: list[str] = []
    try:
        # No DNS here: the reset form would otherwise look up example.com's mail servers.
        no_dns = {"check_deliverability": False}
        with _own_app(postgres, "catalog_sign_in_reset", SECURITY_RECOVERABLE=True,
                      SECURITY_EMAIL_VALIDATOR_ARGS=no_dns) as app:  # fmt: skip
            monkeypatch.setattr(
                security.mail_util, "send_mail",
                lambda template, subject, recipient, *args, **kwargs: sent.append(recipient),
            )  # fmt: skip
            committed_user(app, "viewer", "known@example.com")
            client = app.test_client()
            answers = {}
            for email in ("known@example.com", "unknown@example.com"):
                token = csrf_token(client.get("/reset"))
                answer = client.post("/reset", data={"email": email, "csrf_token": token})
                page = answer.get_data(as_text=True)
                assert f"Instructions to reset your password have been sent to {email}" in page
                answers[email] = (answer.status_code, _without_token_and_email(page, email))
            assert answers["known@example.com"] == answers["unknown@example.com"]
            assert sent == ["known@example.com"]
    finally:
        security.recoverable = False  # Flask-Security keeps it on its shared instance


def test_parallel_wrong_codes_are_checked_one_at_a_time(postgres):
    """A burst of guesses sent at once, each in its own request and connection, is counted
    as a sequence: the run ends after three wrong codes, and the rest are not checked."""
    with _own_app(postgres, "catalog_sign_in_burst") as app:
        with app.app_context():
            secret = security.totp_factory.generate_totp_secret()
        committed_user(
            app, "viewer", "burst@example.com", tf_primary_method="authenticator",
            tf_totp_secret=secret,
        )  # fmt: skip
        first = app.test_client()
        assert _password_step(first, SimpleNamespace(email="burst@example.com")).status_code == 302
        token = csrf_token(first.get("/tf-validate"))
        cookie = first.get_cookie("session").value
        wrong = _wrong(totp_code(app, secret))
        guesses = 12
        start = threading.Barrier(guesses)
        statuses: list[int] = []

        def guess() -> None:
            client = app.test_client()
            client.set_cookie("session", cookie)
            start.wait()
            response = client.post("/tf-validate", data={"code": wrong, "csrf_token": token})
            statuses.append(response.status_code)

        threads = [threading.Thread(target=guess) for _ in range(guesses)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(statuses) == guesses
        with app.app_context():
            recorded = db.session.execute(
                select(LoginAttempt.kind, LoginAttempt.succeeded).order_by(LoginAttempt.id)
            ).all()
        assert [tuple(row) for row in recorded] == [("password", True)] + [
            ("second_factor", False)
        ] * 3
        assert sorted(statuses) == [200, 200] + [302] * (guesses - 2)
