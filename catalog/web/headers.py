"""What every response and request gets that Flask-Security leaves open by default: security
headers, Secure session cookies over HTTPS, client addresses through trusted proxies, and the
refusal of NUL characters. (Sign-in throttling, session renewal and the admins' two-factor
requirement are in catalog.accounts; the database's error pages and the health check in
catalog.web.error_pages.)"""

import re

from flask import Flask, Response, abort, g, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from catalog.extensions import security

MEDIA_SRC = "media-src 'self' https:"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Bootstrap's form icons and the TOTP QR code are data: URIs; https: for the previews
        # of a production task's results (images, audio, video), which live on the
        # pipeline's file storage. Only https: (an http file on an https page is mixed
        # content), and the task page shows previews only for https links.
        "img-src 'self' data: https:",
        MEDIA_SRC,
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)


def policy_with_media_from(origin: str) -> str:
    """The policy of a page whose player loads its file from `origin` as well (an S3
    bucket's presigned URL, which may be plain http on a local S3-compatible store)."""
    return CONTENT_SECURITY_POLICY.replace(MEDIA_SRC, f"{MEDIA_SRC} {origin}")


# What the Firebase JavaScript SDK reaches when someone signs in with it (the sign-in page
# alone, catalog/accounts/firebase_views.py): Google's script loader for the popup's helper
# frame, that frame on the project's auth domain, and the two APIs it calls.
FIREBASE_SCRIPTS = "https://apis.google.com"
HOST = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]+)?")
FIREBASE_APIS = "https://identitytoolkit.googleapis.com https://securetoken.googleapis.com"


def policy_with_firebase(auth_domain: str) -> str:
    """The policy of the sign-in page when it offers Firebase sign-in."""
    if not HOST.fullmatch(auth_domain):  # a setting, but it goes into a header
        raise ValueError(f"not a host name: {auth_domain!r}")
    return (
        CONTENT_SECURITY_POLICY.replace(
            "script-src 'self'", f"script-src 'self' {FIREBASE_SCRIPTS}"
        )
        .replace("connect-src 'self'", f"connect-src 'self' {FIREBASE_APIS}")
        .replace("form-action 'self'", f"frame-src https://{auth_domain}; form-action 'self'")
    )


# Token-authenticated JSON APIs (catalog.production.api, catalog.library.api): no session
# there, and nobody signed in.
API_PREFIX = "/api/"


class SessionInterface(SecureCookieSessionInterface):
    """Session cookies are Secure whenever the request came over HTTPS. On the JSON APIs
    the session cookie is neither read nor set: a token authenticates each call, and a
    cookie sent along (a browser's) must not count for anything there."""

    def open_session(self, app: Flask, request):
        if request.path.startswith(API_PREFIX):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        if request.path.startswith(API_PREFIX):
            return
        super().save_session(app, session, response)

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)


def init_app(app: Flask) -> None:
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.session_interface = SessionInterface()
    # Before the sign-in's hooks (catalog.accounts), which ask for the user.
    app.before_request(no_user_on_apis)
    app.after_request(security_headers)


def no_user_on_apis() -> None:
    """On the APIs, nobody is signed in whatever cookies come along: any hook that asks
    Flask-Login for the user gets the anonymous one instead of loading one from a cookie
    (a remember-me cookie included)."""
    if request.path.startswith(API_PREFIX):
        g._login_user = security.login_manager.anonymous_user()


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if response.mimetype == "text/html" or (
        request.blueprint == "security" and request.endpoint != "security.static"
    ):
        # Pages carry catalog data; a shared machine's back button should not show them.
        # Sign-in, two-factor and password answers (JSON ones too) carry secrets: a TOTP
        # key and its QR code, a password typed back, an authentication token.
        headers.setdefault("Cache-Control", "no-store")
    return response


def refuse_nul_characters():
    """PostgreSQL text cannot hold NUL: refuse it up front with a 400, not a 500 later."""
    values = [request.path, *request.args.values(), *request.form.values()]
    if any("\x00" in value for value in values):
        abort(400, "Text may not contain NUL characters.")
