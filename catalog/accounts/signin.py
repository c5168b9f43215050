"""Sign-in attempts: what is recorded, what is throttled, the guard of the second factor, and
the admins' duty to have one.

Each step of a sign-in that checks a credential leaves a row in login_attempts: kind
"password" for the form at /login, "second_factor" for the code at /tf-validate. Recent
failures of either kind, per account and per address, pause both steps with a 429, so that
guessing the six digits of an authenticator app costs as much as guessing a password. A run
of wrong codes also ends the half-signed-in session: the password has to be entered again.
The rows live in PostgreSQL, so every web process sees the same counts, and a replayed
session cookie cannot reset them.
"""

from datetime import UTC, datetime, timedelta

from flask import (
    Flask,
    Response,
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
from flask_security import LoginForm, VerifyForm, current_user, user_failed_authn
from flask_security.tf_plugin import tf_clean_session
from flask_security.utils import get_message, get_url, validate_redirect_url
from sqlalchemy import false, func, select
from werkzeug.exceptions import TooManyRequests

from catalog.extensions import db, security
from catalog.models import LoginAttempt
from catalog.models.login_attempt import FIREBASE, PASSWORD, SECOND_FACTOR
from catalog.web.text import plural

CODE_ENDPOINT = "security.two_factor_token_validation"
# The login_attempts row (its id) of the password step that began the half-signed-in
# session: a run of wrong codes is counted from it, on the server.
PENDING_KEY = "sign_in_password_attempt"
# The first key ("SI") of the advisory locks that serialize the attempts of one account.
LOCK_SPACE = 0x5349
# Endpoints an admin without two-factor may still reach: the set-up itself and the way out.
TWO_FACTOR_SETUP_ENDPOINTS = {
    "security.two_factor_setup",
    "security.two_factor_setup_validate",
    "security.logout",
    "security.static",
    "static",
    "health",
}
TWO_FACTOR_PAGES = {
    CODE_ENDPOINT,
    "security.two_factor_setup",
    "security.two_factor_rescue",
    "security.tf_select",
}


class SignInForm(LoginForm):
    """Flask-Security's sign-in form, telling the app whether a credential was checked."""

    def validate_next(self, field) -> None:
        # A `next` off the site is dropped rather than refused: refused, a right password
        # was never checked and counted as a failed sign-in. Flask-Security validates the
        # target again wherever it redirects, so the user lands on the start page.
        if field.data and not validate_redirect_url(field.data):
            field.data = ""

    def validate(self, **kwargs) -> bool:
        valid = super().validate(**kwargs)
        if valid and not self.user.password_sign_in:
            # Turned off by an admin (the user signs in with Firebase only): refused like a
            # wrong password, after the same work, so the answer tells nothing.
            self.password.errors.append(get_message("GENERIC_AUTHN_FAILED")[0])
            valid = False
        elif valid:
            self.user.auth_method = PASSWORD
        # ifield is set once the form was well-formed and the account was looked up, that
        # is once a password was checked (a dummy one when the account does not exist);
        # a right password of a deactivated account is no success.
        if self.ifield is not None:
            g.sign_in_outcome = valid
        return valid


class VerifyPasswordForm(VerifyForm):
    """Flask-Security's re-authentication (/verify), refusing the password of a user whose
    password sign-in an admin turned off: what does not sign them in does not make their
    sign-in fresh either (they verify with Firebase, catalog/accounts/firebase_views.py)."""

    def validate(self, **kwargs) -> bool:
        valid = super().validate(**kwargs)
        if valid and not self.user.password_sign_in:
            self.password.errors.append(get_message("INVALID_PASSWORD")[0])
            return False
        return valid


def init_app(app: Flask) -> None:
    app.before_request(guard_two_factor_pages)
    app.before_request(throttle_sign_in)
    app.before_request(refuse_ended_run)
    app.after_request(record_sign_in)
    app.after_request(record_second_factor)
    user_failed_authn.connect(_note_failed_code, app)
    # The admins' gate runs after the sign-in's own checks, as it always has.
    app.before_request(require_two_factor_for_admins)


# -- keys and counts --------------------------------------------------------------------------
def client_address() -> str:
    return (request.remote_addr or "unknown")[:64]


def normalized(email: str | None) -> str:
    return (email or "").strip().lower()[:255]


def attempted_email() -> str:
    """The email a sign-in was attempted with, sent as a form or (by API clients) as JSON."""
    if request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
        return normalized(email if isinstance(email, str) else None)
    return normalized(request.form.get("email"))


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["SIGN_IN_WINDOW_MINUTES"])


