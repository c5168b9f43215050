"""Firebase sign-in, from a posted ID token to a signed-in session: checked like a
password (the address's and the account's throttle, one checked attempt per account at a
time, a login_attempts row of kind "firebase" either way), then Flask-Security's own steps:
its two-factor step (tf_enter) for a user with an authenticator app, else its login_user
(login tracking, session renewal, signals). Like the password hooks of
catalog.accounts.signin, it owns its transaction: an attempt is recorded whatever the
outcome. Every refusal says the same generic sentence; the reason goes to the log."""

import time

from flask import current_app, flash, redirect, session
from flask_security import login_user, url_for_security
from flask_security.tf_plugin import tf_clean_session
from flask_security.utils import get_url
from sqlalchemy import func, select

from catalog.accounts import firebase, firebase_service, signin
from catalog.extensions import db, security
from catalog.models.login_attempt import FIREBASE

REFUSED = "Firebase sign-in did not work. Use an account an administrator set up for you."
NOT_VERIFIED = "Firebase did not confirm it is you: sign in there with your own account."


def _refuse(email: str | None, reason: str):
    """A failed attempt: rolled back, recorded (it counts towards the throttle), logged,
    and answered with the one generic message."""
    db.session.rollback()
    signin.record_attempt(FIREBASE, email or "", succeeded=False)
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


def sign_in(token: str, next_loc: str | None):
    """The response to a posted ID token: the next step of a sign-in, or a refusal."""
    # A sign-in begins afresh, as at the password form: no half-done two-factor state.
    tf_clean_session()
    session.pop(signin.PENDING_KEY, None)
    address = signin.client_address()
    # Guessing tokens stops paying before any is checked (by the address: the account is
    # not known until the token is).
    if signin.throttled(None, address):
        return signin.too_many()
    try:
        identity = _verified(token)
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
    if signin.throttled(email or None, address):
        return signin.too_many()
    try:
        user = firebase_service.admit(user, identity)
    except firebase_service.FirebaseRefused as exc:
        return _refuse(email, exc.reason)
    attempt = signin.record_attempt(FIREBASE, email, succeeded=True)
    response = security.two_factor_plugins.tf_enter(user, False, "firebase", next_loc=next_loc)
    if response:
        # The code's step counts its wrong codes from here, as after a password.
        session[signin.PENDING_KEY] = attempt.id
        db.session.commit()
        return response
    login_user(user, remember=False, authn_via=["firebase"])
    db.session.commit()
    return redirect(next_loc or get_url(current_app.config["SECURITY_POST_LOGIN_VIEW"]))


def verify_again(user, token: str, next_loc: str | None):
    """Re-authentication of the signed-in `user` with a fresh ID token of the Firebase
    identity linked to them (what Flask-Security's /verify does with a password): their
    sign-in is fresh again, as Flask-Security records it. Any other token changes nothing."""
    try:
        identity = _verified(token)
    except firebase.InvalidToken as exc:
        return _not_verified(next_loc, str(exc))
    if not user.firebase_uid or identity.uid != user.firebase_uid:
        return _not_verified(next_loc, "the token is of another identity")
    session["fs_paa"] = time.time()  # Flask-Security's "primary authentication at"
    return redirect(next_loc or get_url(current_app.config["SECURITY_POST_VERIFY_VIEW"]))


def _not_verified(next_loc: str | None, reason: str):
    current_app.logger.info("Firebase re-authentication refused: %s", reason)
    flash(NOT_VERIFIED, "error")
    return redirect(url_for_security("verify", next=next_loc))
