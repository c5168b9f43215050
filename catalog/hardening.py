"""What an internet-facing admin tool needs beyond sign-in, and Flask-Security leaves open by
default: security headers, session renewal and revocation, sign-in throttling (its rules in
catalog.signin), a two-factor requirement for admins, a clean 503 when the database is away,
and a health check."""

from contextlib import suppress

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
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import Conflict
from werkzeug.middleware.proxy_fix import ProxyFix

from catalog import config as settings
from catalog import signin
from catalog.extensions import csrf, db, security
from catalog.web import db_retry

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
    signin.init_app(app)
    app.before_request(require_two_factor_for_admins)
    user_authenticated.connect(renew_session, app)
    user_logged_out.connect(revoke_sessions, app)
    app.before_request(refuse_nul_characters)
    app.register_error_handler(OperationalError, database_error)
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
    if response.mimetype == "text/html" or (
        request.blueprint == "security" and request.endpoint != "security.static"
    ):
        # Pages carry catalog data; a shared machine's back button should not show them.
        # Sign-in, two-factor and password answers (JSON ones too) carry secrets: a TOTP
        # key and its QR code, a password typed back, an authentication token.
        headers.setdefault("Cache-Control", "no-store")
    return response


# -- sessions -------------------------------------------------------------------------------
def renew_session(app: Flask, user, **kwargs) -> None:
    """A new session at sign-in: keep only the sign-in itself; the CSRF secret is renewed.
    Then the owner hears of wrong second-factor codes (flashed after the renewal, which
    would otherwise drop the message)."""
    kept = {key: session[key] for key in SIGN_IN_KEYS if key in session}
    session.clear()
    session.update(kept)
    signin.notify_failed_codes(user)


def revoke_sessions(app: Flask, user, **kwargs) -> None:
    """Signing out ends every session of the user: a cookie captured earlier, here or on
    another device, no longer names a valid user."""
    if user is not None and getattr(user, "fs_uniquifier", None):
        security.datastore.set_uniquifier(user)
        db.session.commit()


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
        return redirect(url_for("security.two_factor_setup"))
    return None


# -- availability ---------------------------------------------------------------------------
CONFLICT_MESSAGE = (
    "Your change met other changes being saved at the same moment, and could not be "
    "completed. Nothing you sent was saved; please try again."
)


def database_error(error: OperationalError):
    """An OperationalError is not always an outage: tell people what happened."""
    kind = db_retry.kind(error)
    if kind == "unavailable":
        return database_unavailable(error)
    with suppress(DBAPIError):
        db.session.rollback()
    if kind == "conflict":
        # Lost a race with other transactions even after the retries (catalog.web.db_retry).
        current_app.logger.warning("Transaction conflict after retries: %s", error.orig)
        if request.accept_mimetypes.best == "application/json":
            return jsonify(status="conflict", error=CONFLICT_MESSAGE), 409
        return render_template("errors/error.html", error=Conflict(CONFLICT_MESSAGE)), 409
    # A real failure (a statement cancelled, out of resources …): a server error, logged.
    current_app.logger.exception("Database error")
    return render_template("errors/error.html", error=None), 500


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
