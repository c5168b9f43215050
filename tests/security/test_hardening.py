"""Each protection here is something Flask-Security leaves open by default; each test fails
without the code that closes it."""

import base64
import hmac
import re
import struct
import time
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

from catalog import create_app
from catalog.models import LoginAttempt
from tests.conftest import app_config
from tests.factories import UserFactory, VideoFactory
from tests.helpers import TEST_PASSWORD, csrf_token, sign_in, signed_in

HOSTILE_NEXT = [
    "https://evil.example", "http://evil.example/videos", "//evil.example", "///evil.example",
    "////evil.example", "\\\\evil.example", "\\/evil.example", "/\\evil.example",
    "https:evil.example", "http:/evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
    "https://localhost.evil.example", "https://evil.example@localhost",
    "https://localhost@evil.example", "//localhost@evil.example", "https://evil.example#@localhost",
    "https://evil.example?localhost", " //evil.example", "\t//evil.example", "\n//evil.example",
    "%2F%2Fevil.example", "/%2F/evil.example", "/%5Cevil.example", "//%65vil.example",
    "https://evil.example:443", "ftp://evil.example", "//evil.example/%2e%2e",
    "https://xn--80ak6aa92e.com", "/\t/evil.example",
]  # fmt: skip


def _location_is_on_site(location: str) -> bool:
    """Where a browser would go from the sign-in page: this host, over HTTP(S)."""
    target = urlsplit(urljoin("http://localhost/login", location.strip()))
    return (
        "\\" not in location and target.scheme in ("http", "https") and target.netloc == "localhost"
    )


def test_at_least_thirty_hostile_redirects_are_kept_on_site(client, db_session):
    assert len(HOSTILE_NEXT) >= 30
    for n, target in enumerate(HOSTILE_NEXT):
        user = UserFactory(roles=["viewer"])
        token = csrf_token(client.get("/login"))
        response = client.post(
            "/login", query_string={"next": target},
            environ_base={"REMOTE_ADDR": f"192.0.2.{n + 1}"},  # stay under the throttle
            data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token},
        )  # fmt: skip
        # Either the sign-in goes to a page of this site, or the bad target is refused.
        assert response.status_code in (200, 302), target
        if response.status_code == 302:
            assert _location_is_on_site(response.headers["Location"]), (target, response.headers)
            client.post("/logout", data={"csrf_token": csrf_token(client.get("/videos"))})


def test_security_headers_on_pages_and_error_pages(client, db_session, sign_in_as):
    sign_in_as("viewer")
    for url, status in (("/videos", 200), ("/no-such-page", 404), ("/login", 302)):
        response = client.get(url)
        assert response.status_code == status
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_hsts_and_secure_cookie_over_https(client, db_session):
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_pages_have_no_inline_script(client, db_session, sign_in_as):
    sign_in_as("admin")
    video = VideoFactory()
    for url in ("/login", "/videos", f"/videos/{video.video_id}", f"/videos/{video.video_id}/edit",
                "/audit", "/change", "/tf-setup"):  # fmt: skip
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"\son[a-z]+=", html), url


def test_sign_in_renews_the_session(client, db_session):
    user = UserFactory(roles=["viewer"])
    with client.session_transaction() as planted:
        planted["attacker_value"] = "planted"
    before = csrf_token(client.get("/login"))
    assert signed_in(sign_in(client, user))
    with client.session_transaction() as current:
        assert "attacker_value" not in current
    assert csrf_token(client.get("/videos")) != before


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_cookie_from_before_sign_out_is_refused(client, db_session, sign_in_as):
    sign_in_as("viewer")
    captured = _session_cookie(client)
    assert client.get("/videos").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/videos"))})
    client.set_cookie("session", captured)
    response = client.get("/videos")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_cookie_from_before_a_password_change_is_refused(app, db_session, sign_in_as):
    first = app.test_client()
    user = UserFactory(roles=["viewer"])
    assert signed_in(sign_in(first, user))
    other_device = app.test_client()
    assert signed_in(sign_in(other_device, user))
    new_password = "a much longer new passphrase 42"
    response = first.post("/change", data={
        "csrf_token": csrf_token(first.get("/change")), "password": TEST_PASSWORD,
        "new_password": new_password, "new_password_confirm": new_password,
    })  # fmt: skip
    assert response.status_code == 302
    assert other_device.get("/videos").status_code == 302  # the other session has ended
    assert first.get("/videos").status_code == 200  # the one that changed it goes on


