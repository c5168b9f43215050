"""Firebase sign-in: the sign-in page's POST of an ID token, and the admins' pages that
unlink a Firebase identity and turn a user's password sign-in off or on.

The sign-in is Flask-Security's own from the verified identity on: its two-factor step
(tf_enter) for a user with an authenticator app, else its login_user (login tracking,
session renewal, signals); an admin without an app is then sent to set one up by the same
gate as after a password. Each checked token leaves a login_attempts row of kind "firebase",
so failures count towards the same throttle as passwords and codes. Every refusal says the
same generic sentence; the reason goes to the log."""

from flask import abort, current_app, flash, redirect, request, session
from flask_security import current_user, login_user, url_for_security
from flask_security.tf_plugin import tf_clean_session
from flask_security.utils import get_url
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import HiddenField

from catalog.accounts import bp, firebase, firebase_service, signin
from catalog.accounts.views import _confirm, _get_user, _local_path
from catalog.extensions import db, security
from catalog.models.login_attempt import FIREBASE
from catalog.permissions import Permission, require, signed_in_user
from catalog.web import headers

REFUSED = "Firebase sign-in did not work. Use an account an administrator set up for you."


class FirebaseSignInForm(FlaskForm):
    id_token = HiddenField()


def enabled() -> bool:
    return bool(current_app.config["FIREBASE_PROJECT_ID"])


def _refuse(email: str | None, reason: str):
    """A failed attempt: rolled back, recorded (it counts towards the throttle), logged,
    and answered with the one generic message."""
    db.session.rollback()
    signin._record(FIREBASE, email or "", succeeded=False)
    db.session.commit()
    current_app.logger.info("Firebase sign-in refused from %s: %s", signin.client_address(), reason)
    flash(REFUSED, "error")
    return redirect(url_for_security("login"))


def _verified(token: str) -> firebase.Identity:
    config = current_app.config
    return firebase.verify(
        token,
        project_id=config["FIREBASE_PROJECT_ID"],
        certs_url=config["FIREBASE_CERTS_URL"],
        max_auth_age=config["FIREBASE_MAX_AUTH_AGE"],
        refresh_seconds=config["FIREBASE_CERTS_REFRESH_SECONDS"],
    )


@bp.post("/sign-in/firebase")
def firebase_sign_in():
    """Public: the token is the credential. Off (404) unless FIREBASE_PROJECT_ID is set."""
    if not enabled():
        abort(404)
    if current_user.is_authenticated:
        return redirect(get_url(current_app.config["SECURITY_POST_LOGIN_VIEW"]))
    form = FirebaseSignInForm()
    if not form.validate_on_submit():  # CSRF is checked before the view; this is belt and braces
        abort(400)
    # A sign-in begins afresh, as at the password form: no half-done two-factor state.
    tf_clean_session()
    session.pop(signin.PENDING_KEY, None)
    address = signin.client_address()
    # Guessing tokens stops paying before any is checked (by the address: the account is
    # not known until the token is).
    if signin._throttled(None, address):
        return signin._too_many()
    try:
        identity = _verified(form.id_token.data or "")
    except firebase.InvalidToken as exc:
        return _refuse(None, str(exc))
    user = firebase_service.find_user(identity)
    # The account's attempts count under its email, with its passwords' and codes'.
    email = signin.normalized(user.email if user else identity.email)
    # One checked attempt per account at a time (as for passwords), then its own count.
    db.session.execute(select(func.pg_advisory_xact_lock(signin.LOCK_SPACE, func.hashtext(email))))
    if user is not None:  # as the attempt before, which held the lock, may have left it
        db.session.refresh(user)
    # An identity without a user or an email has no account to count under: its address's.
    if signin._throttled(email or None, address):
        return signin._too_many()
    try:
        user = firebase_service.admit(user, identity)
    except firebase_service.FirebaseRefused as exc:
        return _refuse(email, exc.reason)
    attempt = signin._record(FIREBASE, email, succeeded=True)
    next_loc = request.args.get("next", "")
    next_loc = next_loc if _local_path(next_loc) else None
    response = security.two_factor_plugins.tf_enter(user, False, "firebase", next_loc=next_loc)
    if response:
        # The code's step counts its wrong codes from here, as after a password.
        session[signin.PENDING_KEY] = attempt.id
        db.session.commit()
        return response
    login_user(user, remember=False, authn_via=["firebase"])
    db.session.commit()
    return redirect(next_loc or get_url(current_app.config["SECURITY_POST_LOGIN_VIEW"]))


@bp.route("/accounts/users/<id:user_id>/unlink-firebase", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def unlink_firebase(user_id: int):
    user = _get_user(user_id, lock=request.method == "POST")
    return _confirm(
        user, "unlink_firebase", lambda: firebase_service.unlink(user, actor=signed_in_user()),
        f"The Firebase identity of {user.email} is unlinked.",
    )  # fmt: skip


@bp.route("/accounts/users/<id:user_id>/password-sign-in/off", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def password_sign_in_off(user_id: int):
    user = _get_user(user_id, lock=request.method == "POST")
    return _confirm(
        user, "password_sign_in_off",
        lambda: firebase_service.set_password_sign_in(user, False, actor=signed_in_user()),
        f"{user.email} can no longer sign in with a password, only with Firebase.",
    )  # fmt: skip


@bp.route("/accounts/users/<id:user_id>/password-sign-in/on", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def password_sign_in_on(user_id: int):
    user = _get_user(user_id, lock=request.method == "POST")
    return _confirm(
        user, "password_sign_in_on",
        lambda: firebase_service.set_password_sign_in(user, True, actor=signed_in_user()),
        f"{user.email} can sign in with a password again.",
    )  # fmt: skip


@bp.app_template_global("firebase_auth_domain")
def auth_domain() -> str:
    """The domain of the project's sign-in helper (the popup's and its iframe's host)."""
    config = current_app.config
    return config["FIREBASE_AUTH_DOMAIN"] or f"{config['FIREBASE_PROJECT_ID']}.firebaseapp.com"


@bp.after_app_request
def allow_firebase_on_sign_in_page(response):
    """The sign-in page alone may reach the hosts the Firebase SDK signs in through."""
    if request.endpoint == "security.login" and enabled() and response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = headers.policy_with_firebase(auth_domain())
    return response
