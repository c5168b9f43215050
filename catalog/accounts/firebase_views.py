"""Firebase sign-in: the sign-in page's POST of an ID token, and the admins' pages that
unlink a Firebase identity and turn a user's password sign-in off or on.

The sign-in itself (throttle, checks, Flask-Security's steps) is
catalog.accounts.firebase_sign_in_flow's: like the password hooks, it owns its transaction."""

from flask import abort, current_app, redirect, request
from flask_security import auth_required, current_user
from flask_security.utils import get_url
from flask_wtf import FlaskForm
from wtforms import HiddenField

from catalog.accounts import bp, firebase_service, firebase_sign_in_flow
from catalog.accounts.views import confirm_user_action, get_user, local_path
from catalog.permissions import Permission, require, signed_in_user
from catalog.web import headers


class FirebaseSignInForm(FlaskForm):
    id_token = HiddenField()


def enabled() -> bool:
    return bool(current_app.config["FIREBASE_PROJECT_ID"])


@bp.post("/sign-in/firebase")
def firebase_sign_in():
    """Public: the token is the credential. Off (404) unless FIREBASE_PROJECT_ID is set."""
    if not enabled():
        abort(404)
    if current_user.is_authenticated:
        return redirect(get_url(current_app.config["SECURITY_POST_LOGIN_VIEW"]))
    return firebase_sign_in_flow.sign_in(*_posted_token())


@bp.post("/verify/firebase")
@auth_required("session")
def firebase_verify():
    """Re-authentication with Firebase, offered on Flask-Security's /verify (asked before
    sensitive pages once the sign-in is older than SECURITY_FRESHNESS) to users linked to a
    Firebase identity: for those whose password sign-in is off, the only way there."""
    if not enabled():
        abort(404)
    return firebase_sign_in_flow.verify_again(signed_in_user(), *_posted_token())


def _posted_token() -> tuple[str, str | None]:
    """The posted ID token and the local `next` to go to after it (None: off the site)."""
    form = FirebaseSignInForm()
    if not form.validate_on_submit():  # CSRF is checked before the view; this is belt and braces
        abort(400)
    next_loc = request.args.get("next", "")
    return form.id_token.data or "", next_loc if local_path(next_loc) else None


@bp.route("/accounts/users/<id:user_id>/unlink-firebase", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def unlink_firebase(user_id: int):
    user = get_user(user_id, lock=request.method == "POST")
    return confirm_user_action(
        user, "unlink_firebase", lambda: firebase_service.unlink(user, actor=signed_in_user()),
        f"The Firebase identity of {user.email} is unlinked.",
    )  # fmt: skip


@bp.route("/accounts/users/<id:user_id>/password-sign-in/off", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def password_sign_in_off(user_id: int):
    user = get_user(user_id, lock=request.method == "POST")
    return confirm_user_action(
        user, "password_sign_in_off",
        lambda: firebase_service.set_password_sign_in(user, False, actor=signed_in_user()),
        f"{user.email} can no longer sign in with a password, only with Firebase.",
    )  # fmt: skip


@bp.route("/accounts/users/<id:user_id>/password-sign-in/on", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def password_sign_in_on(user_id: int):
    user = get_user(user_id, lock=request.method == "POST")
    return confirm_user_action(
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
    """The sign-in and re-authentication pages alone may reach the hosts the Firebase SDK
    signs in through."""
    if (
        request.endpoint in ("security.login", "security.verify")
        and enabled()
        and response.mimetype == "text/html"
    ):
        response.headers["Content-Security-Policy"] = headers.policy_with_firebase(auth_domain())
    return response