def test_sign_out_needs_post(client, db_session, sign_in_as):
    sign_in_as("viewer")
    assert client.get("/logout").status_code == 405
    assert client.get("/videos").status_code == 200


def test_brute_force_per_account_is_throttled_and_recorded(client, db_session):
    user = UserFactory(roles=["viewer"])
    token = csrf_token(client.get("/login"))
    for _ in range(5):
        response = client.post(
            "/login", data={"email": user.email, "password": "wrong guess!", "csrf_token": token}
        )
        assert response.status_code == 200
    response = client.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    attempts = db_session.scalars(
        select(LoginAttempt).where(LoginAttempt.email == user.email)
    ).all()
    assert [a.succeeded for a in attempts] == [False] * 5


def test_brute_force_per_address_is_throttled(client, db_session):
    victim = UserFactory(roles=["viewer"])
    token = csrf_token(client.get("/login"))
    address = {"REMOTE_ADDR": "203.0.113.9"}
    for n in range(20):
        client.post(
            "/login",
            environ_base=address,
            data={"email": f"guess{n}@example.com", "password": "x" * 12, "csrf_token": token},
        )
    blocked = client.post(
        "/login",
        environ_base=address,
        data={"email": victim.email, "password": TEST_PASSWORD, "csrf_token": token},
    )
    assert blocked.status_code == 429
    elsewhere = client.post(
        "/login",
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
        data={"email": victim.email, "password": TEST_PASSWORD, "csrf_token": token},
    )
    assert elsewhere.status_code == 302


def test_admin_without_two_factor_is_sent_to_set_it_up(client, db_session):
    admin = UserFactory(roles=["admin"])
    assert signed_in(sign_in(client, admin))
    response = client.get("/videos?q=song")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/tf-setup?next=/videos?q%3Dsong")
    assert client.get("/tf-setup").status_code == 200


