"""Sessions around a sign-in: a new session when one succeeds (nothing planted before it
survives), and signing out ends every session of the user."""

from flask import Flask, session
from flask_login import user_logged_out
from flask_security import user_authenticated

from catalog.accounts import identity, signin
from catalog.extensions import db, security

# What survives the renewal of a session at sign-in: Flask-Login's and Flask-Security's keys
# for the sign-in that has just happened. Everything planted before it goes.
SIGN_IN_KEYS = (
    "_user_id", "_fresh", "_id", "fs_cc", "fs_paa", "fs_gexp", "identity.id",
    identity.ROLES_KEY,  # the signed-in user's roles, carried (catalog/accounts/identity.py)
)  # fmt: skip


def init_app(app: Flask) -> None:
    user_authenticated.connect(renew_session, app)
    user_logged_out.connect(revoke_sessions, app)


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