def throttled(email: str | None, address: str) -> bool:
    """Too many recent failures (of any kind) for this account or from this address; by
    the address alone when the account is not known yet (`email` None)."""
    config = current_app.config
    failed = LoginAttempt.succeeded.is_(False) & (
        LoginAttempt.attempted_at > datetime.now(UTC) - _window()
    )
    same_account = LoginAttempt.email == email if email is not None else false()
    by_account, by_address = db.session.execute(
        select(
            func.count().filter(same_account),
            func.count().filter(LoginAttempt.ip == address),
        ).where(failed, same_account | (LoginAttempt.ip == address))
    ).one()
    return (
        by_account >= config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT"]
        or by_address >= config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"]
    )


def too_many():
    g.sign_in_throttled = True
    minutes = current_app.config["SIGN_IN_WINDOW_MINUTES"]
    message = (
        "Too many failed sign-ins. For your protection, sign-in is paused; "
        f"please try again in {minutes} minutes."
    )
    headers = {"Retry-After": str(minutes * 60)}
    if request.is_json:
        return jsonify(error=message), 429, headers
    error = TooManyRequests(message)
    return render_template("errors/error.html", error=error), 429, headers


def record_attempt(kind: str, email: str, succeeded: bool) -> LoginAttempt:
    attempt = LoginAttempt(kind=kind, email=email, ip=client_address(), succeeded=succeeded)
    db.session.add(attempt)
    db.session.flush()
    return attempt


# -- the password step ------------------------------------------------------------------------
def throttle_sign_in():
    """Paused before anything is checked, so that guessing stops paying: the password at
    /login, and the code at /tf-validate (where even the right code waits for the window)."""
    if request.method != "POST" or g.get("database_unavailable"):
        return None
    if request.endpoint == "security.login":
        email = attempted_email()
    elif request.endpoint == CODE_ENDPOINT and (user := _pending_user()) is not None:
        g.second_factor_user = user
        email = normalized(user.email)
    else:
        return None
    # One checked attempt per account at a time, until this request's transaction ends
    # (its row is committed by then): a burst of parallel guesses would otherwise all be
    # counted before any of them was recorded.
    db.session.execute(select(func.pg_advisory_xact_lock(LOCK_SPACE, func.hashtext(email))))
    return too_many() if throttled(email, client_address()) else None


def record_sign_in(response: Response) -> Response:
    """A checked password leaves its row, with the email sent and its real outcome; a form
    refused before any password was checked (malformed email, missing field) leaves none."""
    if (
        request.endpoint != "security.login"
        or request.method != "POST"
        or "sign_in_outcome" not in g
        or g.get("database_unavailable")
    ):
        return response
    attempt = record_attempt(PASSWORD, attempted_email(), g.sign_in_outcome)
    if g.sign_in_outcome and session.get("tf_state") == "ready":
        session[PENDING_KEY] = attempt.id  # the code's step begins here
    db.session.commit()
    return response


# -- the code step ----------------------------------------------------------------------------
def _pending_user():
    """The user of a half-signed-in session waiting for its code, if this is one."""
    if current_user.is_authenticated or session.get("tf_state") != "ready":
        return None
    uniquifier = session.get("tf_user_id")
    if not uniquifier:
        return None
    return security.datastore.find_user(fs_uniquifier=uniquifier)


def _note_failed_code(app: Flask, user, tfa: bool = False, **kwargs) -> None:
    if tfa:
        g.second_factor_failed = True


def _failures_in_this_run(user) -> int:
    """Wrong codes for the account since the password step of this session (a session
    without that step counts as over)."""
    started = session.get(PENDING_KEY)
    if not isinstance(started, int):
        return current_app.config["SIGN_IN_MAX_SECOND_FACTOR_FAILURES"]
    return db.session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.kind == SECOND_FACTOR,
            LoginAttempt.email == normalized(user.email),
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.id > started,
        )
    )


def _end_half_sign_in():
    tf_clean_session()
    session.pop(PENDING_KEY, None)
    message = "Too many wrong codes. For your protection, please sign in again."
    if request.is_json:
        return jsonify(error=message), 401
    flash(message, "warning")
    return redirect(url_for("security.login"))