def _totp(base32_key: str, at: float | None = None) -> str:
    """RFC 6238 (30 s, 6 digits, SHA-1), as an authenticator app computes it."""
    key = base64.b32decode(base32_key.replace("-", "").upper())
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), "sha1").digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def test_admin_sets_up_an_authenticator_app_and_then_needs_its_code(app, db_session):
    client = app.test_client()
    admin = UserFactory(roles=["admin"])
    assert signed_in(sign_in(client, admin))
    page = client.post(
        "/tf-setup",
        data={"setup": "authenticator", "csrf_token": csrf_token(client.get("/tf-setup"))},
    )
    html = page.get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in html  # the QR code, allowed by the CSP
    key = re.search(r"<div>([A-Z2-7]{4}(?:-[A-Z2-7]{4})+)</div>", html).group(1)
    action = re.search(r'action="(/tf-(?:setup/|validate)[^"]*)"', html).group(1)
    done = client.post(
        action, data={"code": _totp(key), "csrf_token": csrf_token(client.get("/tf-setup"))}
    )
    assert done.status_code == 302
    assert client.get("/videos").status_code == 200
    db_session.expire_all()
    assert admin.tf_primary_method == "authenticator"

    client.post("/logout", data={"csrf_token": csrf_token(client.get("/videos"))})
    token = csrf_token(client.get("/login"))
    first_step = client.post(
        "/login", data={"email": admin.email, "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert "/tf-validate" in first_step.headers["Location"]
    assert client.get("/videos").status_code == 302  # the password alone does not sign in
    wrong = client.post(
        "/tf-validate",
        data={"code": "000000", "csrf_token": csrf_token(client.get("/tf-validate"))},
    )
    assert wrong.status_code == 200
    right = client.post(
        "/tf-validate",
        data={"code": _totp(key), "csrf_token": csrf_token(client.get("/tf-validate"))},
    )
    assert right.status_code == 302
    assert client.get("/videos").status_code == 200


def _set_up_authenticator(client, setup_url: str):
    """Choose the authenticator app on `setup_url` and send its first code: the response."""
    page = client.post(
        setup_url,
        data={"setup": "authenticator", "csrf_token": csrf_token(client.get("/tf-setup"))},
    )
    html = page.get_data(as_text=True)
    key = re.search(r"<div>([A-Z2-7]{4}(?:-[A-Z2-7]{4})+)</div>", html).group(1)
    action = re.search(r'action="(/tf-(?:setup/|validate)[^"]*)"', html).group(1)
    return client.post(
        action.replace("&amp;", "&"),
        data={"code": _totp(key), "csrf_token": csrf_token(client.get("/tf-setup"))},
    )


def test_after_setting_up_two_factor_the_admin_lands_where_they_were_going(app, db_session):
    client = app.test_client()
    assert signed_in(sign_in(client, UserFactory(roles=["admin"])))
    sent = client.get("/audit?field=title").headers["Location"]
    setup = client.get(sent)
    assert setup.status_code == 200
    html = setup.get_data(as_text=True)
    assert '<nav class="navbar' in html  # the app's own layout and navigation
    assert "/static/css/app.css" in html
    done = _set_up_authenticator(client, sent)
    assert done.status_code == 302
    assert done.headers["Location"] == "/audit?field=title"
    assert client.get(done.headers["Location"]).status_code == 200


def test_a_foreign_next_after_two_factor_set_up_is_not_followed(app, db_session):
    client = app.test_client()
    assert signed_in(sign_in(client, UserFactory(roles=["admin"])))
    done = _set_up_authenticator(client, "/tf-setup?next=//evil.example.com/x")
    assert done.status_code == 302
    assert "evil" not in done.headers["Location"]


def test_friendly_error_pages_without_tracebacks(app, client, db_session, sign_in_as, monkeypatch):
    sign_in_as("viewer")
    assert "There is nothing here" in client.get("/nope").get_data(as_text=True)
    assert client.post("/videos").status_code in (400, 405)
    forbidden = client.get("/videos/new")
    assert forbidden.status_code == 403
    assert "Your role does not allow this" in forbidden.get_data(as_text=True)
    no_token = client.post("/videos/new", data={})
    assert no_token.status_code == 400
    assert "CSRF" in no_token.get_data(as_text=True)

    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    too_big = client.post("/videos/new", data={"notes": "x" * 5000})
    assert too_big.status_code == 413

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setitem(app.view_functions, "videos.index", broken)
    crash = client.get("/videos")
    assert crash.status_code == 500
    body = crash.get_data(as_text=True)
    assert "secret internals" not in body
    assert "Traceback" not in body
    assert "nothing was saved" in body


def test_extra_form_fields_change_nothing(client, db_session, sign_in_as):
    sign_in_as("editor")
    video = VideoFactory(title="Stable")
    original_id, original_pk = video.video_id, video.id
    token = csrf_token(client.get(f"/videos/{video.video_id}/edit"))
    response = client.post(f"/videos/{video.video_id}/edit", data={
        "csrf_token": token, "version": str(video.version), "title": "Stable",
        "id": "999999", "video_id": "HIJACKED123", "created_at": "2000-01-01",
        "search_text": "x", "hidden": "y",
    })  # fmt: skip
    assert response.status_code == 302
    db_session.expire_all()
    assert (video.id, video.video_id) == (original_pk, original_id)


ODD_REQUESTS = [
    ("/videos/%00", 400), ("/videos/" + "x" * 500, 404), ("/videos/1'or'1", 404),
    ("/audit?user=abc&from=notadate", 200), ("/videos?q=%00", 400), ("/videos?channel=1e9", 200),
    ("/videos?after=%FF%FE", 200), ("/audit?after=bogus", 200), ("/videos?size=-1&sort=x", 200),
]  # fmt: skip


@pytest.mark.parametrize(("path", "status"), ODD_REQUESTS)
def test_odd_ids_and_arguments_never_500(client, db_session, sign_in_as, path, status):
    sign_in_as("auditor")
    assert client.get(path).status_code == status


def test_production_refuses_development_secrets(postgres):
    url = postgres.url("catalog_test")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({**app_config(url), "CATALOG_ENV": "production",
                    "SECRET_KEY": "dev-only-secret-key-change-me"})  # fmt: skip
    app = create_app(
        {
            **app_config(url),
            "CATALOG_ENV": "production",
            "SECURITY_TOTP_SECRETS": {"1": "a-real-production-totp-secret-0987654321"},
        }
    )
    assert app.config["CATALOG_ENV"] == "production"


def test_htmx_requests_carry_the_csrf_token_in_a_header(client, db_session, sign_in_as):
    sign_in_as("editor")
    video = VideoFactory()
    token = csrf_token(client.get("/videos"))
    headers = {"X-CSRFToken": token, "HX-Request": "true"}
    response = client.post(f"/videos/{video.video_id}/delete", headers=headers)
    assert response.status_code == 302
    other = VideoFactory()
    assert (
        client.post(f"/videos/{other.video_id}/delete", headers={"HX-Request": "true"}).status_code
        == 400
    )
