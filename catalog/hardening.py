"""What an internet-facing admin tool needs beyond sign-in, and Flask-Security leaves open by
default: security headers, session renewal and revocation, sign-in throttling, a two-factor
requirement for admins, a clean 503 when the database is away, and a health check."""

from contextlib import suppress
from datetime import UTC, datetime, timedelta

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_login import user_logged_out
from flask_security import current_user, user_authenticated
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from catalog import config as settings
from catalog.extensions import csrf, db, security
from catalog.models import LoginAttempt

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # Bootstrap's form icons and the TOTP QR code are data: URIs
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
# What survives the renewal of a session at sign-in: Flask-Login's and Flask-Security's keys
# for the sign-in that has just happened. Everything planted before it goes.
SIGN_IN_KEYS = ("_user_id", "_fresh", "_id", "fs_cc", "fs_paa", "fs_gexp", "identity.id")
# Endpoints an admin without two-factor may still reach: the set-up itself and the way out.
TWO_FACTOR_SETUP_ENDPOINTS = {
    "security.two_factor_setup",
    "security.two_factor_setup_validate",
    "security.logout",
    "security.static",
    "static",
    "health",
}


class SessionInterface(SecureCookieSessionInterface):
    """Session cookies are Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)


def init_app(app: Flask) -> None:
    refuse_development_secrets(app)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.session_interface = SessionInterface()
    app.after_request(security_headers)
    app.before_request(throttle_sign_in)
    app.after_request(record_sign_in)
    app.before_request(require_two_factor_for_admins)
    user_authenticated.connect(renew_session, app)
    user_logged_out.connect(revoke_sessions, app)
    app.before_request(refuse_nul_characters)
    app.register_error_handler(OperationalError, database_unavailable)
    app.add_url_rule("/health", "health", health)
    csrf.exempt(health)


def refuse_development_secrets(app: Flask) -> None:
    """In production, starting with the development secrets would be a silent disaster."""
    if app.config["CATALOG_ENV"] != "production":
        return
    weak = [
        name
        for name, dev_value in (
            ("SECRET_KEY", settings.DEV_SECRET_KEY),
            ("SECURITY_PASSWORD_SALT", settings.DEV_PASSWORD_SALT),
        )
        if app.config.get(name) in (dev_value, "", None)
    ]
    if settings.DEV_TOTP_SECRET in app.config["SECURITY_TOTP_SECRETS"].values():
        weak.append("SECURITY_TOTP_SECRET")
    if weak:
        raise RuntimeError(
            "Refusing to start in production with development secrets: set "
            + ", ".join(weak)
            + " in the environment."
        )


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if response.mimetype == "text/html":
        # Pages carry catalog data; a shared machine's back button should not show them.
        headers.setdefault("Cache-Control", "no-store")
    return response


# -- sessions -------------------------------------------------------------------------------
def renew_session(app: Flask, user, **kwargs) -> None:
    """A new session at sign-in: keep only the sign-in itself; the CSRF secret is renewed."""
    kept = {key: session[key] for key in SIGN_IN_KEYS if key in session}
    session.clear()
    session.update(kept)


def revoke_sessions(app: Flask, user, **kwargs) -> None:
    """Signing out ends every session of the user: a cookie captured earlier, here or on
    another device, no longer names a valid user."""
    if user is not None and getattr(user, "fs_uniquifier", None):
        security.datastore.set_uniquifier(user)
        db.session.commit()


# -- sign-in throttling ---------------------------------------------------------------------
def _client_address() -> str:
    return (request.remote_addr or "unknown")[:64]


def _attempted_email() -> str:
    return (request.form.get("email") or "").strip().lower()[:255]


def _recent_failures(column, value: str, window: timedelta) -> int:
    since = datetime.now(UTC) - window
    return db.session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at > since
        )
    )


def throttle_sign_in():
    """Too many recent failures for this account or from this address: 429, before the
    password is even checked, so that guessing stops paying."""
    if request.endpoint != "security.login" or request.method != "POST":
        return None
    config = current_app.config
    window = timedelta(minutes=config["SIGN_IN_WINDOW_MINUTES"])
    email, address = _attempted_email(), _client_address()
    failed = LoginAttempt.succeeded.is_(False) & (
        LoginAttempt.attempted_at > datetime.now(UTC) - window
    )
    by_account, by_address = db.session.execute(
        select(
            func.count().filter(LoginAttempt.email == email),
            func.count().filter(LoginAttempt.ip == address),
        ).where(failed, (LoginAttempt.email == email) | (LoginAttempt.ip == address))
    ).one()
    if (
        by_account < config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT"]
        and by_address < config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"]
    ):
        return None
    g.sign_in_throttled = True
    minutes = config["SIGN_IN_WINDOW_MINUTES"]
    error = TooManyRequests(
        f"Too many failed sign-ins. For your protection, sign-in is paused; "
        f"please try again in {minutes} minutes."
    )
    headers = {"Retry-After": str(minutes * 60)}
    return render_template("errors/error.html", error=error), 429, headers


def record_sign_in(response: Response) -> Response:
    """Every sign-in attempt is recorded; a form sent back (not a redirect) is a failure."""
    if (
        request.endpoint == "security.login"
        and request.method == "POST"
        and not g.get("sign_in_throttled")
        and not g.get("database_unavailable")
    ):
        db.session.add(
            LoginAttempt(
                email=_attempted_email(),
                ip=_client_address(),
                succeeded=response.status_code in (302, 303),
            )
        )
        db.session.commit()
    return response


def refuse_nul_characters():
    """PostgreSQL text cannot hold NUL: refuse it up front with a 400, not a 500 later."""
    values = [request.path, *request.args.values(), *request.form.values()]
    if any("\x00" in value for value in values):
        abort(400, "Text may not contain NUL characters.")


# -- two-factor -----------------------------------------------------------------------------
def require_two_factor_for_admins():
    if (
        current_user.is_authenticated
        and request.endpoint not in TWO_FACTOR_SETUP_ENDPOINTS
        and current_user.is_admin
        and not current_user.tf_primary_method
    ):
        flash(
            "Admins sign in with a second factor. Please set up your authenticator app now.",
            "warning",
        )
        # Where they were going, so the set-up ends there (catalog/accounts/views.py).
        going_to = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("security.two_factor_setup", next=going_to))
    return None


# -- availability ---------------------------------------------------------------------------
def database_unavailable(error: Exception):
    """The database is away: say so quickly; the pool reconnects by itself when it is back."""
    g.database_unavailable = True
    # Rendering asks Flask-Login for the user, which would ask the database again.
    g._login_user = security.login_manager.anonymous_user()
    with suppress(DBAPIError):
        db.session.rollback()
    if request.path == "/health" or request.accept_mimetypes.best == "application/json":
        return jsonify(status="unavailable", database="unreachable"), 503
    return render_template("errors/unavailable.html", minimal=True), 503


def health():
    """For load balancers: no sign-in, no data, only whether the database answers."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok", database="ok")