def record_second_factor(response: Response) -> Response:
    """A checked code leaves its row; the run's last wrong code ends the half sign-in."""
    user = g.get("second_factor_user")
    if (
        user is None
        or request.endpoint != CODE_ENDPOINT
        or g.get("sign_in_throttled")
        or g.get("database_unavailable")
    ):
        return response
    if current_user.is_authenticated:
        succeeded = True
    elif g.get("second_factor_failed"):
        succeeded = False
    else:
        return response  # no code was checked (an empty or malformed form)
    record_attempt(SECOND_FACTOR, normalized(user.email), succeeded)
    ended = (
        not succeeded
        and _failures_in_this_run(user) >= current_app.config["SIGN_IN_MAX_SECOND_FACTOR_FAILURES"]
    )
    if succeeded:
        session.pop(PENDING_KEY, None)
    db.session.commit()
    if ended:
        return current_app.make_response(_end_half_sign_in())
    return response


def refuse_ended_run():
    """A code sent in a half-signed-in session whose run of wrong codes is over (say, with a
    session cookie saved before it ended) is not checked."""
    user = g.get("second_factor_user")
    if user is None or g.get("sign_in_throttled"):
        return None
    if _failures_in_this_run(user) >= current_app.config["SIGN_IN_MAX_SECOND_FACTOR_FAILURES"]:
        return _end_half_sign_in()
    return None


# -- pages that must not change state on GET --------------------------------------------------
def _page_has_its_state() -> bool:
    """Whether Flask-Security's view would show the page rather than clear the two-factor
    state (and, for a signed-in user at /tf-validate, sign them out everywhere)."""
    state, has_user = session.get("tf_state"), bool(session.get("tf_user_id"))
    new_method = bool(session.get("tf_primary_method") and session.get("tf_totp_secret"))
    signed_in = current_user.is_authenticated
    match request.endpoint:
        case "security.two_factor_token_validation":
            if signed_in:
                return state == "validating_profile" and new_method
            return has_user and (state == "ready" or (state == "validating_profile" and new_method))
        case "security.two_factor_setup":
            return signed_in or (has_user and state in ("setup_from_login", "validating_profile"))
        case "security.two_factor_rescue":
            return not signed_in and has_user and state == "ready"
        case "security.tf_select":
            return has_user and "tf_select" in session
    return True


def guard_two_factor_pages():
    """A GET never changes state. A two-factor page opened without a sign-in waiting for it
    (a link from another site, a bookmark, the back button) goes to the start page or the
    sign-in page and leaves the session alone; Flask-Security's own answer to that signs a
    signed-in user out and so ends all their sessions."""
    if request.endpoint not in TWO_FACTOR_PAGES or request.method not in ("GET", "HEAD"):
        return None
    if _page_has_its_state():
        return None
    if current_user.is_authenticated:
        return redirect(get_url(current_app.config["SECURITY_POST_LOGIN_VIEW"]))
    return redirect(url_for("security.login"))


# -- the notice at sign-in --------------------------------------------------------------------
def notify_failed_codes(user) -> None:
    """Tell the owner about wrong codes entered for their account since their last sign-in:
    someone who got past the password may be trying."""
    email = normalized(user.email)
    # The last sign-in is the last success of the step that completes one (it is recorded
    # after this request's own). Rows, not clocks: their ids order them.
    completing = (SECOND_FACTOR,) if user.tf_primary_method else (PASSWORD, FIREBASE)
    last_sign_in = db.session.scalar(
        select(func.max(LoginAttempt.id)).where(
            LoginAttempt.email == email,
            LoginAttempt.kind.in_(completing),
            LoginAttempt.succeeded.is_(True),
        )
    )
    conditions = [
        LoginAttempt.kind == SECOND_FACTOR,
        LoginAttempt.email == email,
        LoginAttempt.succeeded.is_(False),
        LoginAttempt.id > (last_sign_in or 0),
    ]
    count = db.session.scalar(select(func.count()).select_from(LoginAttempt).where(*conditions))
    if not count:
        return
    last_ip, last_at = db.session.execute(
        select(LoginAttempt.ip, LoginAttempt.attempted_at)
        .where(*conditions)
        .order_by(LoginAttempt.id.desc())
        .limit(1)
    ).one()
    when = last_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    flash(
        f"{plural(count, 'failed second-factor attempt')} since your last sign-in, "
        f"last from {last_ip or 'an unknown address'} at {when}. "
        "If that was not you, change your password.",
        "warning",
    )


# -- two-factor -----------------------------------------------------------------------------
def require_two_factor_for_admins():
    if request.endpoint == "static":  # the same for everyone: no user to read
        return None
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
